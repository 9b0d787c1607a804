import numpy as np
import pyloudnorm
import pytest

from grounding.cache import PCM_SCALE, ClipCache, samples_of
from grounding.loudness import high_passed, integrated_lufs, normalize
from grounding.recording import LOUDNESS_TARGET, prepare_clip
from grounding.speech import Pyttsx3Voice
from support import require_espeak


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


@pytest.mark.parametrize("hz", [10, 20, 35, 70, 140, 300, 1000, 5000])
def test_the_voice_high_pass_is_a_gentle_second_order_butterworth_at_70_hz(hz):
    rate = 22050
    t = np.arange(4 * rate) / rate
    tone = np.sin(2 * np.pi * hz * t).astype(np.float32)
    out = high_passed(tone, rate)
    middle = slice(rate, 3 * rate)  # away from the ends, where the tone starts and stops
    gain_db = 10 * np.log10(np.mean(out[middle] ** 2) / np.mean(tone[middle] ** 2))
    x = (hz / 70) ** 4
    assert gain_db == pytest.approx(10 * np.log10(x / (1 + x)), abs=0.1)


def test_a_recording_with_an_offset_and_rumble_becomes_a_clip_without_either():
    rate, out_rate = 22050, 48000
    n = round(4.0 * rate)
    t = np.arange(n) / rate
    voice = speechlike(rate, 3.0, seed=5)
    recording = np.full(n, 0.01)  # a DC offset at -40 dBFS, through the engine's silence too
    recording += 0.02 * np.sin(2 * np.pi * 8 * t)  # and rumble at 8 Hz
    recording[round(0.5 * rate):round(0.5 * rate) + len(voice)] += voice
    clip = prepare_clip(recording.astype(np.float32), rate, out_rate) / PCM_SCALE
    assert 2.8 < len(clip) / out_rate < 3.2  # the offset was not taken for sound to keep
    seconds = clip[: len(clip) // out_rate * out_rate].reshape(-1, out_rate)
    assert 20 * np.log10(np.max(np.abs(seconds.mean(axis=1)))) < -80  # dBFS
    spectrum = np.abs(np.fft.rfft(clip)) ** 2
    freqs = np.fft.rfftfreq(len(clip), 1 / out_rate)
    assert 10 * np.log10(spectrum[freqs < 20].sum() / spectrum.sum()) < -50
    assert pyloudnorm.Meter(out_rate).integrated_loudness(clip) == pytest.approx(
        LOUDNESS_TARGET, abs=0.3)


@pytest.mark.tts
def test_spoken_clips_carry_no_dc_and_no_rumble(tmp_path):
    require_espeak()
    voice = Pyttsx3Voice(cache=ClipCache(tmp_path / "cache"))
    text = "Let your shoulders rest. There is nothing to do right now but breathe softly."
    clip = samples_of(voice.clips([text], 48000)[text]) / PCM_SCALE
    seconds = clip[: len(clip) // 48000 * 48000].reshape(-1, 48000)
    assert len(seconds) >= 2
    assert 20 * np.log10(np.max(np.abs(seconds.mean(axis=1)))) < -80  # dBFS, each second
    spectrum = np.abs(np.fft.rfft(clip)) ** 2
    freqs = np.fft.rfftfreq(len(clip), 1 / 48000)
    assert 10 * np.log10(spectrum[freqs < 20].sum() / spectrum.sum()) < -50
