"""The clip cache: rendered speech as 16-bit ``.npy`` files, written atomically.

A clip is stored under the sha256 of everything that changes its sound. A file that is
half-written, truncated or otherwise unreadable is treated as missing (and removed), so it is
simply rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

CACHE_VERSION = 2
"""Bumped whenever the processing of clips changes, so old clips are not reused."""


def clip_key(**parts: object) -> str:
    """A stable key for the given parts (text, engine, voice, rate, samplerate, …)."""
    blob = json.dumps({"version": CACHE_VERSION, **parts}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        """The clip, or None if it is missing or damaged (a damaged file is removed)."""
        path = self.path(key)
        try:
            clip = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            _discard(path)
            return None
        if clip.dtype != np.int16 or clip.ndim != 1:
            _discard(path)
            return None
        return clip

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
