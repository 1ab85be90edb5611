"""What an upload holds, checked in a child process (issue 15, findings 5 and 6).

Finding 5: a 700 s raw H.264 stream was accepted as 0.0 s long (the limit was read from the
container's metadata) and held the only worker for the hour-long job timeout. Finding 6: a
10000 x 10000 PNG-in-MOV was decoded inside the server while the request waited.

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from formcheck.jobs.config import UploadLimits
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.errors import UploadRejectedError
from formcheck.jobs.uploads import receive_upload
from tests.conftest import REPO_ROOT
from tests.jobs.videos import encode_h264, png_in_mov, raw_h264, streamed_mkv

CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"  # 312 frames, 10.4 s
LONG_S = 700.0  # the finding's stream: over the default 600 s limit
BOMB_SIDE_PX = 5000  # 25 megapixels: over the default 16.8, decodes in about a second


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").create()


def receive(path: Path, data: DataDir, limits: UploadLimits | None = None) -> None:
    with path.open("rb") as handle:
        receive_upload(handle, data, limits or UploadLimits())


def test_a_long_video_without_a_duration_in_its_header_is_refused(
    tmp_path: Path, data: DataDir
) -> None:
    mkv = streamed_mkv(tmp_path / "long.mkv", LONG_S, fps=2)
    with av.open(str(mkv)) as container:  # what the old check read: nothing, so 0.0 s
        assert container.duration is None and container.streams.video[0].duration is None
    with pytest.raises(UploadRejectedError, match="12 minutes long and the limit is 10 minutes"):
        receive(mkv, data)
    raw = raw_h264(tmp_path / "long.h264", LONG_S)
    with pytest.raises(UploadRejectedError, match=r"raw H\.264 stream"):
        receive(raw, data)
    assert list(data.uploads.iterdir()) == [] and list(data.incoming.iterdir()) == []


def test_a_picture_bomb_is_refused_without_the_server_decoding_it(
    tmp_path: Path, data: DataDir
) -> None:
    bomb = png_in_mov(tmp_path / "bomb.mov", BOMB_SIDE_PX)
    with pytest.raises(UploadRejectedError, match="png, which is not accepted"):
        receive(bomb, data)
    png_allowed = UploadLimits(allowed_codecs=("png",))
    with pytest.raises(UploadRejectedError, match=r"5000x5000 pixels and the limit is 16\.8"):
        receive(bomb, data, png_allowed)


def test_the_pixel_limit_holds_for_any_codec(tmp_path: Path, data: DataDir) -> None:
    video = tmp_path / "wide.mp4"
    encode_h264(str(video), None, frames=4, fps=25, width_px=960, height_px=720)
    with pytest.raises(UploadRejectedError, match=r"960x720 pixels and the limit is 0\.3"):
        receive(video, data, UploadLimits(max_pixels=640 * 480))
    receive(video, data)  # under the default limit


def test_the_server_process_never_opens_an_upload_with_a_decoder(
    data: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    def decoder_in_the_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was opened with FFmpeg inside the server process")

    monkeypatch.setattr(av, "open", decoder_in_the_server)
    with CLIP.open("rb") as handle:
        stored = receive_upload(handle, data, UploadLimits())
    assert (stored.info.frame_count, stored.info.width_px, stored.info.height_px) == (312, 640, 480)
    assert stored.info.duration_s == pytest.approx(10.4, abs=0.05)


def test_frames_and_time_limits_of_the_check(tmp_path: Path, data: DataDir) -> None:
    from formcheck.jobs.probing import ProbeFailedError, probe_upload

    many = streamed_mkv(tmp_path / "many.mkv", seconds=4.0, fps=50)  # 200 frames
    with pytest.raises(UploadRejectedError, match="more than 100 frames"):
        receive(many, data, UploadLimits(max_frames=100))
    with pytest.raises(ProbeFailedError, match="could not be checked within"):
        probe_upload(CLIP, UploadLimits(probe_timeout_s=0.001))


def test_the_duration_counts_untimed_frames_at_the_stream_rate() -> None:
    from formcheck.jobs.probing import measured_duration_s

    assert measured_duration_s({"packets": 50, "span_s": None, "fps": 25.0}) == 2.0
    assert measured_duration_s({"packets": 50, "span_s": None, "fps": 0.0}) == 2.0  # FFmpeg's 25
    timed = {"packets": 60, "untimed_packets": 10, "span_s": 2.0, "fps": 25.0}
    assert measured_duration_s(timed) == pytest.approx(2.4)
