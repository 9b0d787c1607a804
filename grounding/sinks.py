"""Where blocks go: a WAV file, nowhere (counted and hashed), or nowhere while the session's
clock runs on wall time (when there is no sound card); the sound card is in
grounding.soundcard, the compressed files (FLAC, Ogg, MP3) in grounding.encoded.

Every sink has ``samplerate`` (known before rendering starts, so the timeline is built at the
rate the sink wants), ``blocksize``, and ``play(blocks)``, which consumes the render and
returns a report. A KeyboardInterrupt during ``play`` removes a partial file, then propagates.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from grounding.defaults import FILE_SAMPLERATE
from grounding.errors import UsageError
from grounding.paths import LEFTOVER_PREFIX, leave_note_of

BLOCKSIZE = 2048
"""Frames per block on the sound card: robust with latency='high' (docs/audio-stack.md §4)."""
FILE_BLOCKSIZE = 8192
"""Frames per block when rendering to a file or nowhere: fewer, larger numpy calls."""
STALL_SECONDS = 0.5
"""A gap this long between two looks at the clock (every 50 ms) means this process was
stopped (a suspend, SIGSTOP, a debugger): the session takes up from where it was rather
than skip the time it was stopped."""


@dataclass
class Report:
    """What a sink did."""

    frames: int = 0
    underflows: int = 0
    """Times the sound card asked for audio that was not ready."""
    unrendered: int = 0
    """Of those, the times no block had been rendered yet (the rest, the device found its
    own buffer empty: the audio callback itself came too late)."""
    sha256: str = ""
    first_audible: float | None = None
    """``time.time()`` when the first non-silent block was handed to the device."""
    lost_at: int | None = None
    """The frame at which the sound card stopped taking audio, if it did."""


@dataclass
class Controls:
    """What the listener can change while a session plays, followed by the audio callback."""

    volume: float = 1.0
    """A live factor on the rendered level, 0 to 2; changes glide over 50 ms."""
    paused: bool = False
    """Fades out over 250 ms and holds the session still; resuming fades back in."""
    lost: bool = False
    """Set by the sink while the sound card takes no audio (the clock goes on), and cleared
    when it takes audio again."""


class NullSink:
    """Consumes the render, counting frames and hashing the samples (also ``--dry-run``)."""

    blocksize = FILE_BLOCKSIZE

    def __init__(self, samplerate: int = FILE_SAMPLERATE):
        self.samplerate = samplerate

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Consume every block."""
        digest = hashlib.sha256()
        report = Report()
        for block in blocks:
            digest.update(block.tobytes())
            report.frames += len(block)
        report.sha256 = digest.hexdigest()
        return report


WAV_BYTES_MOST = 2**32 - 1
"""The most a WAV file can hold: its sizes are 32-bit (4 GiB)."""
WAV_HEADER = 44
"""Bytes before the samples of a 16-bit mono WAV file."""


class FileSink:
    """A file written atomically: the blocks go to a name beside it, which becomes the file
    only once it is complete; a stop, a full disk or any error leaves nothing behind. Its
    kinds (:class:`WavSink`, :class:`EncodedSink`) say how the blocks are written."""

    blocksize = FILE_BLOCKSIZE
    stream = False
    """Whether the path is a device or a pipe, written straight into (WAV only)."""

    def __init__(self, path: Path, samplerate: int):
        self.path = Path(path)
        self.samplerate = samplerate
        self.frames: int | None = None
        """How many frames will be written, once known (:meth:`check_size`)."""
        self.title = ""
        """The exercise's title, kept in the file's tags where the format has them."""
        _check_folder(self.path)
        self.tmp = self.path.parent / f"{LEFTOVER_PREFIX}{secrets.token_hex(6)}{self.suffix}"
        """The name beside the file it is written under until it is complete."""
        try:  # tried for real: permissions alone do not tell (a read-only disk, /proc, root)
            os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise could_not_write(self.path, exc) from None
        self.tmp.unlink(missing_ok=True)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    def check_size(self, frames: int) -> None:
        """Before anything is rendered: note how many frames will be written (a WAV file
        also refuses a session too long for it)."""
        self.frames = frames

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Write every block; on any interruption, leave no partial file behind."""
        tmp = self.tmp
        try:  # named first, made inside: a stop at any moment after leaves no file behind
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            leave_note_of(tmp)  # a kill before the end: the next start removes it
            report = self._write_file(tmp, blocks)
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, self.path)
        except FileExistsError:  # the name was taken (48 random bits): not ours to remove
            raise
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise could_not_write(self.path, exc) from None
            raise
        return report

    def _write_file(self, tmp: Path, blocks: Iterable[np.ndarray]) -> Report:
        raise NotImplementedError


def _check_folder(path: Path) -> None:
    """Refuse a path that names a folder, or whose folder is not there."""
    if path.is_dir():
        raise UsageError(f"'{path}' is a folder; name a file inside it, such as "
                         f"'{path / 'session.wav'}'.")
    if not path.parent.is_dir():
        raise UsageError(f"'{path.parent}' is not a folder, so '{path}' cannot be written "
                         "there.")


class WavSink(FileSink):
    """Writes 16-bit mono WAV, atomically: the file appears only when it is complete. An
    existing device or pipe (``/dev/null``, ``/dev/stdout`` into a program) is written
    straight into instead, as it cannot be replaced."""

    def __init__(self, path: Path, samplerate: int = FILE_SAMPLERATE):
        if _is_stream(Path(path)):
            self.path, self.samplerate, self.frames, self.title = Path(path), samplerate, None, ""
            self.stream = True
            return
        super().__init__(path, samplerate)

    @property
    def suffix(self) -> str:
        return ".wav"

    def check_size(self, frames: int) -> None:
        """Refuse, before anything is rendered, a session too long for a WAV file."""
        size = WAV_HEADER + 2 * frames
        if size > WAV_BYTES_MOST:
            hours = frames / self.samplerate / 3600
            raise UsageError(
                f"'{self.path}' would be {size / 2**30:.1f} GiB ({hours:.1f} hours at "
                f"{self.samplerate} Hz), more than a WAV file can hold (4 GiB); a lower "
                "--samplerate (48000 is plenty for voice and tones), a shorter session or "
                "another format (.flac, .mp3) makes it fit.")
        self.frames = frames

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Write every block; on any interruption, leave no partial file behind."""
        if not self.stream:
            return super().play(blocks)
        try:
            with open(self.path, "wb") as out:
                if out.isatty():
                    raise UsageError(f"'{self.path}' is a terminal, where sound cannot be "
                                     "shown; name a .wav file, or send it to a program.")
                return self._write(out, blocks)
        except OSError as exc:
            raise could_not_write(self.path, exc, stream=True) from None

    def _write_file(self, tmp: Path, blocks: Iterable[np.ndarray]) -> Report:
        with open(tmp, "wb") as out:
            return self._write(out, blocks)

    def _write(self, out, blocks: Iterable[np.ndarray]) -> Report:
        """The blocks as a WAV file into ``out``, an open binary file; its header says the
        length from the start when it is known, so a pipe needs no going back."""
        report = Report()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.samplerate)
            if self.frames is not None:
                wav.setnframes(self.frames)
            for block in blocks:
                pcm = np.round(np.clip(block[:, 0], -1, 1) * 32767).astype("<i2")
                wav.writeframesraw(pcm.tobytes())  # the header is put right at the end
                report.frames += len(block)
        return report


def could_not_write(path: Path, exc: OSError, stream: bool = False) -> UsageError:
    """The sentence for a file that could not be written, from what the system said
    (``stream``: a device or pipe written straight into, where nothing is tidied away)."""
    folder = path.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        left = "." if stream else "; nothing was left behind."
        return UsageError(f"The disk is full, so '{path}' could not be written{left} Free "
                          "some space, or choose another place with --out.")
    if exc.errno == errno.EROFS:
        return UsageError(f"'{folder}' is on a disk that is read-only, so '{path}' cannot be "
                          "written there; choose another place with --out.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return UsageError(f"The folder '{folder}' cannot be written to, so '{path}' cannot "
                          "be written there; choose another place with --out.")
    if exc.errno == errno.ENOENT:  # the folder is there: it makes no files (/proc)
        return UsageError(f"The folder '{folder}' does not take new files, so '{path}' "
                          "cannot be written there; choose another place with --out.")
    reason = (exc.strerror or str(exc)).rstrip(".").lower()
    return UsageError(f"'{path}' could not be written ({reason}); choose another place "
                      "with --out.")


def _is_stream(path: Path) -> bool:
    """Whether ``path`` is an existing character device or pipe."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ClockSink:
    """Stands in for a sound card when there is none: plays nothing, but keeps the session's
    clock on wall time (pauses included), so the display and captions go on in step."""

    blocksize = BLOCKSIZE

    def __init__(self, samplerate: int = 48000, why: str = ""):
        self.samplerate = samplerate
        self.why = why
        """The sentence that says why there is no sound."""

    def play(self, blocks: Iterable[np.ndarray],
             on_sound: Callable[[float], None] | None = None,
             on_tick: Callable[[int], None] | None = None,
             controls: Controls | None = None,
             total_frames: int | None = None) -> Report:
        """Let the session's time pass; nothing is rendered, as nothing would be heard."""
        report = Report(lost_at=0)
        carry_on(0, total_frames or 0, self.samplerate, controls or Controls(), on_tick)
        report.frames = total_frames or 0
        return report


def carry_on(position: int, total: int, samplerate: int, controls: Controls,
             on_tick: Callable[[int], None] | None) -> None:
    """With the sound gone, keep the session's clock running on wall time (pauses included;
    a stop of this process, such as a suspend, counts as a pause)."""
    last = time.monotonic()
    while position < total:
        time.sleep(0.05)
        now = time.monotonic()
        if not controls.paused and now - last <= STALL_SECONDS:
            position = min(total, position + round((now - last) * samplerate))
        last = now
        if on_tick:
            on_tick(position)
