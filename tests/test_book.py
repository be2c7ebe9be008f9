"""The built book: every chapter present, explorers static, plotly.js served locally."""

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


def test_plotly_js_comes_from_the_book_and_loads_before_the_figures(built_book):
    assert (built_book / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    pages_with_figures = 0
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if "Plotly.newPlot" not in html:
            continue
        pages_with_figures += 1
        head_script = html.find("plotly.min.js")
        assert 0 < head_script < html.find("Plotly.newPlot"), f"{page.name}: plotly.js must load first"
        assert not re.search(r"<script[^>]+src=\"https?://[^\"]*plotly", html), f"{page.name} loads plotly from a CDN"
    assert pages_with_figures >= 2


def test_no_dead_widgets_in_the_static_pages(built_book):
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget-view+json" not in html, f"{page.name} has a widget placeholder"
        assert "@jupyter-widgets/html-manager" not in html, f"{page.name} loads the widget manager from a CDN"
