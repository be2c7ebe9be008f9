"""Install plotly.js's cartesian bundle for the book: ``python book/_ext/fetch_plotly.py DEST``.

The bundle (1.5 MB; every trace the book draws: scatter, heatmap, contour) comes from the npm
registry's ``plotly.js-cartesian-dist-min`` at the plotly.js version the pinned ``plotly``
package ships, the way pip brings the Python packages: it is installed with the environment
(``make`` runs this), never committed. Without npm the book falls back to the full bundle the
``plotly`` package ships (4.8 MB a page with figures), and says so when it builds.
"""

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NAME = "plotly-cartesian.min.js"


def fetch(dest: Path) -> Path | None:
    from plotly.offline import get_plotlyjs_version

    version = get_plotlyjs_version()
    target = dest / NAME
    if target.is_file() and f"v{version}" in target.read_text(encoding="utf-8")[:200]:
        return target
    if shutil.which("npm") is None:
        print("npm is missing: the book will serve the full plotly.js bundle (install npm for the lighter one)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"plotly.js-cartesian-dist-min@{version}", "--silent", "--pack-destination", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
            tar.extractall(tmp, members=[m for m in tar.getmembers() if m.name in (f"package/{NAME}", "package/LICENSE")],
                           filter="data")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(tmp) / "package" / NAME, target)
        shutil.copy2(Path(tmp) / "package" / "LICENSE", dest / "plotly-LICENSE")
    return target


if __name__ == "__main__":
    got = fetch(Path(sys.argv[1]))
    if got:
        print(f"plotly.js's cartesian bundle: {got}")
