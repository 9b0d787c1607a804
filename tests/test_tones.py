import dataclasses

import numpy as np
import pytest

from grounding.breath import parse_pattern
from grounding.palette import load_palette
from grounding.render import Mix, render
from grounding.script import Bell, Breathe, Script, Speak
from grounding.timeline import build_timeline
from support import pitch

PALETTE = load_palette("day")
RATE = 48000


def rendered(*steps, mix=Mix(volume=1.0), clip_seconds=0.5):
    s = Script("t", "T", "t", 1, (), False, "tests", tuple(steps))
    clips = {t: np.zeros(round(clip_seconds * RATE), dtype=np.float32) for t in s.texts()}
    tl = build_timeline(s, clips, PALETTE, RATE)
    return tl, np.concatenate(list(render(tl, PALETTE, mix, 4096)))[:, 0].astype(np.float64)


def window(x, start_s, seconds=0.25):
    a = round(start_s * RATE)
    return x[a:a + round(seconds * RATE)]


def test_the_in_breath_tone_rises_in_pitch():
    _, x = rendered(Breathe(parse_pattern("4-6"), 2, "none", 0))
    early, late = pitch(window(x, 10.8), RATE), pitch(window(x, 13.0), RATE)
    assert late > early + 40
    assert pitch(window(x, 13.9), RATE) == pytest.approx(330, abs=3)


def test_the_out_breath_tone_falls_in_pitch():
    _, x = rendered(Breathe(parse_pattern("4-6"), 2, "none", 0))
    assert pitch(window(x, 15.0), RATE) > pitch(window(x, 18.0), RATE) + 40


def test_a_hold_keeps_its_pitch_and_is_about_6_db_quieter_than_the_peak():
    _, x = rendered(Breathe(parse_pattern("4-4-4"), 2, "none", 0))
    steady = [pitch(window(x, t), RATE) for t in (4.6, 6.0, 7.5)]
    assert max(steady) - min(steady) < 1.0
    peak = np.max(np.abs(window(x, 3.9, 0.1)))
    held = np.max(np.abs(window(x, 6.0, 0.5)))
    assert 20 * np.log10(held / peak) == pytest.approx(-6, abs=0.5)


def test_the_sigh_rises_in_two_steps_on_the_audio():
    _, x = rendered(Breathe(parse_pattern("2.5+0.7-6"), 1, "none", 0))
    first = pitch(window(x, 2.2, 0.2), RATE)
    top = pitch(window(x, 3.0, 0.15), RATE)
    assert PALETTE.tone.low_hz + 60 < first < top - 10
    assert top == pytest.approx(PALETTE.tone.high_hz, abs=15)


def test_there_are_no_clicks_anywhere_in_the_pacer():
    # A sinusoid of amplitude A at f Hz moves at most 2*pi*f*A/rate per sample; a click or a
    # phase jump at a phase boundary would exceed that bound.
    _, x = rendered(Breathe(parse_pattern("4-7-8"), 2, "none", 0),
                    Breathe(parse_pattern("2.5+0.7-6"), 2, "none", 0))
    bound = 2 * np.pi * PALETTE.tone.high_hz * 3 * 10 ** (PALETTE.tone.peak_db / 20) / RATE
    assert np.max(np.abs(np.diff(x))) < bound
    # and a second difference bound: no kinks either
    assert np.max(np.abs(np.diff(x, 2))) < bound * 2 * np.pi * 3 * PALETTE.tone.high_hz / RATE * 1.5


def test_breathing_starts_and_ends_in_silence():
    _, x = rendered(Breathe(parse_pattern("4-6"), 2, "none", 0))
    assert abs(x[0]) < 1e-6 and abs(x[-1]) < 1e-4
    assert np.max(np.abs(x[:48])) < 1e-3


def test_the_pacer_dips_about_6_db_while_the_voice_speaks():
    steps = (Breathe(parse_pattern("4-6"), 3, "words", 3),)
    _, spoken = rendered(*steps, mix=Mix(volume=1.0, voice=True), clip_seconds=0.6)
    _, unspoken = rendered(*steps, mix=Mix(volume=1.0, voice=False), clip_seconds=0.6)
    # cue "out" at 14 s (cycle 1): the clips are silent, so only the ducked pacer is heard
    a = window(spoken, 14.25, 0.2)
    b = window(unspoken, 14.25, 0.2)
    ratio = np.sqrt(np.mean(a**2) / np.mean(b**2))
    assert 20 * np.log10(ratio) == pytest.approx(PALETTE.tone.duck_db, abs=0.3)
    assert np.allclose(window(spoken, 17, 0.5), window(unspoken, 17, 0.5))


def test_the_bell_rings_softly_and_ends_at_zero():
    tl, x = rendered(Bell(), Speak("x", 0))
    chime = tl.chimes[0]
    ring = x[: chime.frames]
    assert 20 * np.log10(np.max(np.abs(ring))) == pytest.approx(PALETTE.bell.level_db, abs=1.5)
    assert abs(ring[-1]) < 1e-9 and abs(ring[0]) < 1e-6
    assert pitch(ring[: RATE], RATE, 300, 500) == pytest.approx(PALETTE.bell.hz, abs=2)


def turning_points(x, rate, hop_seconds=0.01):
    """Times (s) where the pacer is quietest between breaths: local minima of a 10 ms RMS
    envelope below a quarter of its peak, at least 3 s apart."""
    hop = round(hop_seconds * rate)
    frames = len(x) // hop
    env = np.sqrt(np.mean(x[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    low = env < 0.25 * env.max()
    minima = [i for i in range(1, frames - 1)
              if low[i] and env[i] <= env[i - 1] and env[i] <= env[i + 1]]
    picked = []
    for i in minima:
        if not picked or (i - picked[-1]) * hop_seconds > 3:
            picked.append(i)
        elif env[i] < env[picked[-1]]:
            picked[-1] = i
    return [i * hop_seconds for i in picked]


def test_a_ramp_slows_the_breathing_on_the_audio():
    step = Breathe(parse_pattern("4-6"), 10, "none", 0, ramp=8.0)
    _, x = rendered(step)
    turns = turning_points(x, RATE)[1:-1]  # the silent start and end are not turns
    onsets = np.cumsum([float(sum(step.phase_seconds(k))) for k in range(10)])
    assert len(turns) == 9
    assert np.allclose(turns, onsets[:9], atol=0.05)  # each in-breath begins where planned
    cycles = np.diff(turns)
    assert np.all(np.diff(cycles) > -0.05)  # never faster again
    assert cycles[0] == pytest.approx(7.5, abs=0.05) and cycles[-1] == pytest.approx(10, abs=0.1)


def top_fraction(x):
    """How much of the loud part of the pacer sits at the top pitch (a held breath)."""
    windows = [x[i:i + 9600] for i in range(0, len(x) - 9600, 4800)]
    loud = [w for w in windows if np.sqrt(np.mean(w**2)) > 0.01]
    at_top = [w for w in loud if abs(pitch(w, RATE) - PALETTE.tone.high_hz) < 4]
    return len(at_top) / len(loud)


def test_no_holds_removes_the_steady_top_of_the_breath_on_the_audio():
    box = Script("b", "B", "b", 1, (), True, "tests",
                 (Breathe(parse_pattern("4-4-4-4"), 3, "none", 0),))
    plain = box.without_holds()
    held = rendered(*box.steps)[1]
    free = rendered(*plain.steps)[1]
    assert top_fraction(held) > 0.35
    assert top_fraction(free) < 0.2
    assert len(free) == 3 * 8 * RATE and len(held) == 3 * 16 * RATE


def bar_share(timeline, frame: int) -> float:
    """How full the live display's bar is at ``frame``, read from what it draws."""
    import io

    from grounding.display import LiveDisplay, Status

    out = io.StringIO()
    LiveDisplay(out, timeline, "T", Status(70, True, True), color=False).tick(frame)
    bar = next(line for line in out.getvalue().split("\n") if "█" in line or "░" in line)
    return bar.count("█") / (bar.count("█") + bar.count("░"))


@pytest.mark.parametrize("glide", ["ease", "linear"])
def test_the_bar_follows_the_pitch_that_is_heard_for_either_glide(glide, monkeypatch):
    # The bar shows the pacer's pitch between the lowest and highest it plays; the pitch is
    # measured on the rendered audio, so a display easing its own way would be off by up to
    # 11 Hz (a tenth of the range) a fifth of the way into the in-breath.
    monkeypatch.setenv("COLUMNS", "100")  # an 80-character bar: steps of 1.4 Hz
    palette = dataclasses.replace(PALETTE, tone=dataclasses.replace(PALETTE.tone, glide=glide))
    s = Script("t", "T", "t", 1, (), False, "tests", (Breathe(parse_pattern("4-6"), 2, "none", 0),))
    timeline = build_timeline(s, {}, palette, RATE)
    x = np.concatenate(list(render(timeline, palette, Mix(volume=1.0), 4096)))[:, 0]
    low, high = palette.tone.low_hz, palette.tone.high_hz
    rising = [t for t in timeline.tones if t.kind == "in"][1]
    assert (rising.f0, rising.f1) == (low, high)
    for share in (0.2, 0.35, 0.5, 0.65, 0.8):
        frame = rising.start + round(share * rising.frames)
        heard = pitch(x[frame - 2400:frame + 2400].astype(np.float64), RATE)
        shown = low + bar_share(timeline, frame) * (high - low)
        assert shown == pytest.approx(heard, abs=2.0), share


NIGHT = load_palette("night")


def band_db(x, rate, lo, hi):
    """Mean power density in [lo, hi) Hz, dB (Hann window)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].mean() + 1e-300)


@pytest.mark.parametrize("color", ["brown", "pink"])
def test_the_noise_bed_at_48_khz_has_no_images_above_what_it_is_made_of(color):
    # Made from bins up to 8 kHz at most (its 2 kHz top, four times over): anything at 16 to
    # 24 kHz would be an image of its band, which a resampler that only draws straight
    # between samples leaves about 45 dB down; the mix's float32 floor is near 85 dB down.
    s = Script("t", "T", "t", 1, (), False, "tests", (Breathe(parse_pattern("4-6"), 2, "none", 0),))
    tl = build_timeline(s, {}, NIGHT, RATE)
    x = np.concatenate(list(render(tl, NIGHT, Mix(volume=1.0, voice=False, noise=color),
                                   8192)))[:, 0].astype(np.float64)
    bed = band_db(x, RATE, 1300, 1700)  # above the pacer and its harmonic, inside the bed
    assert band_db(x, RATE, 16000, 24000) < bed - 70
    assert band_db(x, RATE, 8500, 16000) < bed - 70


def partial_decay(x, rate, hz, start=0.05, stop=0.5, window=0.05):
    """Seconds for one partial of a ringing sound to fall by 1/e: its amplitude at ``hz`` in
    Hann-windowed frames, fitted with a straight line in log amplitude over [start, stop]."""
    n = round(window * rate)
    times = np.arange(start, stop, 0.01)
    probe = np.hanning(n) * np.exp(-2j * np.pi * hz * np.arange(n) / rate)
    amplitude = [abs(np.dot(x[round(t * rate): round(t * rate) + n], probe)) for t in times]
    slope = np.polyfit(times + window / 2, np.log(amplitude), 1)[0]
    return -1 / slope


def test_the_bells_higher_partials_fade_sooner_as_a_struck_bowls_do():
    tl, x = rendered(Bell(), Speak("x", 0))
    bell = PALETTE.bell
    decays = [partial_decay(x, RATE, bell.hz * ratio) for ratio, _ in bell.partials]
    assert decays[0] == pytest.approx(bell.decay_seconds, rel=0.05)  # the hum rings longest
    assert all(b < 0.85 * a for a, b in zip(decays, decays[1:])), decays
    assert decays[-1] < decays[0] / 3  # the brightest partial is gone soonest
    # and its attack and level are as before: a 20 ms rise to about its level
    peak = int(np.argmax(np.abs(x[: RATE // 5])))
    assert 0.015 < peak / RATE < 0.05
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(bell.level_db, abs=1.5)
