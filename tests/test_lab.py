"""The chapters in a real JupyterLab 4 and Notebook 7 (Debian's chromium, network blocked).

A JupyterLab server starts on a free localhost port, on its own temporary copies of a
chapter with its outputs cleared (nothing in book/ is touched), with its own config, data,
runtime and settings folders; the test stops it, and its kernels, whatever happens. Each
copy's kernel is started through the server's REST API before the page opens it, so the
page connects to a running kernel instead of starting one while the test waits.

In chromium it opens update-rule (static figures and live explorers), runs all cells and
checks that every figure drew (a plotly SVG in each figure's output), that moving a live
slider redraws its figure, and that after saving and reloading the tab the static figures
still draw. Notebook 7 (``/notebooks/``, served by the same server) runs its own copy of
update-rule, cut after its first three figures (a static one and two explorers), the same
way. (update-rule runs in about 7 s: the frontends are what is tested.)
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
CHAPTER = "update-rule"
# frontend -> (its copy, cut after how many figures: None keeps the whole chapter)
COPIES = {"lab": (CHAPTER, None), "notebook": (f"{CHAPTER}-in-notebook-7", 3)}


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


def _cleared_copy(chapter: str, folder: pathlib.Path, name: str, figures: int | None) -> tuple[int, int]:
    """Copy book/CHAPTER.ipynb to ``folder``/NAME.ipynb with its outputs cleared, cut after
    its ``figures``-th figure (None: whole); return the (static figures, explorers) it will draw."""
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    static = explorers = 0
    kept = []
    for cell in nb.cells:
        kept.append(cell)
        if cell.cell_type == "code":
            s, e = _figure_outputs(cell)
            static, explorers = static + s, explorers + e
            cell.outputs, cell.execution_count = [], None
            if figures is not None and static + explorers >= figures:
                break
    nb.cells = kept
    nbformat.write(nb, folder / f"{name}.ipynb")
    return static, explorers


def _start_kernel(base: str, token: str, name: str) -> None:
    """Start NAME.ipynb's kernel through the REST API (POST /api/sessions), as opening it
    would; a page that opens the notebook connects to this session."""
    body = json.dumps({"path": f"{name}.ipynb", "name": f"{name}.ipynb", "type": "notebook",
                       "kernel": {"name": "python3"}}).encode()
    request = urllib.request.Request(f"{base}/api/sessions", data=body, method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=90) as response:
        assert response.status == 201, f"the kernel of {name}.ipynb did not start ({response.status})"


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
    expected = {name: _cleared_copy(CHAPTER, chapters, name, cut) for name, cut in COPIES.values()}
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
        for name, _ in COPIES.values():
            _start_kernel(base, token, name)
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
    """Wait until the notebook's toolbar names its kernel and the kernel is idle. Cells run
    before that open a "Select Kernel" dialog, which drops the queue; the execution indicator
    alone says "idle" while the toolbar still says "No Kernel"."""
    page.wait_for_function(
        """() => {
            const names = [...document.querySelectorAll('.jp-Toolbar-kernelName')].map(e => e.textContent.trim());
            const named = names.length > 0 && names.every(n => n && !n.includes('No Kernel'));
            const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                || [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /[|] Idle/.test(e.textContent));
            return named && idle;
        }""", timeout=90_000, polling=250)


PROMPTS = "[...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent)"


def _close_dialogs(page) -> list:
    """Accept every open JupyterLab dialog; in a kernel's choice, pick Python first (offered
    "No Kernel", accepting would run nothing). One with no accept button (a notice) is closed
    with Escape. Returns what they said."""
    said = []
    for dialog in page.locator(".jp-Dialog").all():
        try:
            said.append(dialog.inner_text(timeout=2_000)[:200])
            choice = dialog.locator("select")
            if choice.count():
                python = [o for o in choice.first.locator("option").all_inner_texts() if o.startswith("Python")]
                if python:
                    choice.first.select_option(label=python[0], timeout=5_000)
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
    try:  # outputs attach as the notebook runs and renders
        page.wait_for_function(f"() => document.querySelectorAll({STATIC!r}).length >= {static} && "
                               f"document.querySelectorAll({EXPLORER!r}).length >= {explorers or 0}", timeout=30_000)
    except Exception:
        pass  # the count below says what is missing
    assert page.locator(STATIC).count() == static, \
        f"{where}: {page.locator(STATIC).count()} figures rendered by jupyterlab-plotly, expected {static}"
    assert all(_drawn(page, STATIC)), f"{where}: a static figure stayed blank ({_drawn(page, STATIC)})"
    assert explorers is None or page.locator(EXPLORER).count() == explorers, f"{where}: expected {explorers} explorers"
    assert all(_drawn(page, EXPLORER)), f"{where}: an explorer's figure stayed blank"
    assert not [e for e in page.errors if "Plotly is not defined" in e], page.errors


def _slider_moves_its_figure(page, where: str):
    """Drag the first explorer's slider to the far end of its rail (twice if the first drag
    is lost, as a click can be while the page still lays out) and wait for its figure."""
    _wait_for_an_idle_kernel(page)  # the explorer's callback runs once the cells below it have
    explorer = page.locator(EXPLORER).first
    explorer.scroll_into_view_if_needed()
    figure = explorer.locator(".js-plotly-plot").first
    before = figure.locator("svg.main-svg").first.inner_html()
    slider = explorer.locator(".widget-slider, .widget-hslider").first
    handle = slider.locator(".noUi-handle, .ui-slider-handle").first
    rail = slider.locator(".noUi-target, .ui-slider").first
    for attempt in range(2):
        handle.scroll_into_view_if_needed()
        grip, track = handle.bounding_box(), rail.bounding_box()
        middle = track["x"] + track["width"] / 2
        target = track["x"] + (0.9 if grip["x"] < middle else 0.1) * track["width"]
        page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        page.mouse.down()
        page.mouse.move(target, grip["y"] + grip["height"] / 2, steps=10)
        page.mouse.up()
        try:
            page.wait_for_function("([el, before]) => el.querySelector('svg.main-svg').innerHTML !== before",
                                   arg=[figure.element_handle(), before], timeout=20_000)
            return
        except Exception:
            if attempt == 1:
                raise AssertionError(f"{where}: the figure did not follow its slider") from None


@pytest.mark.browser
def test_every_figure_draws_in_jupyterlab_a_slider_redraws_and_a_reload_keeps_the_figures(page, lab):
    name, where = COPIES["lab"][0], f"JupyterLab, {CHAPTER}"
    static, explorers = lab[3][name]
    _open(page, lab, name)
    _run_all(page)
    _assert_every_figure_drew(page, (static, explorers), where)
    _slider_moves_its_figure(page, where)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.title.startsWith('*') && !document.querySelector('.jp-mod-dirty')",
                           timeout=20_000)
    saved = nbformat.read(lab[2] / f"{name}.ipynb", as_version=4)
    assert sum(PLOTLY_MIME in o.get("data", {}) for c in saved.cells for o in c.get("outputs", [])) == static, \
        "the saved notebook lacks plotly's mime bundle"
    page.reload(wait_until="domcontentloaded")  # no cell run: the stored outputs alone
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    _wait_for_an_idle_kernel(page)
    # the explorers come back only while their kernel still holds the widgets: not counted
    _assert_every_figure_drew(page, (static, None), f"{where}, after a reload")


@pytest.mark.browser
def test_every_figure_draws_in_notebook_7_and_a_slider_redraws(page, lab):
    pytest.importorskip("notebook", minversion="7")
    name, where = COPIES["notebook"][0], f"Notebook 7, {CHAPTER}'s first three figures"
    _open(page, lab, name, frontend="notebook")
    _run_all(page)
    _assert_every_figure_drew(page, lab[3][name], where)
    _slider_moves_its_figure(page, where)
