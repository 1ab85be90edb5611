"""The pose model bundle: TFLite metadata, the stored zip, caching, and the failure messages."""

from __future__ import annotations

import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import av
import mediapipe as mp
import numpy as np
import pytest
from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
from mediapipe.tasks.metadata import schema_py_generated as tflite_fb
from mediapipe.tasks.python import BaseOptions, vision

from formcheck.errors import ModelUnavailableError
from formcheck.pose import model
from formcheck.pose.landmarks import Landmark
from formcheck.pose.model import (
    BUILT_BUNDLE_NAME,
    BUILT_MANIFEST_NAME,
    CACHE_DIR_NAME,
    DETECTOR_ENTRY,
    DETECTOR_SOURCE,
    LANDMARKS_ENTRY,
    LANDMARKS_SOURCE,
    SOURCE_LABEL,
    ZIP_ENTRY_ALIGNMENT_BYTES,
    ZIP_TIMESTAMP,
    BuiltBundle,
    ModelInfo,
    SourceModel,
    build_bundle,
    default_models_dir,
    ensure_model,
)
from formcheck.pose.tflite_metadata import (
    METADATA_FIELD_NAME,
    add_image_metadata,
    normalization_of,
    read_model_metadata,
)
from tests.conftest import SHARED_VIDEOS

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CLIP = SHARED_VIDEOS / "hinge" / "0016c_1.mp4"
LANDMARKS_OUTPUTS = 5  # landmarks, presence, segmentation, heatmap, world landmarks
DETECTOR_OUTPUTS = 2  # boxes with keypoints, scores
ZIP_NAME_LENGTH_OFFSET = 26  # in a local file header
ZIP_LOCAL_HEADER_BYTES = 30
MASK_PERSON_PROBABILITY = 0.5
MS_PER_S = 1000.0


def _quiet(_message: str) -> None:
    return None


@pytest.fixture(scope="session")
def real_build() -> BuiltBundle:
    """The built bundle in the real models dir (downloads mediapipe once, then reuses it)."""
    bundle = BuiltBundle(default_models_dir(), _quiet)
    try:
        bundle.ensure()
    except ModelUnavailableError as error:
        pytest.skip(f"the pose model cannot be built here: {error}")
    return bundle


@pytest.fixture(scope="session")
def sources(real_build: BuiltBundle) -> dict[SourceModel, bytes]:
    return {
        source: (real_build.cache_dir / source.file_name).read_bytes()
        for source in (DETECTOR_SOURCE, LANDMARKS_SOURCE)
    }


@pytest.fixture
def seeded_dir(tmp_path: Path, real_build: BuiltBundle) -> Path:
    """An empty models dir whose source cache is copied from the real one: builds offline."""
    models_dir = tmp_path / "models"
    shutil.copytree(real_build.cache_dir, models_dir / CACHE_DIR_NAME / SOURCE_LABEL)
    return models_dir


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip sees only an index on a closed local port: a real pip run that cannot connect."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{closed_port}/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)


def _forbid_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the bundle was rebuilt")

    monkeypatch.setattr(model, "build_bundle", fail)


def _assert_one_sentence(error: ModelUnavailableError) -> str:
    message = str(error)
    assert "\n" not in message
    assert message.endswith(".")
    assert "Traceback" not in message
    return message


# --- TFLite metadata --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "outputs"),
    [(DETECTOR_SOURCE, DETECTOR_OUTPUTS), (LANDMARKS_SOURCE, LANDMARKS_OUTPUTS)],
)
def test_metadata_round_trip(
    sources: dict[SourceModel, bytes], source: SourceModel, outputs: int
) -> None:
    original = sources[source]
    rebuilt = add_image_metadata(original, mean=source.mean, std=source.std, name="test model")

    assert rebuilt[4:8] == b"TFL3"
    parsed = tflite_fb.ModelT.InitFromPackedBuf(bytearray(rebuilt), 0)
    before = tflite_fb.ModelT.InitFromPackedBuf(bytearray(original), 0)
    entries = [entry for entry in parsed.metadata if entry.name == METADATA_FIELD_NAME.encode()]
    assert len(entries) == 1
    raw = parsed.buffers[entries[0].buffer].data.tobytes()
    assert meta_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(raw, 0)

    metadata = read_model_metadata(rebuilt)
    assert metadata is not None
    assert metadata.name == b"test model"
    assert len(metadata.subgraphMetadata) == 1
    subgraph = metadata.subgraphMetadata[0]
    assert len(subgraph.inputTensorMetadata) == 1
    assert len(subgraph.outputTensorMetadata) == outputs
    image = subgraph.inputTensorMetadata[0].content.contentProperties
    assert image.colorSpace == meta_fb.ColorSpaceType.RGB
    assert normalization_of(metadata) == (source.mean, source.std)

    # The network itself is untouched: same tensors, same weights.
    assert len(parsed.subgraphs[0].tensors) == len(before.subgraphs[0].tensors)
    for index, old in enumerate(before.buffers):
        if old.data is not None and index != entries[0].buffer:
            new = parsed.buffers[index].data
            assert new is not None
            assert new.tobytes() == old.data.tobytes()


def test_metadata_replaces_existing_entry(sources: dict[SourceModel, bytes]) -> None:
    once = add_image_metadata(sources[DETECTOR_SOURCE], mean=1.0, std=2.0, name="first")
    twice = add_image_metadata(once, mean=127.5, std=127.5, name="second")
    metadata = read_model_metadata(twice)
    assert metadata is not None
    assert metadata.name == b"second"
    assert normalization_of(metadata) == (127.5, 127.5)
    assert abs(len(twice) - len(once)) < len(once) // 1000


def test_metadata_rejects_non_tflite() -> None:
    with pytest.raises(ValueError, match="TFL3"):
        add_image_metadata(b"\0" * 64, mean=0.0, std=255.0, name="x")


# --- the bundle -------------------------------------------------------------------------------


def test_built_bundle_is_stored_aligned_zip(real_build: BuiltBundle) -> None:
    data = real_build.bundle_path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        entries = bundle.infolist()
        assert [entry.filename for entry in entries] == [DETECTOR_ENTRY, LANDMARKS_ENTRY]
        for entry in entries:
            assert entry.compress_type == zipfile.ZIP_STORED
            assert entry.date_time == ZIP_TIMESTAMP
            name_bytes, extra_bytes = struct.unpack_from(
                "<HH", data, entry.header_offset + ZIP_NAME_LENGTH_OFFSET
            )
            start = entry.header_offset + ZIP_LOCAL_HEADER_BYTES + name_bytes + extra_bytes
            assert start % ZIP_ENTRY_ALIGNMENT_BYTES == 0
            tflite = bundle.read(entry)
            metadata = read_model_metadata(tflite)
            assert metadata is not None
            assert normalization_of(metadata) is not None
        assert bundle.testzip() is None


def test_build_is_reproducible(tmp_path: Path, real_build: BuiltBundle) -> None:
    first = b"0000TFL3first"
    second = b"0000TFL3second"
    assert build_bundle(first, second) == build_bundle(first, second)
    digests = set()
    for name in ("a", "b"):
        models_dir = tmp_path / name
        shutil.copytree(real_build.cache_dir, models_dir / CACHE_DIR_NAME / SOURCE_LABEL)
        digests.add(BuiltBundle(models_dir, _quiet).build().sha256)
    assert len(digests) == 1


def test_build_bundle_rejects_non_tflite() -> None:
    with pytest.raises(ValueError, match=DETECTOR_ENTRY):
        build_bundle(b"not a model", b"0000TFL3")


# --- caching ----------------------------------------------------------------------------------


def test_second_call_reuses_the_bundle(seeded_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ensure_model(models_dir=seeded_dir)
    assert first.source == f"built:{SOURCE_LABEL}"
    assert first.path == seeded_dir / BUILT_BUNDLE_NAME
    assert (seeded_dir / BUILT_MANIFEST_NAME).is_file()
    modified_ns = first.path.stat().st_mtime_ns

    _forbid_build(monkeypatch)
    second = ensure_model(models_dir=seeded_dir)
    assert second == first
    assert second.path.stat().st_mtime_ns == modified_ns


def test_corrupted_bundle_is_rebuilt(seeded_dir: Path) -> None:
    first = ensure_model(models_dir=seeded_dir)
    data = bytearray(first.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    first.path.write_bytes(bytes(data))

    messages: list[str] = []
    again = ensure_model(models_dir=seeded_dir, log=messages.append)
    assert again.sha256 == first.sha256
    assert model.sha256_of(again.path) == first.sha256
    assert any("damaged" in message for message in messages)


def test_missing_manifest_triggers_rebuild(seeded_dir: Path) -> None:
    first = ensure_model(models_dir=seeded_dir)
    (seeded_dir / BUILT_MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    messages: list[str] = []
    again = ensure_model(models_dir=seeded_dir, log=messages.append)
    assert again == first
    assert any("Building" in message for message in messages)


def test_damaged_source_cache_is_fetched_again(
    seeded_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = seeded_dir / CACHE_DIR_NAME / SOURCE_LABEL / LANDMARKS_SOURCE.file_name
    cached.write_bytes(b"damaged")
    fetched: list[Path] = []

    def fake_download(dest_dir: Path, models_dir: Path) -> Path:
        fetched.append(dest_dir)
        raise ModelUnavailableError("offline in this test.")

    monkeypatch.setattr(model, "download_source_wheel", fake_download)
    with pytest.raises(ModelUnavailableError, match="offline"):
        ensure_model(models_dir=seeded_dir)
    assert len(fetched) == 1


# --- choosing a bundle ------------------------------------------------------------------------


def test_official_bundle_is_preferred(
    tmp_path: Path, real_build: BuiltBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_build(monkeypatch)
    shutil.copyfile(real_build.bundle_path, tmp_path / "pose_landmarker_lite.task")
    shutil.copyfile(real_build.bundle_path, tmp_path / "pose_landmarker_full.task")
    info = ensure_model(models_dir=tmp_path)
    assert info.source == "official:pose_landmarker_full.task"
    assert info.sha256 == model.sha256_of(real_build.bundle_path)

    (tmp_path / "pose_landmarker_full.task").write_bytes(b"not a zip")
    messages: list[str] = []
    info = ensure_model(models_dir=tmp_path, log=messages.append)
    assert info.source == "official:pose_landmarker_lite.task"
    assert any("pose_landmarker_full.task" in message for message in messages)


def test_explicit_model_is_used(real_build: BuiltBundle, tmp_path: Path) -> None:
    info = ensure_model(real_build.bundle_path, models_dir=tmp_path)
    assert info == ModelInfo(
        real_build.bundle_path,
        model.sha256_of(real_build.bundle_path),
        f"user:{real_build.bundle_path}",
    )
    assert not any(tmp_path.iterdir())


def _zip_with(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "absent.task", "does not exist"),
        (lambda d: d, "not a file"),
        (lambda d: (d / "text.task").write_text("hello") and d / "text.task", "not a zip"),
        (lambda d: _zip_with(d / "empty.task", {"readme.txt": b"x"}), "pose_detector.tflite"),
        (
            lambda d: _zip_with(
                d / "fake.task", {DETECTOR_ENTRY: b"no model", LANDMARKS_ENTRY: b"0000TFL3"}
            ),
            "not a TFLite model",
        ),
    ],
)
def test_explicit_bad_model_is_explained(tmp_path: Path, make: object, reason: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ModelUnavailableError) as caught:
        ensure_model(path)
    message = _assert_one_sentence(caught.value)
    assert str(path) in message
    assert reason in message
    assert "--model" in message


# --- no model to be had -----------------------------------------------------------------------


@pytest.mark.slow
def test_unreachable_index_is_explained(tmp_path: Path, offline: None) -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        ensure_model(models_dir=tmp_path)
    message = _assert_one_sentence(caught.value)
    assert "could not be reached" in message
    assert "pose_landmarker_full.task" in message
    assert str(tmp_path) in message
    assert "--model PATH" in message
    assert not (tmp_path / BUILT_BUNDLE_NAME).exists()


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (subprocess.CompletedProcess([], 1, "", "/x/python: No module named pip\n"), "pip is not"),
        (
            subprocess.CompletedProcess(
                [], 1, "", "ERROR: No matching distribution found for mediapipe==0.10.21\n"
            ),
            "No matching distribution found",
        ),
        (FileNotFoundError(2, "No such file or directory"), "Could not run pip"),
        (subprocess.TimeoutExpired("pip", 1.0), "took over"),
    ],
)
def test_pip_failures_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcome: object, expected: str
) -> None:
    def fake_run(*_args: object, **_kwargs: object) -> object:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(ModelUnavailableError) as caught:
        ensure_model(models_dir=tmp_path)
    message = _assert_one_sentence(caught.value)
    assert expected in message
    assert "--model PATH" in message


def test_unwritable_models_dir_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the models dir should be")
    with pytest.raises(ModelUnavailableError) as caught:
        ensure_model(models_dir=blocker / "models")
    message = _assert_one_sentence(caught.value)
    assert "FORMCHECK_MODELS_DIR" in message


# --- where models live ------------------------------------------------------------------------


def test_models_dir_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(model.ENV_MODELS_DIR, raising=False)
    assert default_models_dir() == REPO_ROOT / "models"

    monkeypatch.setenv(model.ENV_MODELS_DIR, str(tmp_path / "mine"))
    assert default_models_dir() == tmp_path / "mine"

    monkeypatch.delenv(model.ENV_MODELS_DIR)
    monkeypatch.setattr(model, "_checkout_root", lambda: None)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_models_dir() == tmp_path / "cache" / "formcheck" / "models"


# --- the bundle really works ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE_CLIP.is_file(), reason=f"shared clip {SAMPLE_CLIP} is absent")
def test_built_bundle_finds_a_pose_with_mask(real_build: BuiltBundle) -> None:
    with av.open(str(SAMPLE_CLIP)) as container:
        frame = next(container.decode(video=0))
        rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
        t_ms = round(float(frame.time or 0.0) * MS_PER_S)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(real_build.bundle_path)),
        running_mode=vision.RunningMode.VIDEO,
        output_segmentation_masks=True,
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = landmarker.detect_for_video(image, t_ms)

    assert len(result.pose_landmarks) == 1
    assert len(result.pose_world_landmarks) == 1
    hip = result.pose_landmarks[0][Landmark.LEFT_HIP]
    assert 0.0 < hip.x < 1.0
    assert 0.0 < hip.y < 1.0
    mask = result.segmentation_masks[0].numpy_view()
    height_px, width_px = rgb.shape[:2]
    assert mask.shape[:2] == (height_px, width_px)
    hip_col, hip_row = int(hip.x * width_px), int(hip.y * height_px)
    assert mask[hip_row, hip_col].item() > MASK_PERSON_PROBABILITY
