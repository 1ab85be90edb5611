"""The people page's scripts, run in Node (the same JavaScript engine as Chromium) where a
function needs no page: the chart's number labels."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from formcheck.people.routes import STATIC_DIR

NODE = shutil.which("node")
NODE_TIMEOUT_S = 60


def run_in_node(script: str, expression: str) -> object:
    if NODE is None:
        pytest.skip("node is not installed (npm's runtime; the set-up script needs it too)")
    program = (
        "const vm = require('vm'); const context = {}; vm.createContext(context);"
        f"vm.runInContext({json.dumps(script)}, context);"
        f"process.stdout.write(JSON.stringify(vm.runInContext({json.dumps(expression)}, context)));"
    )
    done = subprocess.run(
        [NODE, "-e", program], capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=True
    )
    return json.loads(done.stdout)


def test_chart_labels_keep_their_trailing_zeros_before_the_point() -> None:
    """fmt(120) read "12" (the zeros of "120" were stripped as if after a decimal point)."""
    script = (STATIC_DIR / "charts.js").read_text(encoding="utf-8")
    values = [120, 100, 60, 10, 0, 1.5, 2.25, 0.125, 1234, -40, None]
    shown = run_in_node(script, f"{json.dumps(values)}.map(fmt)")
    assert shown == ["120", "100", "60", "10", "0", "1.5", "2.25", "0.125", "1230", "-40", "–"]
