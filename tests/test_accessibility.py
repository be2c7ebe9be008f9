"""The built book's dark mode and keyboard in a real browser (Debian's chromium, network blocked).

In dark mode every figure drops its light background and text colour and follows the toggle
back to light, and axe-core finds no serious or critical violation on the pages whose own HTML
the dark CSS restyles; the static slider moves from the keyboard. Each page is loaded once in
dark mode for both checks. axe-core in light mode and the figures' accessible names are checked
in tests/test_browser.py, on its one desktop load of each page.
"""

import io

import pytest
from PIL import Image

from test_browser import ACTIVE, DRAWN, _audit, _open, _pages

pytestmark = pytest.mark.browser

DARK_AXE_PAGES = ("book/index.html", "book/interview-guide.html", "book/what-is-the-learning-rate.html")  # and every page with figures


@pytest.fixture(scope="module")
def in_dark_mode(browser, site, built_book):
    """{page: (axe's serious findings or None, figures checked, problems, JavaScript errors)}:
    each page with figures, and each of DARK_AXE_PAGES, loaded once in dark mode."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    seen = {}
    for path in _pages(built_book):
        figures = 'class="lrc-figure"' in (built_book / path).read_text(encoding="utf-8")
        if not (figures or path in DARK_AXE_PAGES):
            continue
        context, page, errors, _ = _open(browser, site, path, dark=True)
        problems = []
        if page.evaluate("document.documentElement.dataset.theme") != "dark":
            problems.append("the page did not switch to dark mode")
        found = _audit(axe, page, errors) if path in DARK_AXE_PAGES else None
        checked = _dark_figures(page, path, problems) if figures else 0
        context.close()
        seen[path] = (found, checked, problems, errors)
    return seen


def _dark_figures(page, path, problems) -> int:
    """Check every figure of the open dark page, then toggle back to light; figures checked."""
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
    page.evaluate("document.documentElement.dataset.theme = 'light'")  # the reader toggles back
    page.wait_for_timeout(300)
    colour = page.evaluate("document.querySelector('.js-plotly-plot')._fullLayout.font.color")
    if colour != "#2a3f5f":
        problems.append(f"{path}: toggling to light left the figure text {colour}")
    return checked


def test_figures_follow_the_dark_mode(in_dark_mode):
    for path, (_, _, problems, errors) in in_dark_mode.items():
        assert not problems, problems
        assert not errors, f"{path}: JavaScript errors {errors}"
    assert sum(checked for _, checked, _, _ in in_dark_mode.values()) >= 40


def test_axe_finds_no_serious_violation_in_dark_mode(in_dark_mode):
    audited = {path: found for path, (found, _, _, _) in in_dark_mode.items() if found is not None}
    assert sorted(audited) == sorted(DARK_AXE_PAGES)
    for path, found in audited.items():
        assert not found, f"{path} (dark): axe finds {found[:5]}"


def test_the_static_slider_moves_from_the_keyboard(browser, site, built_book):
    context, page, errors, _ = _open(browser, site, "book/what-is-the-learning-rate.html")
    plot = next(p for p in page.query_selector_all(".js-plotly-plot") if p.query_selector(".slider-container"))
    slider = plot.query_selector(".slider-container")
    assert slider.get_attribute("role") == "slider" and slider.get_attribute("tabindex") == "0"
    grip = plot.query_selector(".slider-grip-rect").bounding_box()
    assert min(grip["width"], grip["height"]) >= 28, f"the handle is {grip['width']:.0f}×{grip['height']:.0f} px"
    slider.focus()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "slider"
    for key, step in (("ArrowRight", 1), ("ArrowLeft", -1), ("End", None)):
        before, active = plot.evaluate(DRAWN), plot.evaluate(ACTIVE)
        page.keyboard.press(key)
        page.wait_for_timeout(150)
        now = plot.evaluate(ACTIVE)
        expected = active + step if step else len(plot.evaluate("el => el.layout.sliders[0].steps"))- 1
        assert now == expected, f"{key}: the slider went from {active} to {now}"
        assert plot.evaluate(DRAWN) != before, f"{key}: the figure did not follow the slider"
        label = plot.evaluate("el => el.layout.sliders[0].steps[el._fullLayout.sliders[0].active].label")
        assert label in (page.evaluate("document.activeElement.getAttribute('aria-valuetext')") or "")
    context.close()
    assert not errors, errors
