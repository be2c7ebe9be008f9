"""The built book in a real browser (Debian's chromium, network blocked).

Every page loads without a JavaScript error and within its weight budget (issue #15), with its
math as MathML (no MathJax); axe-core finds no serious or critical violation in the course's
own content; every figure has an accessible name; every explorer's static slider changes what
is drawn when dragged; and at 390 px no figure title, chapter list or printed output is cut.
On the desktop load each page is then toggled to dark mode, as the theme's button does: every
figure drops its light background and text colour (and follows the toggle back), and axe-core
checks the pages whose own HTML the dark CSS restyles. Each page is loaded once on a desktop
and once on a phone for all of these (a load draws every figure; loading a page once per check
took twice as long). tests/test_accessibility.py loads a page in dark mode from the start and
moves a slider from the keyboard.
"""

import dataclasses
import gzip
import io

import pytest
from PIL import Image

from conftest import HTML


pytestmark = pytest.mark.browser
SCREENSHOTS = HTML.parent / "screenshots"  # each chapter's first explorer, before and at 390 px


def _pages(built_book):
    skip = {"genindex.html", "search.html"}
    return sorted(p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


THEME_SCRIPTS = "/_static/scripts/"  # the pydata/book theme's bundles, not the project's code


def _ours(message) -> bool:
    """Console errors logged by the theme's own bundles (for instance its complaint about an
    unset colour mode) are not the project's; uncaught exceptions always count."""
    return THEME_SCRIPTS not in (message.location or {}).get("url", "")


def _open(browser, site, path, width=1200, responses=None, dark=False):
    context = browser.new_context(viewport={"width": width, "height": 900})
    errors, outside = [], []

    def only_the_book(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:  # the static book must work offline: every other request is blocked and recorded
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_book)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and _ours(msg) else None)
    if responses is not None:
        page.on("response", lambda response: responses.append(response))
    if dark:  # what the theme's toggle stores; the theme then sets data-theme="dark" on <html>
        page.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    page.goto(f"{site}/{path}", wait_until="networkidle" if responses is not None else "load")
    if page.evaluate("document.querySelectorAll('script.lrc-figure').length"):
        page.wait_for_function("document.documentElement.dataset.lrcFigures === 'drawn'", timeout=30000)
    return context, page, errors, outside


DRAWN = """el => Array.from(el.querySelectorAll('.scatterlayer .trace path.js-line, .scatterlayer .trace path.point'))
                .map(p => p.getAttribute('d')).join('|')"""


ACTIVE = "el => el._fullLayout.sliders[0].active"


# Violations left in the theme, not the course's content: rule -> (selector, why).
THEME_AXE_ALLOWED: dict[str, tuple[str, str]] = {
    "label-content-name-mismatch": (
        ".search-button-field", ("the theme's search button is labelled 'Search' but shows 'Search… Ctrl+K' "
                                 "(its search-button component's template; no configuration changes it)")),
}


# axe's experimental rule label-content-name-mismatch is on: myst-nb's "Toggle hidden content"
# summaries failed it (the build now removes that label). Every rule runs on every node; only the
# nodes of violations are reported (listing the thousands of passing nodes of a page of figures
# doubled axe's time).
AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}, "resultTypes": ["violations"]}


def _audit(axe, page, errors) -> list:
    """axe-core's serious findings on the open page. axe reads the page's stylesheets itself,
    and resolves the theme's ``@import "../basic.css"`` against the page instead of the
    stylesheet: the 404 it logs is axe's own request, not the page's, and is dropped from
    ``errors``."""
    before = len(errors)
    found = _serious(axe.run(page, options=AXE_OPTIONS).response["violations"])
    errors[before:] = [e for e in errors[before:] if not e.startswith("Failed to load resource")]
    return found


def _serious(violations):
    found = []
    for violation in violations:
        if violation["impact"] not in ("serious", "critical"):
            continue
        allowed = THEME_AXE_ALLOWED.get(violation["id"])
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            if not (allowed and allowed[0] in target):
                found.append(f"{violation['id']} at {target}")
    return found


# The pages whose own HTML (figures, the study guide) the dark CSS restyles: axe in dark mode too.
DARK_AXE_PAGES = ("book/index.html", "book/interview-guide.html", "book/what-is-the-learning-rate.html")
# Per figure: (does it have a role=img element, its aria-label, its plotly title).
FIGURE_NAMES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
    const image = plot.querySelector('[role=img]');
    return [image !== null, image && image.getAttribute('aria-label') || '',
            (plot.layout.title && plot.layout.title.text || '').replace(/<br>/g, ' ')];
})"""


MB = 1_000_000
LIGHT_PAGES = {"book/index.html": "the landing page", "book/interview-guide.html": "the study guide"}
LIGHT_PAGE_BYTES, CHAPTER_BYTES, CHAPTER_GZIP, CHAPTER_HTML = 1.5 * MB, 6 * MB, 2 * MB, 600_000
# Math is MathML written at build time (book/_ext/offline_assets.py): MathJax (1.2 MB with its
# fonts) made the study guide, with its 291 formulas, weigh 2.6 MB.
UNRENDERED_MATH = "document.body.innerText.includes('\\\\(') || document.body.innerText.includes('\\\\[')"


def _drag_every_slider(page, path, width) -> tuple[int, list[str]]:
    """Drag each static slider of the open page across its rail; (sliders dragged, problems)."""
    dragged, problems, first = 0, [], True
    for plot in page.query_selector_all(".js-plotly-plot"):
        if not plot.query_selector(".slider-container"):
            continue
        plot.scroll_into_view_if_needed()
        if first:  # kept for review, never committed (_build/ is ignored)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            plot.screenshot(path=str(SCREENSHOTS / f"{path.replace('/', '_')[:-5]}-{width}px.png"))
            first = False
        before = plot.evaluate(DRAWN)
        active_before = plot.evaluate(ACTIVE)
        grip = plot.query_selector(".slider-grip-rect").bounding_box()
        rail = plot.query_selector(".slider-rail-rect").bounding_box()
        if rail["x"] + rail["width"] > width:
            problems.append(f"{path}: the slider does not fit {width} px")
        target = rail["x"] + (0.9 if grip["x"] < rail["x"] + rail["width"] / 2 else 0.1) * rail["width"]
        page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        page.mouse.down()
        page.mouse.move(target, grip["y"] + grip["height"] / 2, steps=8)
        page.mouse.up()
        page.wait_for_timeout(150)
        if plot.evaluate(ACTIVE) == active_before:
            problems.append(f"{path}: the slider did not move at {width} px")
        elif plot.evaluate(DRAWN) == before:
            problems.append(f"{path}: dragging the slider did not change the figure at {width} px")
        dragged += 1
    return dragged, problems


@pytest.fixture(scope="module")
def on_a_desktop(browser, site, built_book):
    """{page: Desktop}: each page loaded once at 1200 px, light mode, its network recorded;
    first what it loaded and axe-core's findings, then every static slider dragged, then
    (pages with figures, and DARK_AXE_PAGES) toggled to dark and back."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    seen = {}
    for path in _pages(built_book):
        bodies = []
        context, page, errors, outside = _open(browser, site, path, responses=bodies)
        ours = path.startswith("book/")  # the root index.html only redirects
        desktop = Desktop(
            errors=errors, outside=outside,
            files=[(r.url, r.body()) for r in bodies if r.status == 200] if ours else [],
            formulas=page.evaluate("document.querySelectorAll('math').length"),
            unrendered=page.evaluate(UNRENDERED_MATH),
            axe=_audit(axe, page, errors) if ours else None,
            figure_names=page.evaluate(FIGURE_NAMES))
        desktop.dragged, desktop.drag_problems = _drag_every_slider(page, path, 1200)
        figures = 'class="lrc-figure"' in (built_book / path).read_text(encoding="utf-8")
        if ours and (figures or path in DARK_AXE_PAGES):
            desktop.dark = _dark_mode(axe, page, path, errors, figures)
        context.close()
        seen[path] = desktop
    return seen


def _dark_figures(page, path, problems) -> int:
    """Check every figure of the open page in dark mode; returns how many were checked."""
    checked = 0
    for plot in page.query_selector_all(".js-plotly-plot"):
        layout = plot.evaluate("el => [el._fullLayout.paper_bgcolor, el._fullLayout.plot_bgcolor, "
                               "el._fullLayout.font.color]")
        if [c.replace(" ", "") for c in layout[:2]] != ["rgba(0,0,0,0)"] * 2:
            problems.append(f"{path}: a figure background is {layout[:2]}")
        box = plot.evaluate("el => getComputedStyle(el.closest('.text_html') || el).backgroundColor")
        if box.replace(" ", "") not in ("rgba(0,0,0,0)", "transparent"):
            problems.append(f"{path}: a figure sits on {box}")
        if layout[2] == "#2a3f5f":
            problems.append(f"{path}: a figure keeps the light text colour in dark mode")
        plot.scroll_into_view_if_needed()
        pixels = Image.open(io.BytesIO(plot.screenshot())).convert("L")
        white = sum(pixels.histogram()[245:]) / (pixels.width * pixels.height)
        if white >= 0.05:
            problems.append(f"{path}: {white:.0%} of a figure is white in dark mode")
        checked += 1
    return checked


def _toggle(page, mode: str) -> None:
    """What the theme's light/dark button does to the page (the figures follow data-theme)."""
    page.evaluate(f"document.documentElement.dataset.theme = '{mode}'")
    page.wait_for_timeout(300)


def _dark_mode(axe, page, path, errors, figures: bool) -> "Dark":
    """Toggle the open page to dark: check its figures (and axe-core on DARK_AXE_PAGES), then
    toggle back to light and check that the figures' text follows."""
    problems = []
    _toggle(page, "dark")
    checked = _dark_figures(page, path, problems) if figures else 0
    found = _audit(axe, page, errors) if path in DARK_AXE_PAGES else None
    _toggle(page, "light")
    if figures:
        colour = page.evaluate("document.querySelector('.js-plotly-plot')._fullLayout.font.color")
        if colour != "#2a3f5f":
            problems.append(f"{path}: toggling back to light left the figure text {colour}")
    return Dark(axe=found, checked=checked, problems=problems)


@dataclasses.dataclass
class Dark:
    """What one page showed after the reader toggled it to dark."""
    axe: list | None       # axe-core's serious findings (None: not audited in dark mode)
    checked: int           # figures checked
    problems: list


@dataclasses.dataclass
class Desktop:
    """What one page showed at 1200 px."""
    errors: list
    outside: list
    files: list            # (url, body) of every file it loaded
    formulas: int          # <math> elements
    unrendered: bool       # TeX left in the text
    axe: list | None       # axe-core's serious findings (None: not audited)
    figure_names: list     # per figure: (has role=img, its aria-label, its title)
    dragged: int = 0
    drag_problems: list = dataclasses.field(default_factory=list)
    dark: Dark | None = None   # pages with figures, and DARK_AXE_PAGES


def test_every_page_loads_without_javascript_errors_within_its_budget(on_a_desktop, built_book):
    assert on_a_desktop
    for path, seen in on_a_desktop.items():
        files = seen.files
        assert not seen.errors, f"{path}: JavaScript errors {seen.errors}"
        assert not seen.outside, f"{path}: tried to reach the network: {seen.outside[:3]}"
        if not path.startswith("book/"):
            continue  # the root index.html only redirects
        assert not [url for url, _ in files if "mathjax" in url.lower()], f"{path} loads MathJax"
        assert not seen.unrendered, f"{path}: TeX left unrendered (\\( or \\[ in the text)"
        if "class=\"math" in (built_book / path).read_text(encoding="utf-8"):
            assert seen.formulas, f"{path}: its math is not MathML"
        total = sum(len(body) for _, body in files)
        zipped = sum(len(gzip.compress(body, 6)) for _, body in files)
        plotly = [url for url, _ in files if "plotly" in url.rsplit("/", 1)[-1]]
        if path in LIGHT_PAGES:
            assert not plotly, f"{LIGHT_PAGES[path]} loads plotly.js"
            assert total <= LIGHT_PAGE_BYTES, f"{LIGHT_PAGES[path]} weighs {total / MB:.2f} MB (budget 1.5 MB)"
        else:
            assert total <= CHAPTER_BYTES, f"{path} weighs {total / MB:.2f} MB (budget 6 MB)"
            assert zipped <= CHAPTER_GZIP, f"{path} weighs {zipped / MB:.2f} MB gzipped (budget 2 MB)"
            size = (built_book / path).stat().st_size
            assert size <= CHAPTER_HTML, f"{path}: its HTML is {size / 1000:.0f} kB (budget 600 kB)"


def test_dragging_every_static_slider_changes_the_figure(on_a_desktop):
    for path, seen in on_a_desktop.items():
        assert not seen.drag_problems, seen.drag_problems
    assert sum(seen.dragged for seen in on_a_desktop.values()) >= 2, "expected explorers in chapters 1 and 2"


def test_axe_finds_no_serious_violation(on_a_desktop):
    audited = {path: seen.axe for path, seen in on_a_desktop.items() if seen.axe is not None}
    assert len(audited) >= 10
    for path, found in audited.items():
        assert not found, f"{path}: axe finds {found[:5]}"


def test_figures_follow_the_dark_mode(on_a_desktop):
    for path, seen in on_a_desktop.items():
        assert not (seen.dark and seen.dark.problems), seen.dark.problems
        assert not seen.errors, f"{path}: JavaScript errors {seen.errors}"
    assert sum(seen.dark.checked for seen in on_a_desktop.values() if seen.dark) >= 40


def test_axe_finds_no_serious_violation_in_dark_mode(on_a_desktop):
    audited = {path: seen.dark.axe for path, seen in on_a_desktop.items() if seen.dark and seen.dark.axe is not None}
    assert sorted(audited) == sorted(DARK_AXE_PAGES)
    for path, found in audited.items():
        assert not found, f"{path} (dark): axe finds {found[:5]}"


def test_every_figure_has_an_accessible_name(on_a_desktop, built_book):
    named = 0
    for path, seen in on_a_desktop.items():
        drawn = 'class="lrc-figure"' in (built_book / path).read_text(encoding="utf-8")
        assert bool(seen.figure_names) == drawn, f"{path}: {len(seen.figure_names)} figures drawn"
        for has_role, label, title in seen.figure_names:
            assert has_role, f"{path}: a figure without role=img"
            assert len(label) > 20 and "axis:" in label, f"{path}: figure labelled {label!r}"
            assert title.split(" ")[0] in label, f"{path}: the label {label!r} does not say the title {title!r}"
            named += 1
    assert named >= 40


PHONE = 390
WIDE = """() => Array.from(document.querySelectorAll('div.cell_output pre, div.output pre, #the-learning-path table'))
            .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent.slice(0, 60))"""


@pytest.fixture(scope="module")
def on_a_phone(browser, site, built_book):
    """{page: (what is cut, sliders dragged, drag problems, JavaScript errors)}, each page loaded
    once at 390 px: first what is cut, then every static slider dragged."""
    seen = {}
    for path in _pages(built_book):
        if not path.startswith("book/"):
            continue  # the root index.html only redirects
        context, page, errors, _ = _open(browser, site, path, width=PHONE)
        cut = []
        for plot in page.query_selector_all(".js-plotly-plot"):
            box = plot.bounding_box()
            for line in plot.query_selector_all(".gtitle, .gtitle tspan"):
                title = line.bounding_box()
                if title["x"] < box["x"] - 1 or title["x"] + title["width"] > box["x"] + box["width"] + 1:
                    cut.append(f"a figure title: {line.text_content()[:60]!r}")
        cut += [f"scrolls sideways: {text!r}" for text in page.evaluate(WIDE)]
        dragged, problems = _drag_every_slider(page, path, PHONE)
        context.close()
        seen[path] = (cut, dragged, problems, errors)
    return seen


def test_dragging_every_static_slider_changes_the_figure_on_a_phone(on_a_phone):
    for path, (_, _, problems, errors) in on_a_phone.items():
        assert not problems, problems
        assert not errors, f"{path}: JavaScript errors at {PHONE} px {errors}"
    assert sum(dragged for _, dragged, _, _ in on_a_phone.values()) >= 2, "expected explorers in chapters 1 and 2"


def test_nothing_is_cut_on_a_phone(on_a_phone):
    assert len(on_a_phone) >= 10
    for path, (cut, _, _, _) in on_a_phone.items():
        assert not cut, f"{path}: cut at {PHONE} px: {cut[:3]}"
