"""What ``formcheck batch`` takes: files, folders and globs, each recording once, with
output folder names that cannot collide."""

from __future__ import annotations

from pathlib import Path

import pytest

from formcheck.batch.inputs import BatchInputError, expand_inputs


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_files_folders_and_globs_are_expanded_in_order_each_once(tmp_path: Path) -> None:
    a = touch(tmp_path / "day1" / "a.mp4")
    b = touch(tmp_path / "day1" / "sub" / "b.MOV")
    touch(tmp_path / "day1" / "notes.txt")
    c = touch(tmp_path / "day2" / "c.mkv")
    named = touch(tmp_path / "odd.bin")  # named on the command line: taken as it is
    found = expand_inputs([str(tmp_path / "day1"), str(tmp_path / "day*" / "*.mkv"),
                           str(a), str(named)])  # fmt: skip
    assert [r.path for r in found] == [a, b, c, named]
    assert [r.name for r in found] == ["a", "b", "c", "odd"]


def test_recordings_sharing_a_name_get_told_apart_by_their_path(tmp_path: Path) -> None:
    first = touch(tmp_path / "monday" / "set.mp4")
    second = touch(tmp_path / "tuesday" / "set.mp4")
    reserved = touch(tmp_path / "summary.csv.mp4")
    names = [r.name for r in expand_inputs([str(first), str(second), str(reserved)])]
    assert len(set(names)) == 3 and all(n.startswith("set-") for n in names[:2])
    assert names[2].startswith("summary.csv-")
    again = [r.name for r in expand_inputs([str(first), str(second), str(reserved)])]
    assert again == names  # stable: a resumed batch finds its folders


@pytest.mark.parametrize(
    ("given", "words"),
    [("missing.mp4", "There is no file or folder"), ("empty", "has no videos"),
     ("*.avi", "matches no video")],
)  # fmt: skip
def test_an_input_that_names_nothing_is_a_plain_error(
    tmp_path: Path, given: str, words: str
) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BatchInputError, match=words):
        expand_inputs([str(tmp_path / given)])
