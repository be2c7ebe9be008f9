"""The package's layers import only downward (CONTRIBUTING.md, "Layers").

Each module belongs to the layer named by its first folder under ``lrcourse/``; it may
import lrcourse only from the layers listed for it, and only the third-party libraries
its layer allows. Checked on the source (every import, also inside functions).
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "lrcourse"

# layer -> the lrcourse layers it may import (itself included)
MAY_IMPORT = {
    "_checks": {"_checks"},
    "core": {"_checks", "core"},
    "results": {"_checks", "core", "results"},
    "data": {"_checks", "data"},
    "engine": {"_checks", "core", "results", "data", "engine"},
    "cases": {"_checks", "core", "results", "data", "engine", "cases"},
    "figures": {"_checks", "core", "results", "figures"},
    "interview": {"_checks", "core", "results", "figures", "interview"},
    "sweep": {"_checks", "core", "results", "data", "engine", "cases", "sweep"},
    "__init__": {"core"},
}
# third-party libraries a layer must never import
NEVER = {
    "core": {"torch", "plotly", "ipywidgets", "matplotlib", "anywidget", "gymnasium"},
    "results": {"torch", "plotly", "ipywidgets", "matplotlib", "anywidget", "gymnasium"},
    "data": {"torch", "plotly", "ipywidgets", "matplotlib"},
    "engine": {"plotly", "ipywidgets", "matplotlib", "anywidget"},
    "figures": {"torch", "gymnasium"},
    "sweep": {"plotly", "ipywidgets", "matplotlib", "anywidget"},
}


def layer_of(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def imports(path: pathlib.Path):
    """(line, top-level package, lrcourse layer or None) for every import in the module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = ([f"{node.module}.{a.name}" for a in node.names] if node.module == "lrcourse"
                     else [node.module])
        else:
            continue
        for name in names:
            parts = name.split(".")
            yield node.lineno, parts[0], (parts[1] if parts[0] == "lrcourse" and len(parts) > 1 else None)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    layer = layer_of(path)
    assert layer in MAY_IMPORT, f"{path.relative_to(PACKAGE)}: a module outside the layers of CONTRIBUTING.md"
    wrong = []
    for line, top, sub in imports(path):
        if top == "lrcourse" and sub is not None and sub not in MAY_IMPORT[layer]:
            wrong.append(f"line {line}: imports lrcourse.{sub}")
        if top in NEVER.get(layer, ()):
            wrong.append(f"line {line}: imports {top}")
    assert not wrong, f"{path.relative_to(PACKAGE)} ({layer} layer): " + "; ".join(wrong)


def test_no_module_is_named_after_a_chapter():
    """Modules are named by what they hold, not by the chapter that first needed them."""
    named = [p.name for p in MODULES if p.stem.endswith("_plots") or p.stem.startswith(("chapter", "case_"))]
    assert not named, f"modules named after chapters: {named}"


def test_the_numpy_layers_and_the_figures_do_not_load_torch():
    """At run time too: importing them (and what they import) never loads torch."""
    import subprocess
    import sys

    code = ("import sys, lrcourse, lrcourse.core, lrcourse.results, lrcourse.results.analysis, "
            "lrcourse.results.tables, lrcourse.figures, lrcourse.data.images, lrcourse.data.text, "
            "lrcourse.interview; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
