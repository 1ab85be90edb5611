"""What a batch analyses: video files, folders of them and glob patterns, each recording
once, with the name of its output folder."""

from __future__ import annotations

import glob
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from formcheck.errors import FormcheckError

# What phones, cameras and editors write; a file named on the command line is taken
# whatever its name (the analysis says plainly when it is not a video).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".ts", ".3gp"}
)
NAME_HASH_CHARS = 8  # told apart by their full path when two recordings share a name
RESERVED_NAMES = frozenset({"summary.csv"})  # files of the batch itself


class BatchInputError(FormcheckError):
    """An input names nothing to analyse."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path  # as given, or as found under a folder or by a glob
    name: str  # its output folder under --out


def _videos_under(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES
    )


def _expand_one(text: str) -> list[Path]:
    path = Path(text).expanduser()
    if path.is_dir():
        videos = _videos_under(path)
        if not videos:
            raise BatchInputError(
                f"The folder {text} has no videos ({', '.join(sorted(VIDEO_SUFFIXES))})."
            )
        return videos
    if path.is_file():
        return [path]
    if glob.has_magic(text):
        found: list[Path] = []
        for match in sorted(glob.glob(str(path), recursive=True)):
            candidate = Path(match)
            if candidate.is_dir():
                found.extend(_videos_under(candidate))
            elif candidate.suffix.lower() in VIDEO_SUFFIXES:
                found.append(candidate)
        if not found:
            raise BatchInputError(f"The pattern {text} matches no video.")
        return found
    raise BatchInputError(f"There is no file or folder {text}.")


def expand_inputs(inputs: list[str]) -> list[Recording]:
    """The recordings ``inputs`` name, in the order given, each once (BatchInputError when
    an input names nothing)."""
    paths: list[Path] = []
    seen: set[Path] = set()
    for text in inputs:
        for path in _expand_one(text):
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                paths.append(path)
    stems = Counter(path.stem for path in paths)
    recordings = []
    for path in paths:
        name = path.stem
        if stems[name] > 1 or name in RESERVED_NAMES or name.startswith("."):
            digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:NAME_HASH_CHARS]
            name = f"{name}-{digest}"
        recordings.append(Recording(path=path, name=name))
    return recordings
