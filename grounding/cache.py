"""The clip cache: rendered speech as 16-bit ``.npy`` files, written atomically.

A clip is stored under the sha256 of everything that changes its sound. A file that is
half-written, truncated or otherwise unreadable is treated as missing (and removed), so it is
simply rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.paths import write_atomically

CACHE_VERSION = 3
"""Bumped whenever the processing of clips changes, so old clips are not reused."""
PCM_SCALE = 32767
"""Clips are 16-bit, as the engines write them: half the memory of float32, which matters
for long sessions (bedtime holds minutes of speech), and far below hearing in noise. A
sample of ``PCM_SCALE`` is full scale."""


def clip_key(**parts: object) -> str:
    """A stable key for the given parts (text, engine, voice, rate, samplerate, …)."""
    blob = json.dumps({"version": CACHE_VERSION, **parts}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # not ours to remove (or not there): it will simply not be used


class ClipCache:
    """Speech clips on disk, keyed by :func:`clip_key`."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where the clip for ``key`` lives."""
        return self.folder / "clips" / key[:2] / f"{key}.npy"

    def load(self, key: str) -> np.ndarray | None:
        """The clip's samples, or None if it is missing or damaged (then it is removed)."""
        stored = self.stored(key)
        return stored.read() if stored is not None else None

    def stored(self, key: str) -> StoredClip | None:
        """The clip as a file to read while it plays (only its header is read now), or None
        if it is missing or damaged: not a 1-D 16-bit array, or not exactly as long as its
        header says (a damaged file is removed)."""
        path = self.path(key)
        try:
            with open(path, "rb") as handle:
                version = np.lib.format.read_magic(handle)
                header = _HEADERS.get(version)
                if header is None:
                    raise ValueError(f"npy version {version}")
                shape, _, dtype = header(handle)
                offset, size = handle.tell(), os.fstat(handle.fileno()).st_size
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            _discard(path)
            return None
        if dtype != np.dtype("<i2") or len(shape) != 1 or size != offset + 2 * shape[0]:
            _discard(path)
            return None
        return StoredClip(path, offset, shape[0])

    def store(self, key: str, clip: np.ndarray) -> None:
        """Save a mono 16-bit clip atomically."""
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(clip, dtype=np.int16), allow_pickle=False)
        write_atomically(self.path(key), buffer.getvalue())

    def read_json(self, name: str) -> dict:
        """A small JSON note kept beside the clips (``{}`` if missing or unreadable)."""
        try:
            data = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_json(self, name: str, data: dict) -> None:
        """Replace a JSON note atomically."""
        write_atomically(self.folder / name, json.dumps(data, indent=1).encode("utf-8"))


_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}


@dataclass(frozen=True)
class StoredClip:
    """A clip in the cache, read when it is about to play and let go when it has played, so
    a session holds only the lines sounding now, not all its speech (a 45-minute bedtime has
    20 MiB of it)."""

    path: Path
    offset: int
    """Where its samples start in the file."""
    frames: int

    def __len__(self) -> int:
        return self.frames

    def read(self) -> np.ndarray:
        """The samples; silence of the same length if the file has gone or changed since it
        was found (a cache cleared mid-session costs that line, never the session)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                samples = np.fromfile(handle, dtype="<i2", count=self.frames)
        except (OSError, ValueError):
            samples = np.zeros(0, dtype=np.int16)
        if len(samples) != self.frames:
            return np.zeros(self.frames, dtype=np.int16)
        return samples


SpeechClip = np.ndarray | StoredClip
"""A clip held in memory, or one in the cache that is read when it plays (:func:`samples_of`
gives the samples of either)."""


def samples_of(clip: SpeechClip) -> np.ndarray:
    """A clip's samples, whether it is held in memory or stored in the cache."""
    return clip.read() if isinstance(clip, StoredClip) else clip
