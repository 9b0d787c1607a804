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


def _biquad_highpass(rate: int) -> tuple[list[float], list[float]]:
    q, fc = 0.5, 38.0
    w0 = 2 * math.pi * fc / rate
    alpha = math.sin(w0) / (2 * q)
    cos = math.cos(w0)
    return [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha]


def _power(c: list[float], cos_w: np.ndarray, cos_2w: np.ndarray) -> np.ndarray:
    """|c0 + c1 z^-1 + c2 z^-2|^2 on the unit circle, in real arithmetic."""
    return (c[0] ** 2 + c[1] ** 2 + c[2] ** 2 + 2 * (c[0] * c[1] + c[1] * c[2]) * cos_w
            + 2 * c[0] * c[2] * cos_2w)


def _response(coeffs: tuple[list[float], list[float]], w: np.ndarray) -> np.ndarray:
    """A biquad's magnitude response at angular frequencies ``w`` (radians a sample)."""
    b, a = coeffs
    cos_w, cos_2w = np.cos(w), np.cos(2 * w)
    return np.sqrt(np.maximum(_power(b, cos_w, cos_2w), 0.0) / _power(a, cos_w, cos_2w))


def k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The mono signal through the K-weighting filter's magnitude response."""
    pad = int(0.5 * rate)  # room for the filters' ringing, so nothing wraps around
    # a power of two: numpy keeps the plans of recent FFT sizes, and an awkward length
    # (one with a large prime factor) costs a plan of tens of MiB, kept for the process
    n = 1 << (len(samples) + pad - 1).bit_length()
    spectrum = np.fft.rfft(samples.astype(np.float64), n)
    w = 2 * math.pi * np.fft.rfftfreq(n, 1 / rate) / rate
    spectrum *= _response(_biquad_shelf(rate), w) * _response(_biquad_highpass(rate), w)
    return np.fft.irfft(spectrum, n)[: len(samples)]


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness of a mono signal, LUFS; ``-inf`` for silence.

    Clips shorter than one 400 ms block are measured over their whole length, ungated.
    """
    weighted = k_weighted(samples, rate)
    block = BLOCK_SECONDS * rate
    if len(weighted) < block:
        power = float(np.mean(weighted**2)) if len(weighted) else 0.0
        return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf
    count = int(round((len(weighted) / rate - BLOCK_SECONDS) / (BLOCK_SECONDS * 0.25))) + 1
    squares = np.concatenate(([0.0], np.cumsum(weighted**2)))
    lo = (np.arange(count) * 0.25 * block).astype(int)
    hi = np.minimum(((np.arange(count) * 0.25 + 1) * block).astype(int), len(weighted))
    z = (squares[hi] - squares[lo]) / block
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(z)
    gated = z[levels > ABSOLUTE_GATE]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(np.mean(gated))) + RELATIVE_GATE
    kept = z[(levels > ABSOLUTE_GATE) & (levels > relative)]
    return -0.691 + 10 * math.log10(float(np.mean(kept)))


def normalize(samples: np.ndarray, rate: int, target_lufs: float = -23.0,
              ceiling_db: float = -1.0, measured: float | None = None) -> np.ndarray:
    """Scale a clip to ``target_lufs``, never letting its peak pass ``ceiling_db`` dBFS
    (research/TECH.md §6: gain = min(target - L, ceiling - peak)). ``measured`` is its
    loudness if already known (measured before resampling, where there is less to do)."""
    loudness = integrated_lufs(samples, rate) if measured is None else measured
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if not math.isfinite(loudness) or peak == 0:
        return samples.astype(np.float32)
    gain_db = min(target_lufs - loudness, ceiling_db - 20 * math.log10(peak))
    return (samples * 10 ** (gain_db / 20)).astype(np.float32)
