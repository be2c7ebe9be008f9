"""The chapters in a real JupyterLab 4 and Notebook 7 (Debian's chromium, network blocked).

A JupyterLab server starts on a free localhost port, on its own temporary copy of two
chapters with their outputs cleared (nothing in book/ is touched), with its own config,
data, runtime and settings folders; the test stops it, and its kernels, whatever happens.
In chromium it opens chapter 8 (static figures only) and update-rule (static figures and
live explorers), runs all cells and checks that every figure drew (a plotly SVG in each
figure's output), that moving a live slider redraws its figure, and that after saving and
reloading the tab the static figures still draw. Notebook 7 (``/notebooks/``, served by
the same server) runs update-rule the same way.

Speed: chapter 8 runs in about 45 s, so the test runs a copy of it cut after its third
static figure (its first cells, about 10 s); update-rule runs whole.
"""

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from conftest import ROOT

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STATIC_CHAPTER, FIGURES_KEPT = "finding-a-learning-rate", 3
EXPLORER_CHAPTER = "update-rule"
RUN_TIMEOUT_S = 420  # chapter runs of 10-60 s, slower when the machine is loaded


# -- the mime bundle (no browser) ---------------------------------------------------------

def test_a_static_figure_carries_plotlys_own_mime_bundle_and_the_books_html():
    """Live frontends draw plotly's mime type themselves; the book keeps the HTML; neither
    holds anything random, so nbval compares stored outputs exactly."""
    import plotly.graph_objects as go
    from IPython.core.formatters import DisplayFormatter

    from lrcourse import figures

    fig = figures.styled(go.Figure(go.Scatter(x=[1, 2, 3], y=[3.0, float("nan"), 1.0])),
                         title="A falling line", xaxis_title="step", yaxis_title="loss")
    data, _ = DisplayFormatter().format(figures.show(fig, "falling"))
    assert set(data) == {PLOTLY_MIME, "text/html", "text/plain"}
    spec = data[PLOTLY_MIME]
    assert spec["data"] == [{"type": "scatter", "x": [1, 2, 3], "y": [3.0, None, 1.0]}]
    assert spec["layout"]["title"]["text"] == "A falling line"
    assert spec["layout"]["xaxis"]["title"]["text"] == "step"
    assert spec["config"] == {"responsive": True, "displaylogo": False}
    assert json.loads(json.dumps(spec)) == spec  # plain JSON, as stored in the notebook
    again, _ = DisplayFormatter().format(figures.show(fig, "falling"))
    assert again == data
    assert 'id="falling"' in data["text/html"] and "Plotly.newPlot" in data["text/html"]


# -- the server ---------------------------------------------------------------------------

def _figure_outputs(cell) -> tuple[int, int]:
    """(static figures, explorers) among a code cell's stored outputs."""
    static = explorers = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if WIDGET_MIME in data:
            explorers += 1
        elif PLOTLY_MIME in data or "Plotly.newPlot" in "".join(data.get("text/html", "")):
            static += 1
    return static, explorers


def _cleared_copy(name: str, folder: pathlib.Path, keep_figures: int | None = None) -> tuple[int, int]:
    """Copy book/NAME.ipynb into ``folder`` with its outputs cleared, optionally cut after its
    ``keep_figures``-th static figure; return the (static figures, explorers) it will draw."""
    nb = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
    static = explorers = 0
    kept = []
    for cell in nb.cells:
        kept.append(cell)
        if cell.cell_type != "code":
            continue
        s, e = _figure_outputs(cell)
        static, explorers = static + s, explorers + e
        cell.outputs, cell.execution_count = [], None
        if keep_figures is not None and static >= keep_figures:
            break
    nb.cells = kept
    nbformat.write(nb, folder / f"{name}.ipynb")
    return static, explorers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on its own copy of two chapters; yields (base URL, token, folder,
    expected figures per chapter); stopped (with its kernels) when the module's tests end."""
    home = tmp_path_factory.mktemp("lab")
    chapters = home / "chapters"
    chapters.mkdir()
    expected = {STATIC_CHAPTER: _cleared_copy(STATIC_CHAPTER, chapters, FIGURES_KEPT),
                EXPLORER_CHAPTER: _cleared_copy(EXPLORER_CHAPTER, chapters)}
    port, token = _free_port(), os.urandom(12).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={chapters}", f"--LabApp.user_settings_dir={home / 'settings'}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, cwd=chapters, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # its own process group: the kernels stop with it
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n{(home / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 90 s:\n{(home / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, chapters, expected
    finally:
        _stop(server)
        log.close()


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it shuts its kernels down), SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            os.killpg(server.pid, signal.SIGKILL)  # kernels that outlived the server
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


# -- the browser --------------------------------------------------------------------------

@pytest.fixture
def page(browser, lab):
    base = lab[0]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def _open(page, lab, name: str, frontend: str = "lab"):
    base, token = lab[0], lab[1]
    path = f"lab/tree/{name}.ipynb?reset&" if frontend == "lab" else f"notebooks/{name}.ipynb?"
    page.goto(f"{base}/{path}token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    _wait_for_an_idle_kernel(page)


def _wait_for_an_idle_kernel(page):
    """Running cells before the kernel is up opens a "Select Kernel" dialog instead."""
    page.wait_for_function(
        """() => document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                 || [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /[|] Idle/.test(e.textContent))""",
        timeout=90_000, polling=250)


PROMPTS = "[...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent)"


def _close_dialogs(page) -> list:
    """Accept every open JupyterLab dialog (a kernel's choice: the notebook's own); one with
    no accept button (a notice) is closed with Escape. Returns what they said."""
    said = []
    for dialog in page.locator(".jp-Dialog").all():
        try:
            said.append(dialog.inner_text(timeout=2_000)[:200])
            accept = dialog.locator(".jp-Dialog-button.jp-mod-accept")
            if accept.count():
                accept.first.click(timeout=5_000)
            else:
                page.keyboard.press("Escape")
        except Exception:
            pass  # closed by itself meanwhile
    return said


def _run_all(page):
    """Run › Run All Cells from the menu bar, then wait until every code cell has its number."""
    said = []
    for attempt in range(3):  # a click while the kernel starts may be lost: check it took
        said += _close_dialogs(page)  # an open dialog takes the menu's clicks
        try:
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click(timeout=15_000)
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click(timeout=15_000)
            page.wait_for_timeout(3_000)  # JupyterLab may still ask which kernel to start
            said += _close_dialogs(page)
            # took: more than the first cell queued or run (a kernel chosen late drops the queue)
            page.wait_for_function(f"() => {PROMPTS}.filter(p => /\\[(\\*|\\d+)\\]/.test(p)).length > 1",
                                   timeout=60_000)
            return
        except Exception:
            if attempt == 2:
                raise AssertionError(f"Run All did not start; dialogs seen: {said}") from None


def _drawn(page, selector: str) -> list[bool]:
    """For every element matching ``selector``: scrolled into view, has a plotly SVG (or the
    PNG that jupyterlab-plotly stores after drawing) appeared?"""
    outputs = page.locator(selector)
    drawn = []
    for i in range(outputs.count()):
        output = outputs.nth(i)
        output.scroll_into_view_if_needed()
        try:
            output.locator("svg.main-svg, img.plot-img[src^='data:image/png']").first.wait_for(
                state="attached", timeout=20_000)
            drawn.append(True)
        except Exception:
            drawn.append(False)
    return drawn


STATIC = ".jp-OutputArea-output.jp-RenderedPlotly"
EXPLORER = ".jp-OutputArea-output:has(.widget-slider, .widget-hslider)"


def _assert_every_figure_drew(page, expected: tuple[int, int], where: str):
    static, explorers = expected
    try:  # outputs attach as the notebook renders
        page.wait_for_function(f"() => document.querySelectorAll({STATIC!r}).length >= {static}", timeout=30_000)
    except Exception:
        pass  # the count below says what is missing
    assert page.locator(STATIC).count() == static, \
        f"{where}: {page.locator(STATIC).count()} figures rendered by jupyterlab-plotly, expected {static}"
    assert all(_drawn(page, STATIC)), f"{where}: a static figure stayed blank ({_drawn(page, STATIC)})"
    assert page.locator(EXPLORER).count() == explorers, f"{where}: expected {explorers} explorers"
    assert all(_drawn(page, EXPLORER)), f"{where}: an explorer's figure stayed blank"
    assert not [e for e in page.errors if "Plotly is not defined" in e], page.errors


@pytest.mark.browser
def test_static_figures_draw_in_jupyterlab_and_again_after_a_reload(page, lab):
    _open(page, lab, STATIC_CHAPTER)
    _run_all(page)
    _assert_every_figure_drew(page, lab[3][STATIC_CHAPTER], f"JupyterLab, {STATIC_CHAPTER}")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    saved = nbformat.read(lab[2] / f"{STATIC_CHAPTER}.ipynb", as_version=4)
    assert sum(PLOTLY_MIME in o.get("data", {}) for c in saved.cells for o in c.get("outputs", [])) \
        == lab[3][STATIC_CHAPTER][0], "the saved notebook lacks plotly's mime bundle"
    page.reload(wait_until="domcontentloaded")  # no kernel run: the stored outputs alone
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    _wait_for_an_idle_kernel(page)
    _assert_every_figure_drew(page, (lab[3][STATIC_CHAPTER][0], 0), f"JupyterLab after a reload, {STATIC_CHAPTER}")


def _slider_moves_its_figure(page, where: str):
    explorer = page.locator(EXPLORER).first
    explorer.scroll_into_view_if_needed()
    figure = explorer.locator(".js-plotly-plot").first
    before = figure.locator("svg.main-svg").first.inner_html()
    handle = explorer.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle, "
                              ".widget-slider .ui-slider-handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()  # drag it 150 px to the left
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 150, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    page.wait_for_function("([el, before]) => el.querySelector('svg.main-svg').innerHTML !== before",
                           arg=[figure.element_handle(), before], timeout=20_000)
    assert figure.locator("svg.main-svg").first.inner_html() != before, f"{where}: the figure did not follow its slider"


@pytest.mark.browser
def test_explorers_and_static_figures_draw_in_jupyterlab_and_a_slider_redraws(page, lab):
    _open(page, lab, EXPLORER_CHAPTER)
    _run_all(page)
    _assert_every_figure_drew(page, lab[3][EXPLORER_CHAPTER], f"JupyterLab, {EXPLORER_CHAPTER}")
    _slider_moves_its_figure(page, f"JupyterLab, {EXPLORER_CHAPTER}")


@pytest.mark.browser
def test_every_figure_draws_in_notebook_7(page, lab):
    pytest.importorskip("notebook", minversion="7")
    _open(page, lab, EXPLORER_CHAPTER, frontend="notebook")
    _run_all(page)
    _assert_every_figure_drew(page, lab[3][EXPLORER_CHAPTER], f"Notebook 7, {EXPLORER_CHAPTER}")
    _slider_moves_its_figure(page, f"Notebook 7, {EXPLORER_CHAPTER}")
