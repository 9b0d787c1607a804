import numpy as np
import pyloudnorm
import pytest

from grounding.loudness import integrated_lufs, normalize


def speechlike(rate, seconds=3.0, seed=1):
    """Noise bursts shaped like syllables, with gaps (so gating matters)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 2.3 * t), 0, None) ** 2
    return 0.3 * envelope * rng.standard_normal(len(t))


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("kind", ["60", "440", "4000", "speech"])
def test_loudness_matches_pyloudnorm(rate, kind):
    t = np.arange(3 * rate) / rate
    signal = speechlike(rate) if kind == "speech" else 0.25 * np.sin(2 * np.pi * int(kind) * t)
    expected = pyloudnorm.Meter(rate).integrated_loudness(signal)
    assert integrated_lufs(signal, rate) == pytest.approx(expected, abs=0.15)


@pytest.mark.parametrize("rate", [16000, 22050, 48000])
def test_long_lines_and_low_tones_match_pyloudnorm(rate):
    """Longer than many of the segments the filter works in (the joins must not show), with
    a quiet start (the gates), and tones at 30 Hz, beside the high-pass, and 1500 Hz, on the
    shelf."""
    t = np.arange(round(21.3 * rate)) / rate
    signals = [speechlike(rate, 21.3, seed=4) * np.where(t < 4, 0.02, 1.0),
               0.3 * np.sin(2 * np.pi * 30 * t), 0.1 * np.sin(2 * np.pi * 1500 * t)]
    for signal in signals:
        expected = pyloudnorm.Meter(rate).integrated_loudness(signal)
        assert integrated_lufs(signal.astype(np.float32), rate) == pytest.approx(expected, abs=0.05)


def test_normalised_clips_reach_the_target():
    rate = 48000
    out = normalize(speechlike(rate) * 0.1, rate, -23.0)
    assert out.dtype == np.float32
    assert pyloudnorm.Meter(rate).integrated_loudness(out.astype(np.float64)) == pytest.approx(-23, abs=0.2)


def test_the_peak_ceiling_wins_over_the_target():
    rate = 48000
    spiky = np.zeros(rate * 2)
    spiky[::4800] = 0.5  # loud clicks, little energy
    out = normalize(spiky, rate, -10.0, ceiling_db=-1.0)
    assert 20 * np.log10(np.max(np.abs(out))) == pytest.approx(-1.0, abs=0.01)


def test_short_clips_and_silence_are_handled():
    rate = 48000
    short = 0.2 * np.sin(2 * np.pi * 440 * np.arange(rate // 5) / rate)
    assert np.isfinite(integrated_lufs(short, rate))
    assert integrated_lufs(np.zeros(rate), rate) == -np.inf
    assert not normalize(np.zeros(rate), rate).any()
