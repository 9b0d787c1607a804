"""Pure numpy sound: breath-tone glides, the chime, ducking and fades.

Everything is a closed-form function of the absolute sample index, so a render is identical for
any block size (the trick in python-sounddevice's ``play_sine.py``), and a glide's phase is the
exact integral of its frequency, so pitch is continuous from one phase into the next.
"""

from __future__ import annotations

import math

import numpy as np

TAU = 2 * math.pi


def ease(x: np.ndarray | float, glide: str) -> np.ndarray | float:
    """Glide shape from 0 to 1 over x in [0, 1]: raised cosine (``ease``) or ``linear``.

    The one curve of a breath tone: its pitch is f0 + (f1 - f0) * ease(x) (``glide`` below
    integrates it into the phase), and the display's bar follows the same curve. Arrays keep
    their dtype; a plain number gives a number."""
    if glide == "ease":
        return 0.5 - 0.5 * np.cos(np.asarray(x).dtype.type(math.pi) * x)
    return x


def glide_end_phase(phase0: float, frames: int, samplerate: int, f0: float, f1: float) -> float:
    """Oscillator phase (radians, wrapped) just after a glide of ``frames`` from f0 to f1 Hz."""
    return (phase0 + TAU * (frames / samplerate) * (f0 + 0.5 * (f1 - f0))) % TAU


def harmonics(c: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w_k cos(kφ) from c = cos φ, by the Chebyshev recurrence T_{k+1} = 2c·T_k − T_{k−1}:
    one cosine per sample however many partials there are. (Worked in place: a render
    spends much of its time here.)"""
    total = weights[0] * c
    twice, spare, scratch = 2 * c, None, np.empty_like(total)
    previous, current = None, c  # no previous yet: T_0 is 1
    for w in weights[1:]:
        following = np.multiply(twice, current, out=spare)
        following -= 1 if previous is None else previous
        spare = previous if previous is not c else None  # not needed any more
        previous, current = current, following
        if w:
            total += np.multiply(w, current, out=scratch)
    return total


def glide(offsets: np.ndarray, frames: int, samplerate: int, *, f0: float, f1: float,
          a0: float, a1: float, settle: int, phase0: float, weights: np.ndarray,
          shape: str) -> np.ndarray:
    """Samples (float32) of one breath phase at ``offsets`` (frames from the phase's start).

    Pitch glides from f0 to f1 Hz over the whole phase; the level moves from a0 to a1 over the
    first ``settle`` frames. The phase is phase0 + 2π ∫ f(t) dt, so it is continuous. It is
    counted in turns in float64 (exact over hours), and only the wrapped fraction of a turn
    goes through float32 trigonometry, which numpy vectorises (about 15× faster). The arrays
    are worked in place where they can be: a render spends most of its time here.
    """
    x = offsets / frames
    seconds = frames / samplerate
    turns = np.multiply(seconds * (f0 + 0.5 * (f1 - f0)), x)
    turns += phase0 / TAU
    x32 = x.astype(np.float32)
    half_turn = np.float32(math.pi) * x32  # the raised cosine's angle, when it eases
    if f1 != f0:
        if shape == "ease":
            wobble = np.sin(half_turn)
            wobble *= seconds * (f1 - f0) / TAU
            turns -= wobble
        else:
            turns += seconds * (f1 - f0) * 0.5 * (x * x - x)
    whole = np.floor(turns)
    np.subtract(turns, whole, out=whole)
    fraction = whole.astype(np.float32)
    fraction *= np.float32(TAU)
    wave = harmonics(np.cos(fraction, out=fraction), weights.astype(np.float32))
    if settle >= frames:
        if shape == "ease":  # ease(x), as ease() works it out, from the angle above
            level = np.cos(half_turn, out=half_turn)
            level *= 0.5
            np.subtract(0.5, level, out=level)
        else:
            level = ease(x32, shape)
        level *= a1 - a0
        level += a0
    else:
        level = np.full(len(offsets), a1, dtype=np.float32)
        moving = offsets < settle
        if moving.any():
            y = (offsets[moving] / settle).astype(np.float32)
            level[moving] = a0 + (a1 - a0) * ease(y, shape)
    wave *= level
    return wave


def chime(offsets: np.ndarray, samplerate: int, *, hz: float,
          partials: tuple[tuple[float, float], ...], decay_seconds: float, frames: int,
          level: float) -> np.ndarray:
    """A soft bell at ``offsets`` (frames from its start): a 20 ms raised-cosine attack, an
    exponential decay for each partial, and a final 50 ms fade so it ends at exactly zero
    (docs/sound.md §5.2). As in a struck bowl, whose losses grow with frequency, a partial
    at ``ratio`` times the fundamental decays ``ratio`` times faster (the fundamental by 1/e
    in ``decay_seconds``, and none slower): the bright strike softens to its low hum."""
    t = offsets / samplerate
    total = sum(a for _, a in partials)
    wave = sum((a / total) * np.exp(-t * (max(ratio, 1.0) / decay_seconds))
               * np.sin(TAU * hz * ratio * t) for ratio, a in partials)
    envelope = ease(np.minimum(t / 0.02, 1.0), "ease")
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


LEVEL_GRID = 256
"""The session's level is worked out exactly every this many frames (absolute), and drawn
straight between: it moves over minutes, so that is smooth, and much cheaper."""


def level_gain(start: int, end: int, levels: list) -> float | np.ndarray:
    """The session's level (linear gain) over frames [start, end), from its changes (objects
    with ``start``, ``frames``, ``db0``, ``db1``, in order, one after another; 0 dB before the
    first): a number where it is steady, else an array. A change eases in dB; one to
    ``-inf`` is an equal-power fade, cos(πx/2), reaching exactly 0 at its end."""
    moving = [c for c in levels if c.start < end and c.start + c.frames > start]
    if not moving:
        gain = 1.0
        for change in levels:
            if change.start >= end:
                break
            gain = 0.0 if change.db1 == -math.inf else 10 ** (change.db1 / 20)
        return gain
    first = start // LEVEL_GRID * LEVEL_GRID
    grid = np.arange(first, end + LEVEL_GRID, LEVEL_GRID, dtype=np.float64)
    return straight_between(exact_level(grid, levels).astype(np.float32), _GRID_RAMP,
                            start - first, end - start)


_GRID_RAMP = np.arange(LEVEL_GRID, dtype=np.float32) / LEVEL_GRID


def straight_between(points: np.ndarray, ramp: np.ndarray, skip: int, count: int) -> np.ndarray:
    """``count`` values drawn straight between ``points`` that lie ``len(ramp)`` frames apart
    (``ramp`` is 0, 1/n, … (n-1)/n), from ``skip`` frames after the first point."""
    lines = points[:-1, None] + np.outer(np.diff(points), ramp)
    return lines.ravel()[skip:skip + count]


def exact_level(positions: np.ndarray, levels: list) -> np.ndarray:
    """The session's level (linear gain, float64) at absolute ``positions``, worked out
    exactly (see :func:`level_gain`)."""
    gain = np.ones(len(positions))
    for change in levels:
        here = positions >= change.start
        if not here.any():
            break
        x = np.clip((positions[here] - change.start) / max(1, change.frames), 0.0, 1.0)
        if change.db1 == -math.inf:
            curve = 10 ** (change.db0 / 20) * np.cos(0.5 * math.pi * x)
            curve[x >= 1.0] = 0.0
        else:
            curve = 10 ** ((change.db0 + (change.db1 - change.db0) * ease(x, "ease")) / 20)
        gain[here] = curve
    return gain


NOISE_FRAME = 65536
"""Random bins per noise grain, spaced as for a grain of this many samples at the bed's own
rate (about 4 s at 16 kHz); grains overlap by half. A grain is one inverse FFT."""


class NoiseBed:
    """``brown`` (-6 dB an octave) or ``pink`` (-3 dB an octave) noise, band-limited to
    [low_hz, high_hz] with gentle slopes, RMS about 1, as a function of the absolute frame.

    Its random bins are drawn only up to a lower rate's Nyquist frequency, ``step`` times
    below ``samplerate`` (still four times its top frequency), and each grain's inverse FFT
    is taken at ``samplerate`` itself, the bins above left at zero: exact band-limited
    interpolation, with nothing at all above that frequency (no images, which drawing
    straight between lower-rate samples would leave), at the cost of one longer FFT every
    two seconds or so. Grain k (samples k·H to k·H + 2H, H half a grain) is the inverse FFT
    of random bins (real and imaginary parts uniform, from a generator seeded by (seed, k)),
    shaped by the colour's magnitude; grains are windowed by sqrt(Hann), whose squares sum
    to one, so independent grains overlap without dips in level. Nothing repeats, nothing
    depends on the block size, and memory stays a few grains (docs/sound.md §5.4: no looping
    glitches)."""

    def __init__(self, color: str, samplerate: int, low_hz: float, high_hz: float,
                 seed: int = 20261201):
        self.step = max(1, int(samplerate // (8 * high_hz)))
        self.frame = NOISE_FRAME * self.step
        """Samples in a grain, at ``samplerate``."""
        freqs = np.fft.rfftfreq(NOISE_FRAME, self.step / samplerate)
        with np.errstate(divide="ignore"):
            slope = 1.0 / (freqs if color == "brown" else np.sqrt(freqs))
        slope[0] = 0.0
        slope[-1] = 0.0  # the lower rate's Nyquist bin: above it, and at it, nothing
        # second-order slopes at both band edges: no rumble below, nothing bright above
        band = 1 / (1 + (low_hz / np.maximum(freqs, 1e-9)) ** 4) / (1 + (freqs / high_hz) ** 4)
        magnitude = slope * np.sqrt(band)
        # an inverse FFT of unit-power bins has power sum(|X|^2) / N^2 (x2 for rfft halves)
        magnitude *= self.frame / np.sqrt(2 * np.sum(magnitude ** 2))
        # real and imaginary parts uniform in [-1/2, 1/2] have power 1/12 each: 1/6 a bin
        self.magnitude = (magnitude * math.sqrt(6)).astype(np.float32)
        self.window = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.frame)
                                                 / self.frame)).astype(np.float32)
        self.seed = seed
        self.grains: dict[int, np.ndarray] = {}

    def _grain(self, k: int) -> np.ndarray:
        if k not in self.grains:
            rng = np.random.default_rng([self.seed, k])
            spectrum = rng.random(2 * len(self.magnitude), dtype=np.float32).view(np.complex64)
            spectrum -= np.complex64(0.5 + 0.5j)
            spectrum *= self.magnitude
            grain = np.fft.irfft(spectrum, self.frame).astype(np.float32, copy=False)
            grain *= self.window
            self.grains[k] = grain
            for old in [g for g in self.grains if g < k - 3]:
                del self.grains[old]
        return self.grains[k]

    def samples(self, start: int, end: int) -> np.ndarray:
        """The bed over frames [start, end), float32."""
        hop = self.frame // 2
        out = np.zeros(end - start, dtype=np.float32)
        for k in range(max(0, start // hop - 1), (end - 1) // hop + 1):
            lo, hi = max(start, k * hop), min(end, k * hop + self.frame)
            if lo < hi:
                out[lo - start:hi - start] += self._grain(k)[lo - k * hop:hi - k * hop]
        return out
