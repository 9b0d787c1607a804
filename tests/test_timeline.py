from fractions import Fraction

import numpy as np
import pytest

from grounding.breath import IN, OUT, TOP, parse_pattern
from grounding.palette import load_palette
from grounding.script import Breathe, Pause, Script, Speak, cue_words
from grounding.timeline import build_timeline

PALETTE = load_palette("day")


def script(*steps) -> Script:
    return Script("t", "T", "t", 1, (), False, "tests", tuple(steps))


def silent_clips(texts, rate, seconds=0.5):
    return {t: np.zeros(round(seconds * rate), dtype=np.int16) for t in texts}


def timeline_of(*steps, rate=48000, seconds=0.5):
    s = script(*steps)
    return build_timeline(s, silent_clips(s.texts(), rate, seconds), PALETTE, rate)


@pytest.mark.parametrize("pattern, rate", [("4-6", 48000), ("4.5-6.5", 44100),
                                            ("5.5-5.5", 44100), ("2.5+0.7-6", 22050),
                                            ("3.3-0.7-5.9", 48000)])
def test_breath_onsets_are_exact_after_sixty_minutes(pattern, rate):
    shape = parse_pattern(pattern)
    cycles = round(3600 / shape.cycle_seconds)
    tl = timeline_of(Breathe(shape, cycles, "none", 0), rate=rate)
    seconds = [Fraction(str(p.seconds)) for p in shape.phases]
    ideal = []
    for k in range(cycles):
        t = k * sum(seconds)
        for s in seconds:
            ideal.append(round(t * rate))
            t += s
    assert [t.start for t in tl.tones] == ideal
    assert tl.frames == round(cycles * sum(seconds) * rate)


def test_phases_follow_each_other_without_gaps_and_pitch_rises_then_falls():
    tl = timeline_of(Breathe(parse_pattern("4-7-8"), 3, "none", 0))
    for a, b in zip(tl.tones, tl.tones[1:]):
        assert a.start + a.frames == b.start
    ins = [t for t in tl.tones if t.kind == IN]
    outs = [t for t in tl.tones if t.kind == OUT]
    assert all(t.f1 > t.f0 for t in ins) and all(t.f1 < t.f0 for t in outs)
    assert tl.tones[0].a0 == 0 and tl.tones[-1].a1 == 0


def test_a_sigh_steps_up_twice_before_it_falls():
    tl = timeline_of(Breathe(parse_pattern("sigh"), 1, "none", 0))
    first, top, out = tl.tones
    assert (first.kind, top.kind, out.kind) == (IN, TOP, OUT)
    assert PALETTE.tone.low_hz == first.f0 < first.f1 == top.f0 < top.f1 == PALETTE.tone.high_hz
    assert out.f1 == PALETTE.tone.low_hz


def test_a_spoken_line_is_followed_by_its_silence():
    tl = timeline_of(Speak("One.", 1.5), Speak("Two.", 0), seconds=0.5)
    assert [c.start for c in tl.clips] == [0, round(2.0 * 48000)]
    assert tl.frames == round(2.5 * 48000)


def test_pauses_add_silence():
    tl = timeline_of(Pause(2.25), Speak("After.", 0))
    assert tl.clips[0].start == 2.25 * 48000


def test_cue_words_land_on_phase_onsets_of_the_first_cycles():
    step = Breathe(parse_pattern("4-6"), 5, "words", 2)
    tl = timeline_of(step)
    assert cue_words(step) == ["in", "out"]
    onsets = [t.start for t in tl.tones][:4]
    assert [(c.text, c.start) for c in tl.clips] == list(zip(["in", "out"] * 2, onsets))


def test_counted_cues_fall_on_whole_seconds():
    tl = timeline_of(Breathe(parse_pattern("3-3-3-3"), 2, "counts", 1), seconds=0.3)
    assert [(c.text, c.start / 48000) for c in tl.clips] == [
        ("in", 0), ("two", 1), ("three", 2), ("hold", 3), ("two", 4), ("three", 5),
        ("out", 6), ("two", 7), ("three", 8), ("hold", 9), ("two", 10), ("three", 11)]


def test_lines_are_spread_over_out_breaths_after_the_cues():
    tl = timeline_of(Breathe(parse_pattern("4-6"), 10, "words", 2, ("A.", "B.")))
    outs = {t.cycle: t.start for t in tl.tones if t.kind == OUT}
    lines = [(c.text, c.start) for c in tl.clips if c.text in ("A.", "B.")]
    assert lines == [("A.", outs[2]), ("B.", outs[6])]


def test_every_line_gets_an_out_breath_of_its_own_even_when_breaths_are_few():
    step = Breathe(parse_pattern("4-6"), 4, "none", 3, ("One.", "Two.", "Three."))
    s = Script("t", "T", "t", 1, (), False, "tests", (step,))
    tl = build_timeline(s, {t: np.zeros(100, dtype=np.int16) for t in s.texts()}, PALETTE,
                        48000)
    assert [c.text for c in tl.clips] == ["One.", "Two.", "Three."]
    assert len({c.start for c in tl.clips}) == 3
