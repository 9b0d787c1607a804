import numpy as np
import pyloudnorm
import pytest

from grounding.cache import PCM_SCALE, ClipCache, samples_of
from grounding.loudness import high_passed, integrated_lufs, normalize
from grounding.recording import LOUDNESS_TARGET, PEAK_ABOVE_LOUDNESS, prepare_clip
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


def true_peak_db(samples: np.ndarray, rate: int) -> float:
    """The true peak, dBTP: the highest of the signal upsampled four times (BS.1770-4
    Annex 2), here with soxr's HQ filter."""
    import soxr

    up = soxr.resample(samples.astype(np.float32), rate, 4 * rate, quality="HQ")
    return 20 * np.log10(float(np.max(np.abs(up))))


def synthetic_session(seed: int, voice_seconds: float, palette_name: str = "day"):
    """A short session with every layer: a bell, lines of speech-like noise at the clips'
    loudness, breathing with cue words and a line on an out-breath, and a level change."""
    from grounding.breath import parse_pattern
    from grounding.palette import load_palette
    from grounding.script import Bell, Breathe, Script, Speak
    from grounding.timeline import build_timeline

    rate = 16000
    palette = load_palette(palette_name)
    steps = (Bell(), Speak("Hello there.", 0.5), Speak("A second line.", 1.0),
             Breathe(parse_pattern("4-6"), 4, "words", 2, ("A line.",), level_db=-3.0),
             Speak("Bye.", 0))
    script = Script("t", "T", "t", 1, (), False, "tests", steps)
    clips = {}
    for n, text in enumerate(script.texts()):
        seconds = voice_seconds if len(text) > 4 else 0.3
        clip = normalize(speechlike(rate, seconds, seed=seed + n), rate, LOUDNESS_TARGET)
        clips[text] = np.round(clip * PCM_SCALE).astype(np.int16)
    return build_timeline(script, clips, palette, rate), palette, rate


@pytest.mark.parametrize("seed, voice_seconds, noise", [(1, 0.8, None), (2, 3.0, None),
                                                        (3, 1.5, "brown")])
@pytest.mark.parametrize("voice, tones", [(True, True), (False, True), (True, False)])
def test_the_loudness_worked_out_from_a_timeline_is_what_its_render_measures(
        seed, voice_seconds, noise, voice, tones):
    from grounding.render import Mix, estimated_loudness, render

    palette_name = "night" if noise else "day"
    tl, palette, rate = synthetic_session(seed, voice_seconds, palette_name)
    mix = Mix(volume=1.0, voice=voice, tones=tones, noise=noise)
    x = np.concatenate(list(render(tl, palette, mix, 4096)))[:, 0].astype(np.float64)
    measured = pyloudnorm.Meter(rate).integrated_loudness(x)
    # the tones are known exactly; a line is taken as steady at its loudness over its length,
    # which bursts of noise (or of speech) are not, so they are measured a little apart
    assert estimated_loudness(tl, palette, mix) == pytest.approx(measured,
                                                                 abs=1.0 if voice else 0.3)


@pytest.mark.parametrize("target", [-18.0, -24.0, -30.0])
def test_a_levelled_session_meets_its_target_at_the_usual_volume(target):
    from grounding.render import USUAL_VOLUME, Mix, render

    tl, palette, rate = synthetic_session(4, 2.0)
    for volume, expected in ((USUAL_VOLUME, target), (1.0, target - 20 * np.log10(USUAL_VOLUME))):
        mix = Mix(volume=volume, loudness=target)
        x = np.concatenate(list(render(tl, palette, mix, 4096)))[:, 0].astype(np.float64)
        assert pyloudnorm.Meter(rate).integrated_loudness(x) == pytest.approx(expected, abs=0.5)


def test_a_lines_few_sharp_peaks_are_limited_and_the_rest_left_as_it_was():
    rate = 22050
    t = np.arange(3 * rate) / rate
    envelope = 0.2 + np.sin(np.pi * t / 3) ** 2  # a line's swell, with no sharp peak of its own
    voice = 0.1 * envelope * (np.sin(2 * np.pi * 190 * t) + 0.5 * np.sin(2 * np.pi * 570 * t)
                              + 0.3 * np.sin(2 * np.pi * 1330 * t))
    for at in (0.3, 1.1, 2.2):  # clicks far above the rest, as engines make on plosives
        voice[round(at * rate)] += 0.9
    clip = prepare_clip(voice.astype(np.float32), rate, rate) / PCM_SCALE
    meter = pyloudnorm.Meter(rate)
    loudness = meter.integrated_loudness(clip)
    assert loudness == pytest.approx(LOUDNESS_TARGET, abs=0.3)
    peak = 20 * np.log10(np.max(np.abs(clip)))
    assert peak <= LOUDNESS_TARGET + PEAK_ABOVE_LOUDNESS + 0.5
    # away from the peaks the line is only scaled (after its high-pass and trim)
    source = high_passed(voice.astype(np.float32), rate)
    source = source[int(np.argmax(np.abs(source) > 10 ** (-50 / 20))):][:len(clip)]
    far = slice(round(1.4 * rate), round(2.0 * rate))
    kept = np.abs(source[far]) > 0.01
    scale = np.median(clip[far][kept] / source[far][kept])
    assert kept.sum() > 1000
    same = np.abs(clip[far] - scale * source[far]) <= 1 / PCM_SCALE  # to 16-bit rounding
    assert same.all()


def levelled_render(name: str, rate: int, tmp_path, minutes: float | None = None,
                    speak: bool = True):
    """A bundled exercise as a file at its default settings would hold it (the real voice,
    levelled to a file's programme loudness at the usual volume), as float64 samples."""
    from grounding.palette import load_palette
    from grounding.paths import bundled
    from grounding.player import prepare
    from grounding.render import FILE_LOUDNESS, USUAL_VOLUME, Mix, render
    from grounding.scriptfile import load_script
    from grounding.speech import SilentVoice

    palette = load_palette("day")
    script = load_script(bundled("scripts") / f"{name}.toml")
    voice = Pyttsx3Voice(cache=ClipCache(tmp_path / "cache")) if speak else SilentVoice()
    tl = prepare(script, voice, palette, rate, lambda line: None, minutes=minutes)
    mix = Mix(volume=USUAL_VOLUME, voice=speak, loudness=FILE_LOUDNESS)
    x = np.concatenate(list(render(tl, palette, mix, 8192)))[:, 0]
    return np.round(x.astype(np.float64) * PCM_SCALE) / PCM_SCALE  # as 16-bit


@pytest.mark.tts
def test_exercises_of_every_kind_are_levelled_to_one_loudness(tmp_path):
    # mostly words (stop, senses), mostly tones (resonance-slow, shortened), tones alone
    require_espeak()
    from grounding.render import FILE_LOUDNESS

    rate = 16000  # K-weighting's shelf is at 1.5 kHz: the voice's loudness is all below 8 kHz
    found = {}
    for name, minutes, speak in (("stop", None, True), ("senses", None, True),
                                 ("resonance-slow", 3.0, True), ("resonance-slow", 3.0, False)):
        x = levelled_render(name, rate, tmp_path, minutes, speak)
        found[(name, speak)] = pyloudnorm.Meter(rate).integrated_loudness(x)
    assert all(v == pytest.approx(FILE_LOUDNESS, abs=1.0) for v in found.values()), found


@pytest.mark.tts
def test_a_file_for_a_phone_keeps_its_true_peak_below_minus_1_dbtp(tmp_path):
    require_espeak()
    rate = 48000
    x = levelled_render("stop", rate, tmp_path)
    assert pyloudnorm.Meter(rate).integrated_loudness(x) == pytest.approx(-18, abs=1.0)
    assert true_peak_db(x, rate) <= -1.0
