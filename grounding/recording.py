"""An engine's recording made into a clip: read from its WAV (or AIFF) header, not assumed to
be 22050 Hz; high-passed (no DC, no rumble), trimmed of the engine's silence, faded,
resampled with soxr (HQ) to the output rate, loudness-normalised and kept as 16-bit samples
(docs/audio-stack.md §0, §5, §6).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from grounding import loudness
from grounding.cache import PCM_SCALE
from grounding.errors import SpeechUnavailable

LOUDNESS_TARGET = -23.0
"""LUFS of every cached clip (docs/audio-stack.md §6)."""
SILENCE_DB = -50.0
"""Samples quieter than this at either end of a clip are trimmed."""


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
    counted as loudness), trim silence at both ends, fade 5 ms in and out, resample (soxr
    HQ), normalise, and keep it as 16-bit samples (full scale ``PCM_SCALE``). All in
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
    edge = min(len(samples) // 2, int(0.005 * rate))
    if edge:
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)).astype(np.float32)
        samples[:edge] *= ramp
        samples[-edge:] *= ramp[::-1]
    # measured at the engine's own rate: the same loudness (soxr HQ is flat to 10 kHz), with a
    # half or a quarter of the samples to filter
    measured = loudness.integrated_lufs(samples, rate)
    if rate != samplerate and len(samples):
        samples = soxr.resample(samples, rate, samplerate, quality="HQ")
    samples *= np.float32(loudness.gain(samples, samplerate, LOUDNESS_TARGET,
                                        measured=measured))
    np.clip(samples, -1.0, 1.0, out=samples)
    samples *= np.float32(PCM_SCALE)
    return np.round(samples, out=samples).astype(np.int16)
