"""Pure numpy sound: breath-tone glides, the chime, ducking and fades.

Everything is a closed-form function of the absolute sample index, so a render is identical for
any block size (the trick in python-sounddevice's ``play_sine.py``), and a glide's phase is the
exact integral of its frequency, so pitch is continuous from one phase into the next.
"""

from __future__ import annotations

import math

import numpy as np

TAU = 2 * math.pi


def ease(x: np.ndarray, glide: str) -> np.ndarray:
    """Glide shape from 0 to 1 over x in [0, 1]: raised cosine (``ease``) or ``linear``."""
    if glide == "ease":
        return 0.5 - 0.5 * np.cos(x.dtype.type(math.pi) * x)
    return x


def glide_end_phase(phase0: float, frames: int, samplerate: int, f0: float, f1: float) -> float:
    """Oscillator phase (radians, wrapped) just after a glide of ``frames`` from f0 to f1 Hz."""
    return (phase0 + TAU * (frames / samplerate) * (f0 + 0.5 * (f1 - f0))) % TAU


def harmonics(c: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w_k cos(kφ) from c = cos φ, by the Chebyshev recurrence T_{k+1} = 2c·T_k − T_{k−1}:
    one cosine per sample however many partials there are."""
    total = weights[0] * c
    previous, current = np.ones_like(c), c
    for w in weights[1:]:
        previous, current = current, 2 * c * current - previous
        if w:
            total += w * current
    return total


def glide(offsets: np.ndarray, frames: int, samplerate: int, *, f0: float, f1: float,
          a0: float, a1: float, settle: int, phase0: float, weights: np.ndarray,
          shape: str) -> np.ndarray:
    """Samples (float32) of one breath phase at ``offsets`` (frames from the phase's start).

    Pitch glides from f0 to f1 Hz over the whole phase; the level moves from a0 to a1 over the
    first ``settle`` frames. The phase is phase0 + 2π ∫ f(t) dt, so it is continuous. It is
    counted in turns in float64 (exact over hours), and only the wrapped fraction of a turn
    goes through float32 trigonometry, which numpy vectorises (about 15× faster).
    """
    x = offsets / frames
    seconds = frames / samplerate
    turns = phase0 / TAU + seconds * (f0 + 0.5 * (f1 - f0)) * x
    if f1 != f0:
        if shape == "ease":
            wobble = np.sin(np.float32(math.pi) * x.astype(np.float32))
            turns -= (seconds * (f1 - f0) / TAU) * wobble
        else:
            turns += seconds * (f1 - f0) * 0.5 * (x * x - x)
    fraction = (turns - np.floor(turns)).astype(np.float32)
    wave = harmonics(np.cos(np.float32(TAU) * fraction), weights.astype(np.float32))
    if settle >= frames:
        level = a0 + (a1 - a0) * ease(x.astype(np.float32), shape)
    else:
        level = np.full(len(offsets), a1, dtype=np.float32)
        moving = offsets < settle
        if moving.any():
            y = (offsets[moving] / settle).astype(np.float32)
            level[moving] = a0 + (a1 - a0) * ease(y, shape)
    return (level * wave).astype(np.float32, copy=False)


def chime(offsets: np.ndarray, samplerate: int, *, hz: float,
          partials: tuple[tuple[float, float], ...], decay_seconds: float, frames: int,
          level: float) -> np.ndarray:
    """A soft bell at ``offsets`` (frames from its start): a 20 ms raised-cosine attack, an
    exponential decay, and a final 50 ms fade so it ends at exactly zero (CONTENT.md §5.2)."""
    t = offsets / samplerate
    total = sum(a for _, a in partials)
    wave = sum((a / total) * np.sin(TAU * hz * ratio * t) for ratio, a in partials)
    envelope = np.exp(-t / decay_seconds) * ease(np.minimum(t / 0.02, 1.0), "ease")
    tail = (frames - offsets) / (0.05 * samplerate)
    envelope *= ease(np.clip(tail, 0.0, 1.0), "ease")
    return level * envelope * wave


def duck_weight(positions: np.ndarray, ranges: list[tuple[int, int]], ramp: int) -> np.ndarray:
    """How far (0 to 1) the pacer is dipped at absolute ``positions``, given the voice's
    ``(start, end)`` ranges: ramps of ``ramp`` frames before each start and after each end."""
    weight = np.zeros(len(positions))
    for start, end in ranges:
        rise = np.clip((positions - (start - ramp)) / ramp, 0.0, 1.0)
        fall = np.clip(((end + ramp) - positions) / ramp, 0.0, 1.0)
        np.maximum(weight, ease(np.minimum(rise, fall), "ease"), out=weight)
    return weight


def level_gain(positions: np.ndarray, levels: list) -> np.ndarray:
    """The session's level (linear gain) at absolute ``positions``, from its changes (objects
    with ``start``, ``frames``, ``db0``, ``db1``, in order; 0 dB before the first). A change
    eases in dB; one to ``-inf`` is an equal-power fade, cos(πx/2), ending at exactly 0."""
    gain = np.ones(len(positions))
    for change in levels:
        x = np.clip((positions - change.start) / max(1, change.frames), 0.0, 1.0)
        here = positions >= change.start
        if not here.any():
            break
        g0 = 10 ** (change.db0 / 20)
        if change.db1 == -math.inf:
            curve = g0 * np.cos(0.5 * math.pi * x)
            curve[x >= 1.0] = 0.0
        else:
            curve = 10 ** ((change.db0 + (change.db1 - change.db0) * ease(x, "ease")) / 20)
        gain[here] = curve[here]
    return gain


NOISE_FRAMES = 1 << 20
"""Length of the noise bed's loop, frames (about 22 s at 48 kHz): long enough that it is not
heard repeating under a breath cycle of 10 to 12 s."""


def noise_loop(color: str, samplerate: int, low_hz: float, high_hz: float,
               seed: int = 20261201) -> np.ndarray:
    """A seamless loop of ``brown`` (-6 dB an octave) or ``pink`` (-3 dB an octave) noise,
    band-limited to [low_hz, high_hz] with gentle slopes, float32, RMS 1. Made by giving each
    FFT bin a random phase and the colour's magnitude: the inverse transform is periodic, so
    the loop has no seam (CONTENT.md §5.4: no looping glitches)."""
    freqs = np.fft.rfftfreq(NOISE_FRAMES, 1 / samplerate)
    with np.errstate(divide="ignore"):
        slope = 1.0 / (freqs if color == "brown" else np.sqrt(freqs))
    slope[0] = 0.0
    # second-order slopes at both band edges: no rumble below, nothing bright above
    band = 1 / (1 + (low_hz / np.maximum(freqs, 1e-9)) ** 4) / (1 + (freqs / high_hz) ** 4)
    rng = np.random.default_rng(seed)
    spectrum = slope * np.sqrt(band) * np.exp(2j * np.pi * rng.random(len(freqs)))
    loop = np.fft.irfft(spectrum, NOISE_FRAMES)
    return (loop / np.sqrt(np.mean(loop * loop))).astype(np.float32)
