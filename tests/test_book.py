"""The built book: every chapter present, explorers static, plotly.js served locally."""

import json
import re

import yaml

from conftest import ROOT


def _chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]


def test_every_chapter_is_built(built_book):
    for name in _chapters():
        page = built_book / f"{name}.html"
        assert page.exists(), f"{name} was not built"
        assert "TODO" not in page.read_text(encoding="utf-8"), f"{name} has a TODO in the published text"


def test_plotly_js_comes_from_the_book_and_only_to_pages_with_figures(built_book):
    assert (built_book / "_static" / "plotly-cartesian.min.js").stat().st_size > 1_000_000
    pages_with_figures = 0
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"https?://[^\"]*plotly", html), f"{page.name} loads plotly from a CDN"
        assert "Plotly.newPlot" not in html, f"{page.name}: a figure script runs before the deferred plotly.js"
        plotly = re.search(r'<script defer="defer" src="[^"]*plotly-cartesian\.min\.js', html)
        if 'class="lrc-figure"' not in html:
            assert "plotly" not in html.split("</head>")[0], f"{page.name} loads plotly.js without a figure"
            continue
        pages_with_figures += 1
        drawer = html.find("lrcourse-figures.js")
        assert plotly and 0 < plotly.start() < drawer, f"{page.name}: plotly.js must load, deferred, before the figures"
    assert pages_with_figures >= 2


def test_no_dead_widgets_in_the_static_pages(built_book):
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget-view+json" not in html, f"{page.name} has a widget placeholder"
        assert "@jupyter-widgets/html-manager" not in html, f"{page.name} loads the widget manager from a CDN"


MAX_PAGE_BYTES = 3 * 2**20


def _pages(built_book):
    return [p for p in built_book.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts]


def test_every_page_is_light_enough_for_a_phone(built_book):
    for page in _pages(built_book):
        size = page.stat().st_size
        assert size <= MAX_PAGE_BYTES, f"{page.name} weighs {size / 2**20:.1f} MiB (at most 3 MiB)"


def test_every_internal_link_and_image_resolves(built_book):
    from bs4 import BeautifulSoup

    parsed = {}

    def parse(path):
        """(ids, references) of an HTML file, each file parsed once."""
        if path not in parsed:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            refs = [(a["href"], "link") for a in soup.find_all("a", href=True)]
            refs += [(img["src"], "image") for img in soup.find_all("img", src=True)]
            refs += [(s["src"], "script") for s in soup.find_all("script", src=True)]
            refs += [(l["href"], "stylesheet") for l in soup.find_all("link", href=True)
                     if "stylesheet" in l.get("rel", [])]
            parsed[path] = ({tag["id"] for tag in soup.find_all(id=True)}, refs)
        return parsed[path]

    checked = 0
    for page in _pages(built_book):
        for ref, kind in parse(page)[1]:
            if re.match(r"^[a-z]+:", ref) or ref.startswith("//"):
                continue  # external (http, mailto, ...): not fetched by the static book
            target, _, fragment = ref.split("?")[0].partition("#")
            path = (page.parent / target).resolve() if target else page
            assert path.exists(), f"{page.relative_to(built_book)}: {kind} {ref} does not exist"
            if fragment and path.suffix == ".html":
                assert fragment in parse(path)[0], f"{page.relative_to(built_book)}: {ref} has no #{fragment}"
            checked += 1
    assert checked > 50


def test_every_figure_says_what_it_shows(built_book):
    """Images need real alt text; plotly figures need a title (the build writes each figure as a
    JSON block that lrcourse-figures.js draws; a page may still hold a Plotly.newPlot call)."""
    from bs4 import BeautifulSoup, SoupStrainer

    titled = 0
    for page in _pages(built_book):
        html = page.read_text(encoding="utf-8")
        for img in BeautifulSoup(html, "html.parser", parse_only=SoupStrainer("img")).find_all("img"):
            alt = img.get("alt", "").strip()
            assert alt and not re.search(r"\.(png|jpe?g|svg|gif)$", alt), \
                f"{page.name}: image {img.get('src')} has no alt text (set it in the cell's metadata)"
        for layout in re.findall(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*\[.*?\],\s*(\{.*?\})\s*,\s*\{\"responsive\"", html, re.S):
            assert re.search(r'"title":\{[^}]*"text":"[^"]+', layout), f"{page.name}: a plotly figure has no title"
            titled += 1
        for block in re.findall(r'<script type="application/json" class="lrc-figure"[^>]*>(.*?)</script>', html, re.DOTALL):
            title = json.loads(block.replace("<\\!--", "<!--"))["layout"].get("title", {})
            assert (title.get("text") if isinstance(title, dict) else title), f"{page.name}: a plotly figure has no title"
            titled += 1
    assert titled >= 40


def _notebooks():
    return [ROOT / f"{name}.ipynb" for name in _chapters() if (ROOT / f"{name}.ipynb").exists()]


def test_every_notebook_installs_lrcourse_when_opened_in_colab():
    """Colab's launch button opens a chapter in a kernel without lrcourse: the first code cell
    installs it from the book's own repository there, and is hidden from the book."""
    import json

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    notebooks = _notebooks()
    assert len(notebooks) >= 8
    for path in notebooks:
        code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = code[0]
        source = "".join(first["source"])
        assert 'if "google.colab" in sys.modules:' in source, f"{path.name}: the first code cell is not the Colab set-up"
        assert f'%pip install --quiet "lrcourse @ git+{url}"' in source, \
            f"{path.name}: the Colab set-up must install from repository.url ({url}) of _config.yml"
        assert "remove-cell" in first["metadata"].get("tags", []), f"{path.name}: the Colab set-up is not hidden"
        assert first["outputs"] == [], f"{path.name}: the Colab set-up printed something outside Colab"
        assert not any("google.colab" in "".join(c["source"]) for c in code[1:])


def test_the_colab_set_up_is_not_in_the_published_pages(built_book):
    for page in _pages(built_book):
        assert "google.colab" not in page.read_text(encoding="utf-8"), f"{page.name} shows the Colab set-up"


def test_the_learning_path_lists_every_chapter():
    index = (ROOT / "book" / "index.md").read_text()
    for name in _chapters()[1:]:
        assert f"| {{doc}}`{name.removeprefix('book/')}` |" in index, f"book/index.md: no row for {name}"


RUN_ALL_HINT = "**Running this notebook?** Run all cells first"


def test_every_chapter_opens_with_a_run_all_hint_for_live_readers():
    """Right after the Colab set-up, a markdown line (hidden in the book) says to run all cells
    and about how long it takes; ``scripts/run_all_hint.py`` writes it from ``make bench``."""
    import json

    for path in _notebooks():
        cells = json.loads(path.read_text())["cells"]
        colab = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
        hint = cells[colab + 1] if colab + 1 < len(cells) else {}
        where = f"{path.name}: the cell after the Colab set-up"
        assert hint.get("id") == "run-all-hint" and hint.get("cell_type") == "markdown", \
            f"{where} is not the run-all hint (run: .venv/bin/python scripts/run_all_hint.py)"
        text = "".join(hint["source"])
        assert text.startswith(RUN_ALL_HINT) and "\n" not in text.strip(), f"{where}: not the one-line hint"
        assert re.search(r"in (a few seconds|about \d+ s|about \d+ minutes) on two CPU cores\.$", text), \
            f"{where} does not say how long the chapter takes: {text!r}"
        assert "remove-cell" in hint["metadata"].get("tags", []), f"{where}: the hint is not hidden in the book"


def test_the_run_all_hint_is_not_in_the_published_pages(built_book):
    for page in _pages(built_book):
        assert "Running this notebook?" not in page.read_text(encoding="utf-8"), f"{page.name} shows the run-all hint"
