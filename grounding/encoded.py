"""Compressed files for ``--out``: FLAC, Ogg Vorbis, Ogg Opus and MP3, written through
soundfile (libsndfile), an optional extra; :func:`file_sink` picks the sink for a file by its
ending, WAV (grounding.sinks, nothing more needed) included.

Like a WAV file, each is written beside its destination and moved there only when complete.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from grounding.defaults import FILE_SAMPLERATE
from grounding.errors import UsageError
from grounding.extras import install_hint
from grounding.sinks import FileSink, Report, WavSink, _check_folder, _is_stream

ARTIST = "grounding"
"""The artist tag of every file: players list the sessions together under it."""


@dataclass(frozen=True)
class Format:
    """How one kind of file is written."""

    name: str
    """As the person knows it, for the sentences."""
    major: str
    subtype: str
    samplerate: int
    """Hz, when --samplerate does not say: the voice is 22050 Hz and the tones are low, so a
    lossy file at 24000 Hz loses nothing that can be heard and is quicker to encode."""
    rates: tuple[int, ...] = ()
    """The only rates the encoder takes (none listed: any)."""
    settings: dict = field(default_factory=dict)
    """soundfile's encoder settings (compression level, bitrate mode)."""


ENCODED = {
    ".flac": Format("FLAC", "FLAC", "PCM_16", FILE_SAMPLERATE),
    ".ogg": Format("Ogg Vorbis", "OGG", "VORBIS", 24000),
    ".opus": Format("Opus", "OGG", "OPUS", 24000, (8000, 12000, 16000, 24000, 48000)),
    ".mp3": Format("MP3", "MP3", "MPEG_LAYER_III", 24000,
                   (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
                   {"compression_level": 0.5, "bitrate_mode": "VARIABLE"}),
}
"""The compressed formats, by the file's ending."""
WRITTEN = (".wav", *ENCODED)
"""Every ending ``--out`` writes."""

SOUNDFILE = "soundfile>=0.12,<0.15"
"""The formats extra, as pyproject.toml gives it."""


def extra_hint() -> str:
    """The command that adds the formats extra where grounding runs."""
    return install_hint(SOUNDFILE)


def file_sink(path: Path, samplerate: int | None = None) -> FileSink:
    """The sink for ``--out``, by the file's ending: WAV (also for a device or a pipe, which
    cannot be replaced), else a compressed format; ``samplerate`` None takes the format's
    own default."""
    path = Path(path)
    suffix = path.suffix.lower()
    if _is_stream(path) or suffix == ".wav":
        return WavSink(path, samplerate or FILE_SAMPLERATE)
    if path.is_dir():
        _check_folder(path)
    if suffix not in ENCODED:
        endings = ", ".join(WRITTEN[:-1]) + " or " + WRITTEN[-1]
        raise UsageError(f"'{path}': grounding writes {endings} files; end the name with one "
                         "of these, such as 'session.mp3'.")
    return EncodedSink(path, samplerate)


def soundfile_module(suffix: str):
    """soundfile, or the sentence that says how to add it (``suffix``: the file asked for)."""
    try:
        import soundfile
    except (ImportError, OSError):  # OSError: installed without its libsndfile
        raise UsageError(f"Writing {suffix} files needs the optional 'formats' extra "
                         f"(soundfile): {extra_hint()} adds it; .wav files need nothing "
                         "more.") from None
    return soundfile


def available() -> bool:
    """Whether the compressed formats can be written here."""
    try:
        soundfile_module(".mp3")
    except UsageError:
        return False
    return True


class EncodedSink(FileSink):
    """Writes a compressed mono file (see :data:`ENCODED`), block by block, atomically."""

    def __init__(self, path: Path, samplerate: int | None = None):
        path = Path(path)
        self.format = ENCODED[path.suffix.lower()]
        sf = soundfile_module(path.suffix.lower())
        if not sf.check_format(self.format.major, self.format.subtype):
            raise UsageError(f"The libsndfile inside soundfile here "
                             f"({sf.__libsndfile_version__}) cannot write {self.format.name} "
                             f"files; a newer soundfile can ({extra_hint()}), and .wav files "
                             "need nothing more.")
        rate = samplerate or self.format.samplerate
        if self.format.rates and rate not in self.format.rates:
            rates = ", ".join(str(r) for r in self.format.rates[:-1])
            raise UsageError(f"{self.format.name} files are {rates} or "
                             f"{self.format.rates[-1]} Hz, not {rate}; choose one of these "
                             "with --samplerate.")
        super().__init__(path, rate)

    def _write_file(self, tmp: Path, blocks: Iterable[np.ndarray]) -> Report:
        """Encode the blocks into ``tmp``; what the system said on a failed write (a full
        disk) is raised as it was, as an OSError. (The encoder is the slow part, rendering
        a sixth of the time or less, so a thread of its own for it was measured to gain
        nothing.)"""
        report = Report()
        with open(tmp, "w+b") as raw:
            out = _Kept(raw)
            self._encode(out, blocks, report)
            if out.error:
                raise out.error
        return report

    def _encode(self, out: "_Kept", blocks: Iterable[np.ndarray], report: Report) -> None:
        """Encode the blocks into ``out``, a block at a time (the encoders stay small)."""
        import soundfile as sf

        try:
            with sf.SoundFile(out, "w", samplerate=self.samplerate, channels=1,
                              format=self.format.major, subtype=self.format.subtype,
                              **self.format.settings) as encoded:
                if self.title:
                    encoded.title = self.title
                encoded.artist = ARTIST
                for block in blocks:
                    encoded.write(np.clip(block[:, 0], -1, 1))
                    report.frames += len(block)
                    if out.error:
                        break
            out.raw.flush()
        except (RuntimeError, AssertionError, OSError) as exc:
            # soundfile's own errors are RuntimeErrors; a short write trips an assertion
            raise out.error or _as_os_error(exc) from None


def _as_os_error(exc: BaseException) -> OSError:
    if isinstance(exc, OSError):
        return exc
    return OSError(errno.EIO, str(exc) or "the encoder failed")


class _Kept:
    """A file as libsndfile writes it through soundfile: what the system refuses (a full
    disk) is kept here, to be raised as it was once the encoder has stopped, rather than
    lost inside the encoder's callbacks."""

    def __init__(self, raw):
        self.raw = raw
        self.error: OSError | None = None

    def _do(self, act, fail, *args):
        if self.error is not None:
            return fail
        try:
            return act(*args)
        except OSError as exc:
            self.error = exc
            return fail

    def write(self, data) -> int:
        return self._do(self.raw.write, 0, data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._do(self.raw.seek, -1, offset, whence)

    def tell(self) -> int:
        return self._do(self.raw.tell, -1)

    def read(self, size: int = -1) -> bytes:
        return self._do(self.raw.read, b"", size)
