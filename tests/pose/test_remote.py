"""The browser's pose payload: what goes in comes out, and anything else is a typed error."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formcheck.kinematics.mask_crop import trunk_mask_box
from formcheck.pose.landmarks import Landmark
from formcheck.pose.remote import (
    HEADER,
    IMAGE_LANDMARK_BYTES,
    MASK_HEADER,
    WORLD_LANDMARK_BYTES,
    PayloadFormatError,
    PayloadLimits,
    PayloadTooLargeError,
    PayloadValueError,
    PosePayloadError,
    decode_payload,
    encode_payload,
    is_pose_payload,
)
from formcheck.types import PoseFrame
from tests.stick_figure import StickPose, stick_frame

LIMITS = PayloadLimits(max_payload_bytes=400_000, max_image_side_px=4096)
WIDTH_PX, HEIGHT_PX = 640, 480
LANDMARKS_AT = HEADER.size
WORLD_AT = LANDMARKS_AT + IMAGE_LANDMARK_BYTES
MASK_AT = WORLD_AT + WORLD_LANDMARK_BYTES
MASK_STEP = 1.0 / 255.0


def person(t_ms: float = 0.0, *, hip_flexion_deg: float = 40.0) -> PoseFrame:
    """A stick figure with a soft person mask around its trunk and legs, 640x480."""
    frame = stick_frame(StickPose(hip_flexion_deg=hip_flexion_deg), t_ms=t_ms)
    assert frame.landmarks_px is not None
    mask = np.zeros((HEIGHT_PX, WIDTH_PX), dtype=np.float32)
    p = frame.landmarks_px
    for a, b in (
        (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP),
        (Landmark.LEFT_HIP, Landmark.LEFT_KNEE),
    ):
        cv2.line(mask, tuple(int(v) for v in p[a, :2]), tuple(int(v) for v in p[b, :2]), 1.0, 40)
    soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), 1.5), dtype=np.float32)
    return dataclasses.replace(frame, mask=soft, people_detected=1)


def test_a_pose_goes_through_unchanged_but_for_float32_and_the_mask_levels() -> None:
    pose = person()
    data = encode_payload(pose, seq=7, t_ms=1234.5, mean_luma=101.25)
    assert is_pose_payload(data)
    got = decode_payload(data, LIMITS)
    assert (got.seq, got.t_ms, got.mean_luma) == (7, 1234.5, 101.25)
    out = got.pose
    assert (out.image_width_px, out.image_height_px) == (WIDTH_PX, HEIGHT_PX)
    assert out.people_detected == 1 and out.steady_tracking
    assert out.landmarks_px is not None and pose.landmarks_px is not None
    np.testing.assert_allclose(out.landmarks_px, pose.landmarks_px, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(out.visibility, pose.visibility, atol=1e-6)
    np.testing.assert_allclose(out.world_m, pose.world_m, atol=1e-6)
    box = trunk_mask_box(pose.landmarks_px, WIDTH_PX, HEIGHT_PX)
    assert box is not None and out.mask is not None and pose.mask is not None
    assert out.mask_origin_px == (box.x0, box.y0)
    assert out.mask.shape == (box.height_px, box.width_px)
    want = pose.mask[box.y0 : box.y1, box.x0 : box.x1]
    assert np.abs(out.mask - want).max() <= MASK_STEP / 2 + 1e-6
    # A few kB instead of the 1.2 MB float mask or a 30 kB JPEG.
    assert len(data) < 8_000


def test_no_pose_is_a_bare_header() -> None:
    pose = PoseFrame(10.0, WIDTH_PX, HEIGHT_PX, people_detected=0, steady_tracking=False)
    data = encode_payload(pose, seq=1, t_ms=10.0, mean_luma=3.0)
    assert len(data) == HEADER.size
    got = decode_payload(data, LIMITS).pose
    assert not got.has_pose and got.mask is None and not got.steady_tracking


def valid() -> bytes:
    return encode_payload(person(), seq=3, t_ms=500.0, mean_luma=90.0)


def header_with(**fields: object) -> bytes:
    """The valid payload with some header fields replaced."""
    data = valid()
    names = ("magic", "seq", "t_ms", "width", "height", "flags", "people", "reserved", "luma")
    values = dict(zip(names, HEADER.unpack_from(data), strict=True))
    values.update(fields)
    return HEADER.pack(*values.values()) + data[HEADER.size :]


def put_f32(data: bytes, offset: int, value: float) -> bytes:
    return data[:offset] + struct.pack("<f", value) + data[offset + 4 :]


def with_mask(crop: tuple[int, int, int, int], body: bytes, *, encoding: int = 1) -> bytes:
    data = valid()
    return data[:MASK_AT] + MASK_HEADER.pack(*crop, encoding, len(body)) + body


BAD_PAYLOADS = {
    "empty": (b"", PayloadFormatError),
    "a jpeg": (b"\xff\xd8\xff\xe0" + bytes(100), PayloadFormatError),
    "truncated header": (valid()[:20], PayloadFormatError),
    "truncated landmarks": (valid()[: MASK_AT - 4], PayloadFormatError),
    "trailing bytes": (valid() + b"\x00", PayloadFormatError),
    "unknown flag": (header_with(flags=8 | 7), PayloadFormatError),
    "reserved set": (header_with(reserved=1), PayloadFormatError),
    "mask without pose": (header_with(flags=4)[: HEADER.size], PayloadFormatError),
    "nan time": (header_with(t_ms=float("nan")), PayloadValueError),
    "negative time": (header_with(t_ms=-1.0), PayloadValueError),
    "nan luma": (header_with(luma=float("nan")), PayloadValueError),
    "luma over 255": (header_with(luma=300.0), PayloadValueError),
    "tiny image": (header_with(width=8), PayloadValueError),
    "huge image": (header_with(width=5000), PayloadTooLargeError),
    "nan landmark": (put_f32(valid(), LANDMARKS_AT, float("nan")), PayloadValueError),
    "inf world": (put_f32(valid(), WORLD_AT + 8, float("inf")), PayloadValueError),
    "x far outside": (put_f32(valid(), LANDMARKS_AT, 2.5), PayloadValueError),
    "visibility over 1": (put_f32(valid(), LANDMARKS_AT + 12, 1.5), PayloadValueError),
    "depth too far": (put_f32(valid(), LANDMARKS_AT + 8, 50.0), PayloadValueError),
    "world beyond a body": (put_f32(valid(), WORLD_AT, 9.0), PayloadValueError),
    "mask outside the image": (
        with_mask((600, 0, 100, 10), zlib.compress(bytes(1000))),
        PayloadTooLargeError,
    ),
    "empty mask": (with_mask((0, 0, 0, 10), zlib.compress(b"")), PayloadTooLargeError),
    "mask too short": (with_mask((0, 0, 10, 10), zlib.compress(bytes(99))), PayloadValueError),
    "mask bomb": (with_mask((0, 0, 10, 10), zlib.compress(bytes(50_000_000))), PayloadValueError),
    "mask not deflate": (with_mask((0, 0, 10, 10), bytes(30)), PayloadFormatError),
    "mask encoding": (
        with_mask((0, 0, 10, 10), zlib.compress(bytes(100)), encoding=2),
        PayloadFormatError,
    ),
    "mask claims more": (
        valid()[:MASK_AT] + MASK_HEADER.pack(0, 0, 10, 10, 1, 500),
        PayloadFormatError,
    ),
    "mask off the trunk": (with_mask((0, 0, 10, 10), zlib.compress(bytes(100))), PayloadValueError),
    "too many bytes": (valid() + bytes(LIMITS.max_payload_bytes), PayloadTooLargeError),
}


@pytest.mark.parametrize("name", BAD_PAYLOADS)
def test_every_bad_field_is_a_typed_error_with_a_sentence(name: str) -> None:
    data, error = BAD_PAYLOADS[name]
    with pytest.raises(error) as caught:
        decode_payload(data, LIMITS)
    assert caught.value.message.endswith(".") and len(caught.value.message) > 20
    assert caught.value.code in {"bad_pose", "pose_too_large"}


def test_the_bomb_is_refused_without_expanding_it() -> None:
    bomb = zlib.compress(bytes(50_000_000))
    assert len(bomb) < 100_000
    data = with_mask((0, 0, 10, 10), bomb)
    with pytest.raises(PayloadValueError, match="exactly 10x10"):
        decode_payload(data, LIMITS)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_damaged_payloads_raise_only_payload_errors(data: st.DataObject) -> None:
    payload = bytearray(valid())
    for _ in range(data.draw(st.integers(1, 6))):
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(HEADER.size // 2, len(payload)))
    try:
        got = decode_payload(bytes(payload[:cut]), LIMITS)
    except PosePayloadError:
        return
    # Whatever got through is a well-formed PoseFrame with finite, in-range values.
    pose = got.pose
    if pose.landmarks_px is not None:
        assert np.isfinite(pose.landmarks_px).all() and np.isfinite(pose.world_m).all()
    if pose.mask is not None:
        assert pose.mask.min() >= 0.0 and pose.mask.max() <= 1.0
