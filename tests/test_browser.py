"""The built book in a real browser (Debian's chromium, network blocked).

Every page loads without a JavaScript error, and every explorer's static slider, dragged,
changes what is drawn.
"""

import functools
import http.server
import shutil
import threading

import pytest

from conftest import HTML

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser
SCREENSHOTS = HTML.parent / "screenshots"  # each chapter's first explorer, before and at 390 px


@pytest.fixture(scope="module")
def site(built_book):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_book)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is missing: install it with `sudo apt-get install chromium` "
                    "(make test does this when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _pages(built_book):
    skip = {"genindex.html", "search.html"}
    return sorted(p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


THEME_SCRIPTS = "/_static/scripts/"  # the pydata/book theme's bundles, not the project's code


def _ours(message) -> bool:
    """Console errors logged by the theme's own bundles (for instance its complaint about an
    unset colour mode) are not the project's; uncaught exceptions always count."""
    return THEME_SCRIPTS not in (message.location or {}).get("url", "")


def _open(browser, site, path, width=1200):
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
    page.goto(f"{site}/{path}", wait_until="load")
    return context, page, errors, outside


DRAWN = """el => Array.from(el.querySelectorAll('.scatterlayer .trace path.js-line, .scatterlayer .trace path.point'))
                .map(p => p.getAttribute('d')).join('|')"""


ACTIVE = "el => el._fullLayout.sliders[0].active"


def test_every_page_loads_without_javascript_errors(browser, site, built_book):
    pages = _pages(built_book)
    assert pages
    for path in pages:
        context, page, errors, outside = _open(browser, site, path)
        page.wait_for_timeout(200)
        context.close()
        assert not errors, f"{path}: JavaScript errors {errors}"
        assert not outside, f"{path}: tried to reach the network: {outside[:3]}"


@pytest.mark.parametrize("width", [1200, 390])
def test_dragging_every_static_slider_changes_the_figure(browser, site, built_book, width):
    dragged = 0
    for path in _pages(built_book):
        if "Plotly.newPlot" not in (built_book / path).read_text(encoding="utf-8"):
            continue
        context, page, errors, _ = _open(browser, site, path, width)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15000)
        first = True
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
            assert rail["x"] + rail["width"] <= width, f"{path}: the slider does not fit {width} px"
            target = rail["x"] + (0.9 if grip["x"] < rail["x"] + rail["width"] / 2 else 0.1) * rail["width"]
            page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
            page.mouse.down()
            page.mouse.move(target, grip["y"] + grip["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_timeout(150)
            assert plot.evaluate(ACTIVE) != active_before, f"{path}: the slider did not move"
            assert plot.evaluate(DRAWN) != before, f"{path}: dragging the slider did not change the figure"
            dragged += 1
        context.close()
        assert not errors, f"{path}: JavaScript errors {errors}"
    assert dragged >= 2, "expected explorers in chapters 1 and 2"
