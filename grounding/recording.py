"""An engine's recording made into a clip: read from its WAV (or AIFF) header, not assumed to
be 22050 Hz; high-passed (no DC, no rumble), trimmed of the engine's silence, faded,
loudness-normalised, its few sharp peaks limited, resampled with soxr (HQ) to the output
rate and kept as 16-bit samples (docs/audio-stack.md §0, §5, §6).
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np

from grounding import loudness
from grounding.cache import PCM_SCALE
from grounding.errors import SpeechUnavailable

LOUDNESS_TARGET = -23.0
"""LUFS of every cached clip (docs/audio-stack.md §6)."""
PEAK_ABOVE_LOUDNESS = 14.0
"""A clip's peaks stay at most this many dB above its loudness (speech engines make lines
with peaks up to about 19 dB above it): a session can then be levelled to a phone's -18 LUFS
with its peaks below -1 dBTP (docs/sound.md §5.5)."""
LIMIT_SECONDS = 0.005
"""How far the peak limiter looks either side of a peak, and how wide its smoothing is."""
SILENCE_DB = -50.0
"""Samples quieter than this at either end of a clip are trimmed."""
EDGE_SECONDS = 0.005
"""The fade in and out at a trimmed clip's ends."""
LEVEL_PASSES, LEVEL_TOLERANCE = 4, 0.2
"""A clip is levelled, limited, levelled and limited again, and then, while it is more than
LEVEL_TOLERANCE LU from LOUDNESS_TARGET, again, up to LEVEL_PASSES limits in all: a neural
voice's peaks stand further above its loudness than espeak-ng's, and two passes left it up to
0.9 LU short; espeak-ng's clips are within the tolerance after two, as before."""
PROCESSING = {"high_pass_hz": loudness.HIGH_PASS_HZ, "silence_db": SILENCE_DB,
              "edge_seconds": EDGE_SECONDS, "loudness": LOUDNESS_TARGET,
              "peaks_above": PEAK_ABOVE_LOUDNESS, "limit_seconds": LIMIT_SECONDS,
              "level_passes": LEVEL_PASSES, "level_tolerance": LEVEL_TOLERANCE,
              "resampler": "soxr HQ"}
"""What :func:`prepare_clip` does to a recording, part of every cache key: a clip made with
other settings is never taken for one made with these (a change to the processing itself
still bumps ``cache.CACHE_VERSION``)."""


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate from a WAV (or, from macOS's driver, AIFF) file."""
    head = path.read_bytes()[:4]
    if head == b"FORM":  # pyttsx3's nsss driver always writes AIFF (docs/audio-stack.md §1.4)
        return read_aiff(path)
    with wave.open(str(path)) as f:
        raw, rate, width, channels = (f.readframes(f.getnframes()), f.getframerate(),
                                      f.getsampwidth(), f.getnchannels())
    if width != 2:
        raise SpeechUnavailable(f"The speech engine wrote {8 * width}-bit audio; only 16-bit "
                                "is understood.")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    samples *= np.float32(1 / 32768)
    return _mono(samples, channels), rate


AIFF_BYTE_ORDERS = {b"NONE": ">", b"twos": ">", b"sowt": "<"}
"""The AIFF-C compression types of plain PCM that are read, and their byte order (big-endian,
as AIFF itself, or little-endian: ``sowt``)."""
AIFF_FLOATS = {b"fl32": ">f4", b"FL32": ">f4", b"fl64": ">f8", b"FL64": ">f8"}
"""The AIFF-C compression types of floating-point samples that are read (big-endian)."""


def read_aiff(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate from an AIFF or AIFF-C file of 8- to 32-bit PCM
    (AIFF-C: uncompressed, ``NONE`` or ``twos``, or little-endian, ``sowt``; or 32- or 64-bit
    floating point); anything else is SpeechUnavailable with a sentence. Read here rather
    than with ``aifc``, which Python 3.13 removed."""
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"FORM" or data[8:12] not in (b"AIFF", b"AIFC"):
        raise SpeechUnavailable("The speech engine wrote a file that is neither WAV nor AIFF.")
    chunks = _aiff_chunks(data)
    comm, ssnd = chunks.get(b"COMM"), chunks.get(b"SSND")
    if comm is None or len(comm) < 18 or ssnd is None or len(ssnd) < 8:
        raise SpeechUnavailable("The speech engine wrote an AIFF file without its format or "
                                "its sound (a COMM or SSND chunk is missing or cut short).")
    channels, frames, bits = (int.from_bytes(comm[0:2], "big"), int.from_bytes(comm[2:6], "big"),
                              int.from_bytes(comm[6:8], "big"))
    rate = extended_float(comm[8:18])
    compression = comm[18:22] if data[8:12] == b"AIFC" else b"NONE"
    order, floats = AIFF_BYTE_ORDERS.get(compression), AIFF_FLOATS.get(compression)
    if order is None and floats is None:
        name = compression.decode("latin-1").strip() or "?"
        raise SpeechUnavailable(f"The speech engine wrote AIFF-C audio encoded as '{name}'; "
                                "only PCM (NONE, twos, sowt) and floating point (fl32, fl64) "
                                "are understood.")
    if floats is not None:
        bits = 8 * np.dtype(floats).itemsize
    if not 1 <= bits <= 32 * (1 + (floats is not None)) or channels < 1 \
            or not 1 <= rate < 10_000_000:
        raise SpeechUnavailable(f"The speech engine wrote AIFF audio of {bits}-bit samples, "
                                f"{channels} channels at {rate:g} Hz, which cannot be read.")
    width = (bits + 7) // 8  # a sample of, say, 12 bits is stored in two bytes, at the top
    start = 8 + int.from_bytes(ssnd[0:4], "big")
    raw = ssnd[start:start + frames * channels * width]
    raw = raw[:len(raw) - len(raw) % (channels * width)]
    samples = (np.frombuffer(raw, dtype=floats).astype(np.float32) if floats is not None
               else pcm_samples(raw, width, order))
    return _mono(samples, channels), round(rate)


def _aiff_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of an AIFF file after its 12-byte FORM header, by their ids (the first of
    each), each cut short where the file ends."""
    chunks, at = {}, 12
    while at + 8 <= len(data):
        name, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "big")
        chunks.setdefault(name, data[at + 8:at + 8 + size])
        at += 8 + size + size % 2  # chunks start on even bytes
    return chunks


def extended_float(raw: bytes) -> float:
    """The 80-bit IEEE 754 extended-precision number that AIFF gives its sample rate as: a
    sign bit, a 15-bit exponent (bias 16383) and a 64-bit mantissa with its integer bit."""
    exponent = int.from_bytes(raw[0:2], "big")
    mantissa = int.from_bytes(raw[2:10], "big")
    sign = -1.0 if exponent & 0x8000 else 1.0
    exponent &= 0x7FFF
    if exponent == 0x7FFF:
        return sign * math.inf
    return sign * math.ldexp(mantissa, exponent - 16383 - 63)


def pcm_samples(raw: bytes, width: int, order: str) -> np.ndarray:
    """Float32 samples in [-1, 1) from signed PCM of ``width`` bytes a sample in byte
    ``order`` ('>' or '<'): each is put at the top of a 32-bit integer and scaled."""
    if width == 2:
        samples = np.frombuffer(raw, dtype=f"{order}i2").astype(np.float32)
        samples *= np.float32(1 / 32768)
        return samples
    padded = np.zeros((len(raw) // width, 4), dtype=np.uint8)
    columns = slice(0, width) if order == ">" else slice(4 - width, 4)
    padded[:, columns] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    samples = padded.view(f"{order}i4")[:, 0].astype(np.float32)
    samples *= np.float32(1 / 2 ** 31)
    return samples


def _mono(samples: np.ndarray, channels: int) -> np.ndarray:
    """The channels of interleaved ``samples`` averaged into one."""
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


def prepare_clip(samples: np.ndarray, rate: int, samplerate: int) -> np.ndarray:
    """High-pass (70 Hz: no DC offset or rumble, which would only cost headroom and be
    counted as loudness), trim silence at both ends, fade 5 ms in and out, normalise to
    LOUDNESS_TARGET with peaks limited to PEAK_ABOVE_LOUDNESS above it, resample (soxr HQ),
    and keep it as 16-bit samples (full scale ``PCM_SCALE``). All in
    float32: a clip is often made while a session plays, and its working memory comes on top
    of the session's."""
    import soxr

    samples = loudness.high_passed(samples, rate)  # first: an offset is not silence to trim
    loud = np.abs(samples) > 10 ** (SILENCE_DB / 20)
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    # a float32 copy of its own, faded and (at the same rate) scaled in place below
    samples = (samples[first:last] if len(loud) and loud[first] else samples[:0]).astype(
        np.float32)
    del loud
    edge = min(len(samples) // 2, int(EDGE_SECONDS * rate))
    if edge:
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)).astype(np.float32)
        samples[:edge] *= ramp
        samples[-edge:] *= ramp[::-1]
    # measured, levelled and limited at the engine's own rate: the same loudness (soxr HQ is
    # flat to 10 kHz), with a half or a quarter of the samples to filter
    measured = loudness.integrated_lufs(samples, rate)
    if math.isfinite(measured):
        ceiling = 10 ** ((LOUDNESS_TARGET + PEAK_ABOVE_LOUDNESS) / 20)
        samples *= np.float32(10 ** ((LOUDNESS_TARGET - measured) / 20))
        for again in range(LEVEL_PASSES - 1):
            if not limit_peaks(samples, rate, ceiling):
                break
            # what the limiter took given back (at least once), and the peaks that raises
            # limited again
            measured = loudness.integrated_lufs(samples, rate)
            if again and abs(measured - LOUDNESS_TARGET) <= LEVEL_TOLERANCE:
                break
            samples *= np.float32(10 ** ((LOUDNESS_TARGET - measured) / 20))
        else:
            limit_peaks(samples, rate, ceiling)
    if rate != samplerate and len(samples):
        samples = soxr.resample(samples, rate, samplerate, quality="HQ")
    np.clip(samples, -1.0, 1.0, out=samples)
    samples *= np.float32(PCM_SCALE)
    return np.round(samples, out=samples).astype(np.int16)


def limit_peaks(samples: np.ndarray, rate: int, ceiling: float) -> bool:
    """Bring every peak of ``samples`` (float32, in place) down to ``ceiling`` with a smooth
    gain that looks ahead: the gain each sample needs, its least over LIMIT_SECONDS either
    side, then smoothed by a Hann window as wide; the smoothed gain is a mean of values none
    above what the sample needs, so no peak passes. Speech engines make a few sharp peaks,
    which this takes down by a few dB, leaving the rest of the line as it was. Whether
    there was a peak to limit."""
    need = np.abs(samples)
    if not len(samples) or float(np.max(need)) <= ceiling:
        return False
    np.maximum(need, ceiling, out=need)
    np.divide(ceiling, need, out=need)  # the gain each sample needs, 1 where none
    half = max(1, round(LIMIT_SECONDS * rate))
    cut = 1 - _least_around(need, half)  # exactly 0 away from the peaks: the rest is as it was
    kernel = np.hanning(2 * half + 3)[1:-1].astype(np.float32)
    kernel /= kernel.sum()
    samples *= 1 - np.convolve(np.pad(cut, half), kernel, mode="valid")
    return True


def _least_around(values: np.ndarray, half: int) -> np.ndarray:
    """The least of ``values`` within ``half`` samples either side of each (van Herk's
    running minimum: prefix and suffix minima in blocks of the window's width)."""
    width = 2 * half + 1
    n = len(values)
    blocks = -(-(n + 2 * half) // width)
    padded = np.ones(blocks * width, dtype=values.dtype)
    padded[half:half + n] = values
    shaped = padded.reshape(blocks, width)
    prefix = np.minimum.accumulate(shaped, axis=1).ravel()
    suffix = np.minimum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].ravel()
    starts = np.arange(n)
    return np.minimum(suffix[starts], prefix[starts + width - 1])
