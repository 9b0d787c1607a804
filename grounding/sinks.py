"""Where blocks go: a WAV file or nowhere (counted and hashed); the sound card is in
grounding.soundcard.

Every sink has ``samplerate`` (known before rendering starts, so the timeline is built at the
rate the sink wants), ``blocksize``, and ``play(blocks)``, which consumes the render and
returns a report. A KeyboardInterrupt during ``play`` removes a partial file, then propagates.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from grounding.defaults import FILE_SAMPLERATE
from grounding.errors import UsageError
from grounding.paths import LEFTOVER_PREFIX, leave_note_of

BLOCKSIZE = 2048
"""Frames per block on the sound card: robust with latency='high' (TECH.md §4)."""
FILE_BLOCKSIZE = 8192
"""Frames per block when rendering to a file or nowhere: fewer, larger numpy calls."""


@dataclass
class Report:
    """What a sink did."""

    frames: int = 0
    underflows: int = 0
    """Times the sound card asked for audio that was not ready."""
    sha256: str = ""
    first_audible: float | None = None
    """``time.time()`` when the first non-silent block was handed to the device."""
    lost_at: int | None = None
    """The frame at which the sound card stopped taking audio, if it did."""


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


class WavSink:
    """Writes 16-bit mono WAV, atomically: the file appears only when it is complete."""

    blocksize = FILE_BLOCKSIZE

    def __init__(self, path: Path, samplerate: int = FILE_SAMPLERATE):
        self.path = Path(path)
        self.samplerate = samplerate
        if self.path.suffix.lower() != ".wav":
            raise UsageError(f"'{path}': only .wav files can be written for now; "
                             "name the file something.wav.")
        folder = self.path.parent
        if not folder.is_dir():
            raise UsageError(f"'{folder}' is not a folder, so '{path}' cannot be written there.")
        if not os.access(folder, os.W_OK):
            raise UsageError(f"The folder '{folder}' cannot be written to.")

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Write every block; on any interruption, leave no partial file behind."""
        report = Report()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=LEFTOVER_PREFIX, suffix=".wav")
        os.close(fd)
        leave_note_of(Path(tmp))  # a kill before the end: the next start removes it
        try:
            with wave.open(tmp, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(self.samplerate)
                for block in blocks:
                    pcm = np.round(np.clip(block[:, 0], -1, 1) * 32767).astype("<i2")
                    out.writeframes(pcm.tobytes())
                    report.frames += len(block)
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
