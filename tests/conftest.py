"""Shared fixtures: the book is built once per test session, with warnings as errors."""

import json
import functools
import http.server
import os
import pathlib
import shutil
import re
import subprocess
import sys
import threading

import pytest
import torch
from filelock import FileLock

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's; never `playwright install`
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def built_book():
    """Build the book like `make book` does and return the HTML folder; fail on any warning.

    Under pytest-xdist every worker asks for it: the first builds it, the others wait on
    the lock and find it stamped with this run's id."""
    HTML.parent.mkdir(exist_ok=True)
    stamp = HTML.parent / "built-by-test-run"
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid-{os.getpid()}")
    with FileLock(str(HTML.parent / "build.lock")):
        if stamp.is_file() and stamp.read_text() == run:
            return HTML
        stamp.unlink(missing_ok=True)
        jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
        result = subprocess.run([str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going"],
                                capture_output=True, text=True, cwd=ROOT)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"the book build failed:\n{output[-6000:]}"
        warnings = [line for line in output.splitlines() if "WARNING" in line]
        assert not warnings, "the book build warned:\n" + "\n".join(warnings)
        stamp.write_text(run)
    return HTML


@pytest.fixture(scope="module")
def site(built_book):
    """The built book served on a free localhost port for the module's tests."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_book)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Headless chromium for the browser and JupyterLab tests (skipped, saying how to install
    it, where it is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is missing: install it with `sudo apt-get install chromium` "
                    "(make test does this when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def one_thread():
    """Torch on one thread for the test: fastest for tiny tensors, and steady when other jobs
    share the CPU. Use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def figure_json(html):
    """(data, layout) of the plotly figure in a static HTML page: the JSON of its ``Plotly.newPlot`` call."""
    match = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*(\{.*\}),\s*\{\"responsive\"", html, re.S)
    assert match, "the static HTML does not call Plotly.newPlot as expected"
    return json.loads(match.group(1)), json.loads(match.group(2))


# The slowest files first, so that pytest-xdist's two workers finish together (the longest
# jobs start first): the browser and JupyterLab tests, then the chapters by make bench's run
# times. The JupyterLab test, which needs no built book, is second: the other worker's first
# file builds the book meanwhile instead of both waiting for it. Within a file the order is
# kept (a notebook's cells run in order in one kernel).
SLOW_FIRST = ("tests/test_browser.py", "tests/test_lab.py",
              "book/transformers.ipynb", "book/scaling-the-learning-rate.ipynb", "book/adaptive-methods.ipynb",
              "book/batch-size-and-sharpness.ipynb", "book/finding-a-learning-rate.ipynb", "book/case-lstm.ipynb",
              "book/case-rl.ipynb", "book/case-cnn.ipynb", "book/schedules.ipynb", "tests/test_book.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
