"""The built book's dark mode from the first paint, and its keyboard, in a real browser
(Debian's chromium, network blocked).

A reader who chose dark mode before gets pages drawn dark from the start (the theme stores the
choice; the figures read it when they draw): one chapter is loaded that way and every figure
is checked. Toggling every page to dark and back is checked in tests/test_browser.py, on its
one desktop load of each page. The static slider moves from the keyboard.
"""

import pytest

from test_browser import ACTIVE, DRAWN, _dark_figures, _open

pytestmark = pytest.mark.browser
DARK_FROM_THE_START = "book/what-is-the-learning-rate.html"   # static figures and explorers


def test_a_page_loaded_in_dark_mode_draws_its_figures_dark(browser, site, built_book):
    context, page, errors, _ = _open(browser, site, DARK_FROM_THE_START, dark=True)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    problems = []
    checked = _dark_figures(page, DARK_FROM_THE_START, problems)
    context.close()
    assert checked >= 3 and not problems, problems
    assert not errors, f"JavaScript errors {errors}"


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
