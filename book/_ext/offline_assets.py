"""Serve the book's scripts from its own static files, and only to the pages that need them.

* plotly.js's cartesian bundle (installed with the environment by ``fetch_plotly.py``, see
  ``INSTALLED_PLOTLY``) is copied into ``_static/`` when the build finishes; it is not
  committed. No CDN: the book works offline.
* Math is rendered to MathML at build time (``latex2mathml``, pure Python), which browsers
  draw natively and screen readers read: no page loads MathJax (1.2 MB with its fonts, the
  study guide's 291 formulas made it the heaviest light page). A formula the converter
  cannot read fails the build (a warning, and the book builds with warnings as errors).
* plotly.js loads only on pages that draw a figure, deferred so the text paints first. Each
  figure's inline ``Plotly.newPlot(...)`` script (written into the notebooks' outputs by
  plotly's ``to_html``) becomes a JSON block that ``lrcourse-figures.js`` draws once plotly.js
  is there: without plotly's full template (the script supplies one small shared template
  that follows the light/dark theme), with numbers stored as compact typed arrays (16-bit where that
  keeps them within 0.1 %, else float32), and with slider
  data that no step changes stored once.
* The theme's fontawesome.js (1.5 MB, which swaps icons for SVGs) is dropped: the theme's CSS
  already draws the same icons from its web fonts.
* myst-nb's ``<summary aria-label="Toggle hidden content">`` names the control differently
  from its visible text (axe: label-content-name-mismatch); the label is removed.
"""

import base64
import hashlib
import html
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
from latex2mathml.converter import convert as latex_to_mathml
from sphinx.builders.html._assets import _JavaScript
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PLOTLY = "plotly-cartesian.min.js"
# plotly.js's cartesian bundle (scatter, heatmap, contour, bar, ...: every trace the book draws),
# 1.5 MB against the full bundle's 4.8 MB: npm's plotly.js-cartesian-dist-min (MIT) at the version
# the pinned plotly package ships, installed into the environment by fetch_plotly.py (make does it).
# Without it the build serves the full bundle the plotly package ships, under the same name.
INSTALLED_PLOTLY = Path(sys.prefix) / "share" / "lrcourse" / PLOTLY
FIGURES_JS = "lrcourse-figures.js"
STYLE_CSS = "lrcourse.css"
FONTAWESOME_JS = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
# Sphinx's math markup (myst's $...$ and $$...$$; lrcourse.interview writes the same):
# <span class="math notranslate nohighlight">\(TeX\)</span>, <div ...>\[TeX\]</div>
MATH = re.compile(r'<(span|div) class="math notranslate nohighlight">\s*\\([(\[])(.*?)\\[)\]]\s*</\1>', re.DOTALL)
MATHML_NAMESPACE = ' xmlns="http://www.w3.org/1998/Math/MathML"'  # implied in HTML
CHARACTER_REFERENCE = re.compile(r"&#x([0-9A-Fa-f]+);")  # latex2mathml writes α as &#x003B1;

# plotly's to_html: <script> window.PLOTLYENV=...; if (document.getElementById("ID")) {
#   Plotly.newPlot("ID", DATA, LAYOUT, CONFIG) }; </script>
FIGURE_START = re.compile(r'<script type="text/javascript">|<script>')
NEWPLOT = re.compile(r'\s*window\.PLOTLYENV=window\.PLOTLYENV \|\| \{\};\s*if \(document\.getElementById\("([^"]+)"\)\) \{'
                     r'\s*Plotly\.newPlot\(\s*"\1",\s*')
NEWPLOT_END = re.compile(r'\s*\)\s*\};?\s*</script>')
SEPARATOR = re.compile(r"\s*,\s*")
PACK_MIN = 8  # shorter numeric lists stay as JSON numbers


# -- math --------------------------------------------------------------------------------

def _character(reference) -> str:
    """The character itself (UTF-8 pages), but where HTML needs the reference."""
    character = chr(int(reference.group(1), 16))
    return reference.group(0) if character in '<>&"' else character


def render_math(body: str) -> tuple[str, list[str]]:
    """Each formula of Sphinx's math markup in ``body`` as MathML; (new body, TeX it could not read).

    ``\\( \\)`` becomes inline math, ``\\[ \\]`` a displayed block; a formula the converter
    rejects is left as it was and returned."""
    failed = []

    def mathml(match):
        tag, opener, tex = match.group(1), match.group(2), html.unescape(match.group(3)).strip()
        try:
            converted = latex_to_mathml(tex, display="block" if opener == "[" else "inline")
        except Exception:  # noqa: BLE001 - the converter raises many kinds; the build reports the formula
            failed.append(tex)
            return match.group(0)
        converted = CHARACTER_REFERENCE.sub(_character, converted.replace(MATHML_NAMESPACE, ""))
        return f'<{tag} class="math notranslate">{converted}</{tag}>'

    return MATH.sub(mathml, body), failed


# -- figures ---------------------------------------------------------------------------

def _packed_numbers(values) -> dict | None:
    """A numeric list (None = gap) as a compact typed array; None if it is not numeric.

    Integers stay exact (int16/int32). Floats are stored in 16 bits between their min and max
    (of log10 when all are positive and span over two decades) when that keeps every value
    within 0.1 % (plus 1e-5 of the range): a curve's shape and its hover values survive, at a
    quarter of float64's size; otherwise float32. ``lrcourse-figures.js`` decodes them."""
    if len(values) < PACK_MIN or not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                                         for v in values):
        return None
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    finite = np.isfinite(array)
    if not finite.any():
        return None
    if all(isinstance(v, int) for v in values) and np.abs(array).max() < 2**31:
        dtype = "<i2" if np.abs(array).max() < 2**15 else "<i4"
        return {"dtype": dtype[1:], "bdata": base64.b64encode(array.astype(dtype).tobytes()).decode()}
    values_ = array[finite]
    log = bool(values_.min() > 0 and values_.max() / values_.min() > 100)
    t = np.log10(values_) if log else values_
    lo, hi = float(t.min()), float(t.max())
    span = hi - lo or 1.0
    codes = np.round((t - lo) / span * 65534)
    back = lo + codes / 65534 * span
    back = 10**back if log else back
    if np.all(np.abs(back - values_) <= 1e-3 * np.abs(values_) + 1e-5 * (values_.max() - values_.min())):
        full = np.full(array.shape, 65535, dtype="<u2")
        full[finite] = codes.astype("<u2")
        return {"dtype": "q2", "bdata": base64.b64encode(full.tobytes()).decode(), "lo": lo, "hi": lo + span,
                "log": log}
    return {"dtype": "f4", "bdata": base64.b64encode(array.astype("<f4").tobytes()).decode()}


PACKED_KEYS = ("x", "y", "z")  # coordinates only: tick values, ranges and hover data stay exact


def _pack(value, key=None):
    """The coordinate arrays inside ``value`` (lists and plotly's float64 arrays) packed."""
    if isinstance(value, dict):
        if key in PACKED_KEYS and value.get("dtype") == "f8" and "bdata" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<f8")
            if "shape" not in value:
                return _packed_numbers([float(v) if np.isfinite(v) else None for v in array]) or value
            return {**value, "dtype": "f4", "bdata": base64.b64encode(array.astype("<f4").tobytes()).decode()}
        return {k: _pack(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return (key in PACKED_KEYS and _packed_numbers(value)) or [_pack(v, key) for v in value]
    return value


def _store_constant_slider_data_once(data, layout):
    """Slider steps re-send every dynamic trace; a property no step changes moves into the trace."""
    for slider in layout.get("sliders", []):
        steps = [s for s in slider.get("steps", []) if s.get("method") == "update" and len(s.get("args", [])) >= 3]
        if not steps or len(steps) != len(slider["steps"]):
            continue
        traces = steps[0]["args"][2]
        if any(s["args"][2] != traces for s in steps) or any(t >= len(data) for t in traces):
            continue
        for key in list(steps[0]["args"][0]):
            first = json.dumps(steps[0]["args"][0][key], sort_keys=True)
            if all(json.dumps(s["args"][0].get(key), sort_keys=True) == first for s in steps):
                for trace, value in zip(traces, steps[0]["args"][0][key]):
                    data[trace][key] = value
                for s in steps:
                    del s["args"][0][key]


def _figure_json(figure_id, data, layout, config) -> str:
    layout.pop("template", None)  # lrcourse-figures.js supplies a shared one
    _store_constant_slider_data_once(data, layout)
    payload = {"data": _pack(data), "layout": _pack(layout), "config": config}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return (f'<script type="application/json" class="lrc-figure" data-for="{html.escape(figure_id)}">'
            f"{text}</script>")


def rewrite_figures(body: str) -> tuple[str, int]:
    """Each plotly ``Plotly.newPlot`` script in ``body`` as a JSON block; (new body, figures)."""
    decoder = json.JSONDecoder()
    out, pos, count = [], 0, 0
    for start in FIGURE_START.finditer(body):
        if start.start() < pos:
            continue
        head = NEWPLOT.match(body, start.end())
        if not head:
            continue
        try:
            i = head.end()
            parts = []
            for k in range(3):
                value, i = decoder.raw_decode(body, i)
                parts.append(value)
                if k < 2:
                    i = SEPARATOR.match(body, i).end()
            end = NEWPLOT_END.match(body, i)
        except (ValueError, AttributeError):
            end = None
        if not end:
            continue
        out += [body[pos:start.start()], _figure_json(head.group(1), *parts)]
        pos, count = end.end(), count + 1
    out.append(body[pos:])
    return "".join(out), count


# -- per page --------------------------------------------------------------------------

def _page_assets(app, pagename, templatename, context, doctree):
    """Figures as JSON, plotly.js and the figure script on pages with figures, no MathJax (the
    math becomes MathML when the build finishes), and a single copy of each script (Jupyter
    Book 1 registers sphinx-thebe's inline set-up twice: "Identifier 'THEBE_JS_URL' has
    already been declared")."""
    body = context.get("body", "")
    if "Toggle hidden content" in body:
        body = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")
    body, figures = rewrite_figures(body)
    if "Plotly.newPlot" in body:
        logger.warning(f"{pagename}: a Plotly.newPlot script that offline_assets cannot rewrite "
                       "(it would run before the deferred plotly.js)")
    context["body"] = body
    scripts = context.get("script_files")
    if scripts is None:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", {})
        if "mathjax" in filename.lower() or "window.MathJax" in attributes.get("body", ""):
            continue
        key = (filename, repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique
    if figures:  # deferred: both run, in this order, once the page is parsed
        context["script_files"] += [_JavaScript(f"_static/{PLOTLY}", priority=800, defer="defer"),
                                    _JavaScript(f"_static/{FIGURES_JS}", priority=801, defer="defer")]


def _copy_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    if INSTALLED_PLOTLY.is_file():
        shutil.copy2(INSTALLED_PLOTLY, static / PLOTLY)
        shutil.copy2(INSTALLED_PLOTLY.with_name("plotly-LICENSE"), static / "plotly-LICENSE")
    else:
        from plotly.offline import get_plotlyjs

        (static / PLOTLY).write_text(get_plotlyjs(), encoding="utf-8")
    for name in (FIGURES_JS, STYLE_CSS):
        shutil.copy2(HERE / name, static / name)
    for page in Path(app.outdir).rglob("*.html"):  # whole pages: headings' math is in the tables of contents too
        text = page.read_text(encoding="utf-8")
        lighter, unreadable = render_math(FONTAWESOME_JS.sub("", text))
        for tex in unreadable:
            logger.warning(f"{page.relative_to(app.outdir)}: latex2mathml cannot convert the formula {tex!r}")
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")


def installed_plotly_version() -> str | None:
    """The version in the installed bundle's banner (``plotly.js (cartesian - minified) vX.Y.Z``)."""
    if not INSTALLED_PLOTLY.is_file():
        return None
    match = re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", INSTALLED_PLOTLY.read_text(encoding="utf-8")[:400])
    return match.group(1) if match else "unknown"


def _check_plotly_version(app, config):
    from plotly.offline import get_plotlyjs_version

    installed = installed_plotly_version()
    if installed is None:
        logger.info(f"plotly.js's cartesian bundle is not installed ({INSTALLED_PLOTLY}): serving the full "
                    "bundle; `python book/_ext/fetch_plotly.py` installs the lighter one (make does)")
    elif installed != get_plotlyjs_version():
        logger.warning(f"{INSTALLED_PLOTLY} is plotly.js {installed}, the plotly package ships "
                       f"{get_plotlyjs_version()}: run python book/_ext/fetch_plotly.py {INSTALLED_PLOTLY.parent}")


def setup(app):
    app.connect("config-inited", _check_plotly_version)
    app.add_css_file(STYLE_CSS)
    app.connect("html-page-context", _page_assets, priority=900)
    app.connect("build-finished", _copy_assets)
    # Pages built by an earlier version of this file are rewritten: its hash is the env version.
    env_version = int(hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:8], 16)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": env_version}
