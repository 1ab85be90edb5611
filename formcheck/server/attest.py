"""A live set's report, signed by the server that computed it.

A live set's report reaches the people routes (``POST /api/people/{id}/sessions``) through
the page, which could send any report it likes. At the end of each set the server signs the
report it sends (HMAC-SHA256 over its canonical JSON, with a key in the data directory that
several servers sharing that directory share), and the people routes take a live report only
with that signature: what a clinician sees is what the analysis found.

The canonical JSON is the report as the page received it, with sorted keys, no spaces and
whole-number floats written as integers (a browser's JSON writes 5.0 as 5); a browser parses
and writes every other number back to the same double, so the page's copy verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from pathlib import Path
from typing import Any

from formcheck.jobs.durable import private_dir, write_durably

KEY_FILE = "report_signing.key"
KEY_BYTES = 32  # HMAC-SHA256's block of key material


def canonical_json(value: Any) -> bytes:
    """``value`` as sorted, compact JSON with whole-number floats as integers."""
    return json.dumps(
        _whole_floats_as_ints(value), sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode()


def _whole_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    return value


class ReportSigner:
    """Signs and checks reports with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"a signing key has at least {KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def for_data_dir(cls, data_dir: Path | None) -> ReportSigner:
        """The key kept in ``data_dir`` (made there, private, at the first start); without a
        data directory a key for this process only."""
        if data_dir is None:
            return cls(secrets.token_bytes(KEY_BYTES))
        path = private_dir(data_dir) / KEY_FILE
        if path.is_file():
            key = bytes.fromhex(path.read_text(encoding="ascii").strip() or "00")
            if len(key) >= KEY_BYTES:
                return cls(key)
        key = secrets.token_bytes(KEY_BYTES)
        write_durably(path, key.hex().encode("ascii") + b"\n")
        return cls(key)

    def sign(self, report: Any) -> str:
        """The signature (hex) of a report given as JSON data (dicts, lists, numbers)."""
        return hmac.new(self._key, canonical_json(report), hashlib.sha256).hexdigest()

    def verify(self, report: Any, signature: str | None) -> bool:
        if not signature:
            return False
        try:
            expected = self.sign(report)
        except ValueError:  # not JSON data (NaN, infinity)
            return False
        return hmac.compare_digest(expected, signature)
