"""Serve plotly.js and MathJax from the book's own static files (no CDN, works offline).

Both come from installed packages (``plotly``, and ``django-static-mathjax``, which ships
MathJax 3's files and needs no Django) and are copied into ``_static/`` when the build
finishes; neither is committed. plotly.js loads once per page, in the head, before any
explorer's script calls ``Plotly.newPlot``.
"""

import importlib.util
import shutil
from pathlib import Path

PLOTLY = "plotly.min.js"
MATHJAX = "mathjax"  # folder under _static
# MathJax 3 (es5 build): the TeX-to-HTML bundle and what it loads lazily (fonts, menu,
# TeX extensions); the other bundles and the speech-rule engine are left out.
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "ui", "a11y"]


def _mathjax_source() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax's files are missing: pip install -r requirements.txt (django-static-mathjax)")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"


def _use_local_mathjax(app, config):
    config.mathjax_path = f"{MATHJAX}/tex-chtml.js"  # relative paths resolve inside _static


def _copy_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from plotly.offline import get_plotlyjs

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / PLOTLY).write_text(get_plotlyjs(), encoding="utf-8")
    source = _mathjax_source()
    for part in MATHJAX_PARTS:
        src, dst = source / part, static / MATHJAX / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Jupyter Book 1 registers sphinx-thebe's inline set-up twice, which makes every page
    throw "Identifier 'THEBE_JS_URL' has already been declared"; keep the first of each script."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.add_js_file(PLOTLY, priority=100)
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_assets)
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
