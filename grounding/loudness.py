"""Integrated loudness (ITU-R BS.1770-4) in numpy, and loudness normalisation of clips.

The K-weighting pre-filter is the two biquads of BS.1770-4 §2.1 (a +4 dB high shelf at
1500 Hz, Q 1/√2, and a high-pass at 38 Hz, Q 0.5, designed for any rate with the RBJ
formulas, as pyloudnorm does), applied by its magnitude in the frequency domain: loudness is
a power measure, so the filter's phase does not matter. Gating follows BS.1770-4 §2.2: 400 ms
blocks with 75 % overlap, an absolute gate at -70 LKFS and a relative gate 10 LU below.
pyloudnorm is the test oracle (tests/test_loudness.py).
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_SECONDS = 0.4
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0


def _biquad_shelf(rate: int) -> tuple[list[float], list[float]]:
    gain_db, q, fc = 4.0, 1 / math.sqrt(2), 1500.0
    a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / rate
    alpha = math.sin(w0) / (2 * q)
    cos, sq = math.cos(w0), 2 * math.sqrt(a) * alpha
    b = [a * ((a + 1) + (a - 1) * cos + sq), -2 * a * ((a - 1) + (a + 1) * cos),
         a * ((a + 1) + (a - 1) * cos - sq)]
    den = [(a + 1) - (a - 1) * cos + sq, 2 * ((a - 1) - (a + 1) * cos),
           (a + 1) - (a - 1) * cos - sq]
    return b, den


def _biquad_highpass(rate: int, fc: float, q: float) -> tuple[list[float], list[float]]:
    w0 = 2 * math.pi * fc / rate
    alpha = math.sin(w0) / (2 * q)
    cos = math.cos(w0)
    return [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha]


def _power(c: list[float], s: np.ndarray) -> np.ndarray:
    """|c0 + c1 z^-1 + c2 z^-2|^2 on the unit circle, where ``s`` is sin^2(w/2):
    (c0+c1+c2)^2 - 4 s (c0 c1 + c1 c2 + 4 c0 c2) + 16 c0 c2 s^2, a form without the
    cancellation of the cosine one near 0 Hz (the high-pass's denominator is about 1e-8
    there)."""
    k1 = -4 * (c[0] * c[1] + c[1] * c[2] + 4 * c[0] * c[2])
    return (c[0] + c[1] + c[2]) ** 2 + s * (k1 + 16 * c[0] * c[2] * s)


def _response(coeffs: tuple[list[float], list[float]], s: np.ndarray) -> np.ndarray:
    """A biquad's magnitude response where sin^2 of half the angular frequency (radians a
    sample) is ``s``."""
    b, a = coeffs
    return np.sqrt(np.maximum(_power(b, s), 0.0) / _power(a, s))


SEGMENT = 8192
"""Samples filtered at a time: the filters here are applied by overlap-add, in FFTs of twice
this length. Their zero-phase impulse responses are a few tens of ms long either side (the
high-passes ring longest), far inside the half FFT left for them, and the working memory
stays a few hundred KiB however long the line (a clip is often made while a session plays,
on top of its memory)."""


def k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The mono signal through the K-weighting filter's magnitude response, float32."""
    return _zero_phase(samples, lambda s: _response(_biquad_shelf(rate), s)
                       * _response(_biquad_highpass(rate, 38.0, 0.5), s))


HIGH_PASS_HZ = 70.0
"""Where the voice's high-pass turns: below the lowest voices' fundamentals (about 85 Hz),
above the rumble and the DC a recording may carry."""


def high_passed(samples: np.ndarray, rate: int, hz: float = HIGH_PASS_HZ) -> np.ndarray:
    """The mono signal through a gentle high-pass, float32: the magnitude of a second-order
    Butterworth (Q 1/√2, -12 dB an octave below ``hz``), applied with no phase shift. Its
    gain at 0 Hz is exactly zero, so it takes away any DC offset. The ends are extended with
    their own values first, so an offset that runs to the edge leaves no step to ring."""
    if not len(samples):
        return samples.astype(np.float32)
    pad = SEGMENT // 2
    extended = np.pad(samples.astype(np.float32, copy=False), pad, mode="edge")
    coeffs = _biquad_highpass(rate, hz, 1 / math.sqrt(2))
    return _zero_phase(extended, lambda s: _response(coeffs, s))[pad:pad + len(samples)]


def _zero_phase(samples: np.ndarray, response) -> np.ndarray:
    """The mono signal through a filter's magnitude ``response`` (a function of sin^2 of half
    the angular frequency), with no phase shift, float32, by overlap-add in FFTs of twice
    SEGMENT."""
    n = 2 * SEGMENT
    s = np.sin(np.arange(n // 2 + 1) * (math.pi / n)) ** 2  # bin k is at w = 2 pi k / n
    gain = response(s).astype(np.float32)
    tail = SEGMENT // 2  # each result's first and last `tail` samples lie outside it
    segments = -(-len(samples) // SEGMENT)
    out = np.zeros(segments * SEGMENT + 2 * tail, dtype=np.float32)
    for lo in range(0, len(samples), SEGMENT):
        part = samples[lo:lo + SEGMENT].astype(np.float32)
        y = np.fft.irfft(np.fft.rfft(part, n) * gain, n)
        # circular: the response before the segment's start has wrapped to the end
        out[lo + tail:lo + tail + SEGMENT + tail] += y[:SEGMENT + tail]
        out[lo:lo + tail] += y[n - tail:]
    return out[tail:tail + len(samples)]


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness of a mono signal, LUFS; ``-inf`` for silence.

    Clips shorter than one 400 ms block are measured over their whole length, ungated.
    """
    squares = k_weighted(samples, rate)
    np.square(squares, out=squares)
    n, block = len(squares), BLOCK_SECONDS * rate
    if n < block:
        power = float(np.sum(squares, dtype=np.float64)) / n if n else 0.0
        return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf
    count = int(round((n / rate - BLOCK_SECONDS) / (BLOCK_SECONDS * 0.25))) + 1
    lo = (np.arange(count) * 0.25 * block).astype(int)
    hi = np.minimum(((np.arange(count) * 0.25 + 1) * block).astype(int), n)
    # the running sum at every block edge, summed in double precision a quarter block at a
    # time (no running sum of every sample: that would be 8 bytes a sample)
    edges = np.unique(np.concatenate((lo, hi[hi < n])))
    running = np.concatenate(([0.0], np.cumsum(np.add.reduceat(squares, edges,
                                                                dtype=np.float64))))
    at = np.append(edges, n)
    return gated((running[np.searchsorted(at, hi)] - running[np.searchsorted(at, lo)]) / block)


def gated(z: np.ndarray) -> float:
    """The integrated loudness, LUFS, of the mean K-weighted powers ``z`` of 400 ms blocks
    that overlap by 75 % (BS.1770-4 §2.2: the absolute and the relative gate)."""
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(z)
    above = z[levels > ABSOLUTE_GATE]
    if not len(above):
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(np.mean(above))) + RELATIVE_GATE
    kept = z[(levels > ABSOLUTE_GATE) & (levels > relative)]
    return -0.691 + 10 * math.log10(float(np.mean(kept)))


def k_power(hz: np.ndarray, rate: int) -> np.ndarray:
    """The K-weighting's power gain at frequencies ``hz`` (a sine's loudness is its power
    times this)."""
    s = np.sin(np.pi * np.minimum(np.asarray(hz, dtype=np.float64) / rate, 0.5)) ** 2
    gain = _response(_biquad_shelf(rate), s) * _response(_biquad_highpass(rate, 38.0, 0.5), s)
    return gain ** 2


def normalize(samples: np.ndarray, rate: int, target_lufs: float = -23.0,
              ceiling_db: float = -1.0, measured: float | None = None) -> np.ndarray:
    """Scale a clip to ``target_lufs``, never letting its peak pass ``ceiling_db`` dBFS
    (docs/audio-stack.md §6: gain = min(target - L, ceiling - peak)). ``measured`` is its
    loudness if already known (measured before resampling, where there is less to do)."""
    return np.multiply(samples, gain(samples, rate, target_lufs, ceiling_db, measured),
                       dtype=np.float32)


def gain(samples: np.ndarray, rate: int, target_lufs: float = -23.0,
         ceiling_db: float = -1.0, measured: float | None = None) -> float:
    """The factor :func:`normalize` scales by (1 for silence), to scale a clip in place."""
    loudness = integrated_lufs(samples, rate) if measured is None else measured
    peak = float(max(np.max(samples), -np.min(samples))) if len(samples) else 0.0
    if not math.isfinite(loudness) or peak == 0:
        return 1.0
    return 10 ** (min(target_lufs - loudness, ceiling_db - 20 * math.log10(peak)) / 20)
