"""The package installed as a user gets it (``pip install .``, not editable): its data ships.

Colab installs lrcourse from the repository as a wheel; the study guide must work there,
without the book's chapters beside it.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory):
    """A new virtual environment with lrcourse installed from a built wheel; the
    dependencies come from this environment's site-packages (through a .pth file,
    so none of this environment's own .pth files, like the editable install's, run)."""
    env = tmp_path_factory.mktemp("fresh-venv")
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = tmp_path_factory.mktemp("source")  # a copy: building leaves build/ behind
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "lrcourse", source / "lrcourse", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(source)],
                   check=True, capture_output=True, cwd=env)
    return python, env


def run(python, env, code: str) -> str:
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=env,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_guide_and_the_deck_work_from_an_installed_wheel(fresh_install):
    python, env = fresh_install
    out = run(python, env, """
import json, lrcourse, lrcourse.interview as interview
guide = interview.load()
html = interview.topic_html(guide, guide.topics[0].id)
path = interview.build_deck(guide, "deck.apkg")
print(json.dumps({"file": lrcourse.__file__, "questions": len(guide.questions),
                  "links": html.count("<a href="), "deck": path.stat().st_size}))
""")
    got = json.loads(out)
    assert "site-packages" in got["file"] and str(ROOT) not in got["file"]
    assert got["questions"] == len(__import__("lrcourse.interview").interview.load().questions)
    assert got["links"] > 0 and got["deck"] > 10_000


def test_the_shipped_section_titles_match_the_book():
    from lrcourse import interview

    shipped = json.loads(interview.SECTION_INDEX.read_text(encoding="utf-8"))
    fresh = interview.section_index(interview.load(), interview.book_sections())
    assert shipped == fresh, "sections.json is stale: run `python -m lrcourse.interview --index`"
