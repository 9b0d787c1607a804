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
PROCESSING = {"high_pass_hz": loudness.HIGH_PASS_HZ, "silence_db": SILENCE_DB,
              "edge_seconds": EDGE_SECONDS, "loudness": LOUDNESS_TARGET,
              "peaks_above": PEAK_ABOVE_LOUDNESS, "limit_seconds": LIMIT_SECONDS,
              "resampler": "soxr HQ"}
"""What :func:`prepare_clip` does to a recording, part of every cache key: a clip made with
other settings is never taken for one made with these (a change to the processing itself
still bumps ``cache.CACHE_VERSION``)."""


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate from a WAV (or, from macOS's driver, AIFF) file."""
    head = path.read_bytes()[:4]
    if head == b"FORM":  # pyttsx3's nsss driver always writes AIFF (docs/audio-stack.md §1.4)
        import aifc  # removed in Python 3.13; macOS users on 3.13 need soundfile instead

        with aifc.open(str(path)) as f:
            raw, rate, width, channels = (f.readframes(f.getnframes()), f.getframerate(),
                                          f.getsampwidth(), f.getnchannels())
        dtype = ">i2"
    else:
        with wave.open(str(path)) as f:
            raw, rate, width, channels = (f.readframes(f.getnframes()), f.getframerate(),
                                          f.getsampwidth(), f.getnchannels())
        dtype = "<i2"
    if width != 2:
        raise SpeechUnavailable(f"The speech engine wrote {8 * width}-bit audio; only 16-bit "
                                "is understood.")
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    samples *= np.float32(1 / 32768)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples, rate


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
        samples *= np.float32(10 ** ((LOUDNESS_TARGET - measured) / 20))
        ceiling = 10 ** ((LOUDNESS_TARGET + PEAK_ABOVE_LOUDNESS) / 20)
        if limit_peaks(samples, rate, ceiling):
            # what the limiter took given back, and the peaks that raises limited again
            samples *= np.float32(10 ** ((LOUDNESS_TARGET
                                          - loudness.integrated_lufs(samples, rate)) / 20))
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
