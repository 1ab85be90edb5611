"""A live set's report signed by the server (formcheck/server/attest.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from formcheck.server.attest import KEY_BYTES, KEY_FILE, ReportSigner, canonical_json

REPORT = {"exercise": "hip_hinge", "summary": {"reps": 3, "hold_s": None},
          "reps": [{"score": 90.0, "depth_deg": 101.25, "t_s": 1e-7}]}  # fmt: skip


def browser_copy(value: object) -> object:
    """What a page sends back: JSON.parse then JSON.stringify writes 90.0 as 90 and 1e-07 as
    1e-7 (Python's json would not); the same doubles come back."""
    text = json.dumps(value).replace("90.0", "90").replace("1e-07", "1e-7")
    return json.loads(text)


def test_a_report_verifies_after_a_browser_round_trip_and_not_once_changed() -> None:
    signer = ReportSigner.for_data_dir(None)
    signature = signer.sign(REPORT)
    assert len(signature) == 64
    assert signer.verify(browser_copy(REPORT), signature)
    changed = json.loads(json.dumps(REPORT))
    changed["summary"]["reps"] = 4
    assert not signer.verify(changed, signature)
    assert not signer.verify(REPORT, None) and not signer.verify(REPORT, "")
    assert not signer.verify({"x": float("nan")}, signature)  # not JSON data: no signature fits
    assert not ReportSigner.for_data_dir(None).verify(REPORT, signature)  # another key


def test_canonical_json_is_sorted_compact_and_writes_whole_floats_as_integers() -> None:
    text = canonical_json({"b": 2.0, "a": [1.5, 3.0, True, None]})
    assert text == b'{"a":[1.5,3,true,null],"b":2}'


def test_the_key_is_kept_private_in_the_data_dir_and_shared_by_every_server(
    tmp_path: Path,
) -> None:
    first = ReportSigner.for_data_dir(tmp_path / "data")
    key = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text(encoding="ascii"))) == KEY_BYTES
    assert ReportSigner.for_data_dir(tmp_path / "data").verify(REPORT, first.sign(REPORT))


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        ReportSigner(b"short")
