"""formcheck's wheel carries the front end as package data.

Everything else is in pyproject.toml. This adds one step to ``build_py``: the page
(``server/public/``) and the tasks-vision files it loads (``server/node_modules/@mediapipe/
tasks-vision/``: the ES module and the WebAssembly runtime, exactly the files
``formcheck/server/web.py`` serves) are copied into ``formcheck/server/web/`` of the build, so an
installed formcheck serves the same page as a checkout. Run ``npm ci`` in ``server/`` first
(``scripts/bootstrap.sh`` does). Editable installs skip the copy: a checkout serves ``server/``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SERVER_DIR = ROOT / "server"
TASKS_VISION_DIR = SERVER_DIR / "node_modules" / "@mediapipe" / "tasks-vision"
WEB_MODULE = ROOT / "formcheck" / "server" / "web.py"
WANTED = "TASKS_VISION_FILES"


def tasks_vision_files() -> list[str]:
    """The names in web.py's TASKS_VISION_FILES (read without importing formcheck)."""
    tree = ast.parse(WEB_MODULE.read_text(encoding="utf-8"))
    for node in tree.body:
        named = isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == WANTED
        if named and node.value is not None:
            return list(ast.literal_eval(node.value))
    raise RuntimeError(f"{WANTED} not found in {WEB_MODULE}")


def copy_web(target: Path) -> None:
    missing = [name for name in tasks_vision_files() if not (TASKS_VISION_DIR / name).is_file()]
    if missing:
        raise RuntimeError(
            f"The page's tasks-vision files are missing ({', '.join(missing)}): run `npm ci` in "
            f"{SERVER_DIR} (scripts/bootstrap.sh does) before building a wheel."
        )
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SERVER_DIR / "public", target / "public")
    for name in tasks_vision_files():
        dest = target / "vendor" / "tasks-vision" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TASKS_VISION_DIR / name, dest)
    shutil.copy2(TASKS_VISION_DIR / "package.json", target / "vendor" / "tasks-vision")


class BuildPyWithWeb(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            copy_web(Path(self.build_lib) / "formcheck" / "server" / "web")


setup(cmdclass={"build_py": BuildPyWithWeb})
