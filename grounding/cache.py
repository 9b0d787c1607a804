"""The clip cache: rendered speech as 16-bit ``.npy`` files, each written whole and once.

A clip is stored under the sha256 of everything that changes its sound. A file that is
half-written, truncated, otherwise unreadable or not an ordinary file is treated as missing
(and removed), so it is simply rendered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np

from grounding.paths import open_regular, read_regular_text, write_atomically, write_once

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
    """Speech clips on disk, keyed by :func:`clip_key`.

    A clip is written once and never replaced (:func:`grounding.paths.write_once`): a session
    takes a clip's length when it plans its timeline and reads the samples when the line
    plays, so another session must not swap the file meanwhile. A session rendering clips
    holds the cache's lock (:meth:`rendering`), so two sessions never render at once: the
    second waits, then finds the first one's clips."""

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
        if it is missing or damaged: not an ordinary file, not a 1-D 16-bit array, or not
        exactly as long as its header says (a damaged file is removed)."""
        path = self.path(key)
        try:
            with open_regular(path) as handle:
                offset, frames = _clip_header(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            _discard(path)
            return None
        return StoredClip(path, offset, frames)

    def store(self, key: str, clip: np.ndarray) -> None:
        """Save a mono 16-bit clip whole, unless the clip for ``key`` is there already (then
        that one stays: it may be playing in another session)."""
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(clip, dtype=np.int16), allow_pickle=False)
        path = self.path(key)
        if not write_once(path, buffer.getvalue()) and self.stored(key) is None:
            write_once(path, buffer.getvalue())  # what was there was damaged, and is gone

    def writable(self) -> bool:
        """Whether clips can be kept here now (a file can be made where they go)."""
        folder = self.folder / "clips"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".part-")
        except OSError:  # a read-only or full disk, or a folder not ours
            return False
        os.close(fd)
        Path(probe).unlink(missing_ok=True)
        return True

    @contextlib.contextmanager
    def rendering(self, wait: float, stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
        """Held while this process renders clips into the cache: another process that has
        clips to render waits here, then finds in the cache those it shares with this one.
        A line's sound depends on what the same engine said before it (espeak-ng's pitch
        flutter runs on from one line to the next), so one session rendering a run of
        lines gives the same clips as a session alone; sessions that took turns clip by
        clip would each get other sounds for the same key. The wait ends after ``wait``
        seconds even so (a session suspended mid-render must not stop another), and with
        TimeoutError as soon as ``stop()`` is true. The lock is a file in the cache, removed
        when it is let go."""
        lock = _take_lock(self.folder / "clips" / "rendering.lock", time.monotonic() + wait,
                          stop)
        try:
            yield
        finally:
            if lock is not None:
                _let_go(*lock)

    def read_json(self, name: str) -> dict:
        """A small JSON note kept beside the clips (``{}`` if missing, unreadable, not an
        ordinary file or not a JSON object)."""
        try:
            data = json.loads(read_regular_text(self.folder / name))
        except (OSError, ValueError, RecursionError):  # RecursionError: nested too deeply
            return {}
        return data if isinstance(data, dict) else {}

    def write_json(self, name: str, data: dict) -> None:
        """Replace a JSON note atomically."""
        write_atomically(self.folder / name, json.dumps(data, indent=1).encode("utf-8"))


_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}


def _clip_header(handle: BinaryIO) -> tuple[int, int]:
    """Where a clip file's samples start and how many there are; ValueError (or EOFError) if
    it is not a whole 1-D array of 16-bit samples."""
    version = np.lib.format.read_magic(handle)
    header = _HEADERS.get(version)
    if header is None:
        raise ValueError(f"npy version {version}")
    shape, _, dtype = header(handle)
    offset, size = handle.tell(), os.fstat(handle.fileno()).st_size
    if dtype != np.dtype("<i2") or len(shape) != 1 or size != offset + 2 * shape[0]:
        raise ValueError("not a whole 1-D array of 16-bit samples")
    return offset, shape[0]


def _take_lock(path: Path, deadline: float, stop: Callable[[], bool]) -> tuple[int, Path] | None:
    """The lock file at ``path``, locked (its descriptor and path); None where there are no
    such locks (Windows, a cache that cannot be written) or the wait has passed
    ``deadline``: then the clip is made without one."""
    try:
        import fcntl
    except ImportError:
        return None
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)
        except OSError:
            return None
        try:
            if not _wait_for(fd, fcntl, deadline, stop):
                os.close(fd)
                return None
            # the last holder removes the file as it lets go: this lock is only good if the
            # file locked is still the one at the path
            held, there = os.fstat(fd), os.stat(path)
            if (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino):
                return fd, path
        except FileNotFoundError:
            pass  # removed by its last holder just now: lock the next one
        except TimeoutError:
            os.close(fd)
            raise
        except OSError:  # a file system without locks
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _wait_for(fd: int, fcntl, deadline: float, stop: Callable[[], bool]) -> bool:
    """Lock ``fd``, waiting while another process holds it: False once ``deadline`` has
    passed, TimeoutError as soon as ``stop()`` is true."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if stop():
                raise TimeoutError("another session is rendering into the cache") from None
            if time.monotonic() > deadline:
                return False
            time.sleep(LOCK_POLL_SECONDS)


def _let_go(fd: int, path: Path) -> None:
    """Remove the lock file, then unlock it (whoever waits on it then takes a new one)."""
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


LOCK_POLL_SECONDS = 0.005
"""How often a session waiting for another's clips looks again (a clip takes 10-15 ms)."""


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
        """The samples. If the file was rendered again since it was found (the cache was
        cleared mid-session), the new one's samples, cut or filled with silence to the line's
        length; silence of that length if the file has gone or is damaged (a cache cleared
        mid-session costs that line, never the session)."""
        try:
            with open_regular(self.path) as handle:
                offset, frames = _clip_header(handle)
                handle.seek(offset)
                samples = np.fromfile(handle, dtype="<i2", count=frames)
        except (OSError, ValueError, EOFError):
            samples, frames = np.zeros(0, dtype=np.int16), -1
        if len(samples) != frames:
            return np.zeros(self.frames, dtype=np.int16)
        if frames == self.frames:
            return samples
        fitted = np.zeros(self.frames, dtype=np.int16)
        fitted[:min(frames, self.frames)] = samples[:self.frames]
        return fitted


SpeechClip = np.ndarray | StoredClip
"""A clip held in memory, or one in the cache that is read when it plays (:func:`samples_of`
gives the samples of either)."""


def samples_of(clip: SpeechClip) -> np.ndarray:
    """A clip's samples, whether it is held in memory or stored in the cache."""
    return clip.read() if isinstance(clip, StoredClip) else clip
