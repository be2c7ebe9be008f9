"""The weight of each page of the built book, as chromium loads it (Debian's chromium, offline).

Per page: the bytes of every response (uncompressed, and gzipped as a web server would send
them), the number of requests, the page's own HTML, and on a throttled 4G link (1.25 MB/s,
40 ms) the time to first paint and to the first drawn figure. The budgets are issue #15's:
the landing page and the study guide at most 1.5 MB and no plotly.js; a chapter at most
6 MB (2 MB gzipped); no chapter's HTML over 600 kB. ``tests/test_browser.py`` checks the
same budgets on every `make test`.

Run alone on another build: ``python -m benchmarks.bench_pages path/to/_build/html``.
"""

import functools
import gzip
import http.server
import pathlib
import shutil
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LANDING, STUDY_GUIDE = "book/index.html", "book/interview-guide.html"
MB = 1_000_000
LIGHT_PAGE_BYTES = 1.5 * MB        # landing page and study guide, uncompressed, no plotly.js
CHAPTER_BYTES, CHAPTER_GZIP = 6 * MB, 2 * MB
CHAPTER_HTML_BYTES = 600_000
FOUR_G = {"offline": False, "latency": 40, "downloadThroughput": 1_250_000, "uploadThroughput": 375_000}

# Records when the first plotly figure has drawn (its SVG exists), from navigation start.
FIRST_FIGURE_PROBE = """
new MutationObserver((_, observer) => {
  if (window.__firstFigure === undefined && document.querySelector('.js-plotly-plot .main-svg')) {
    window.__firstFigure = performance.now(); observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def pages(html: pathlib.Path) -> list[str]:
    """Every content page of the book (the root index.html only redirects)."""
    return sorted(p.relative_to(html).as_posix() for p in (html / "book").rglob("*.html"))


def kind(path: str) -> str:
    return {LANDING: "landing", STUDY_GUIDE: "study guide"}.get(path, "chapter")


def serve(html: pathlib.Path):
    """A local HTTP server on a free port; returns (base url, server) — call server.shutdown()."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def load(browser, site: str, path: str, *, throttle: bool = False, width: int = 1200) -> dict:
    """Load ``path`` until the network is idle; what it cost (bytes, requests, times in ms)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site) else route.abort())
    page = context.new_page()
    page.add_init_script(FIRST_FIGURE_PROBE)
    if throttle:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", FOUR_G)
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{site}/{path}", wait_until="load", timeout=120_000)
    page.wait_for_load_state("networkidle", timeout=120_000)
    if page.evaluate("document.querySelector('script.lrc-figure, .plotly-graph-div') !== null"):
        page.wait_for_function("window.__firstFigure !== undefined", timeout=60_000)
    times = page.evaluate("""() => ({
        paint: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
        figure: window.__firstFigure})""")
    bodies = [(r.url, r.body()) for r in responses if r.status == 200]  # redirects have no body
    context.close()
    return {
        "bytes": sum(len(b) for _, b in bodies),
        "gzip": sum(len(gzip.compress(b, 6)) for _, b in bodies),
        "requests": len(responses),
        "plotly": any("plotly" in url.rsplit("/", 1)[-1] for url, _ in bodies),
        "largest": max(bodies, key=lambda ub: len(ub[1]))[0].rsplit("/", 1)[-1] if bodies else "",
        "first_paint_ms": round(times["paint"]) if times["paint"] is not None else None,
        "first_figure_ms": round(times["figure"]) if times["figure"] is not None else None,
    }


def weigh(html: pathlib.Path = HTML, *, throttle: bool = True) -> dict:
    """{page: load(...) plus its HTML's size} for every page of the book built in ``html``."""
    from playwright.sync_api import sync_playwright

    site, server = serve(html)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            result = {}
            for path in pages(html):
                result[path] = load(browser, site, path, throttle=throttle)
                result[path]["html"] = (html / path).stat().st_size
            browser.close()
    finally:
        server.shutdown()
    return result


def build():
    jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going", "--quiet"],
                   check=True, cwd=ROOT, capture_output=True)


def summary(weights: dict) -> dict:
    """The benchmark entries: per page, then the worst of each page kind against its budget."""
    def kb(n):
        return round(n / 1000)

    out = {}
    for field, unit in (("bytes", "kB"), ("gzip", "kB"), ("requests", ""), ("html", "kB"),
                        ("first_paint_ms", "ms"), ("first_figure_ms", "ms")):
        value = {path: (kb(w[field]) if unit == "kB" else w[field]) for path, w in weights.items()}
        goal = {"bytes": "landing, study guide <= 1500; chapters <= 6000", "gzip": "chapters <= 2000",
                "html": "<= 600", "first_figure_ms": "4G: 1.25 MB/s, 40 ms",
                "first_paint_ms": "4G: 1.25 MB/s, 40 ms"}.get(field, "")
        out[f"page_{field}"] = {"value": value, "unit": unit, "goal": goal}
    out["pages_with_plotly_js"] = {"value": sorted(p for p, w in weights.items() if w["plotly"]), "unit": "",
                                   "goal": "not the landing page nor the study guide"}
    return out


def measure():
    build()
    return summary(weigh())


if __name__ == "__main__":
    import json

    folder = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HTML
    weights = weigh(folder, throttle="--fast" not in sys.argv)
    print(json.dumps(weights, indent=1))
