"""Every bundled exercise: loads, validates, renders, keeps its stated length and its words."""

import re

import pytest

from grounding.palette import load_palette
from grounding.player import prepare
from grounding.render import Mix, render
from grounding.paths import bundled
from grounding.script import Breathe, Choice, Reflect, Speak, load_script
from grounding.sinks import NullSink
from grounding.speech import Pyttsx3Voice
from grounding.cache import ClipCache
from support import require_espeak

EXERCISES = sorted(bundled("scripts").glob("*.toml"))
PARTS = sorted(bundled("scripts").glob("pause/*.toml")) + sorted(
    bundled("scripts").glob("bedtime/*.toml"))
"""The parts of the pre-contact pause and of the bedtime routine: each checked like an
exercise, except for what only the whole needs (a way to stop said early on:
tests/test_pause.py and tests/test_bedtime.py)."""
PATHS = EXERCISES + PARTS
NAMES = [p.stem for p in EXERCISES] + [f"{p.parent.name}/{p.stem}" for p in PARTS]


def test_there_are_bundled_exercises():
    assert {"quick-reset", "resonance", "gentle-box"} <= set(NAMES)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return ClipCache(tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_each_exercise_renders_to_its_stated_length(path, cache):
    require_espeak()
    script = load_script(path)
    palette = load_palette("day")
    notes = []
    timeline = prepare(script, Pyttsx3Voice(cache=cache), palette, 48000, notes.append)
    assert notes == []
    report = NullSink().play(render(timeline, palette, Mix(), 8192))
    assert report.frames == timeline.frames
    minutes = timeline.frames / 48000 / 60
    assert minutes == pytest.approx(script.minutes, rel=0.10)


BANNED = [
    (r"\bdeep breath", "never 'take a deep breath' (CONTENT.md §4)"),
    (r"^\s*close your eyes", "eyes closing is an option, never a command"),
    (r"\byou are safe\b", "no safety assumptions"),
    (r"\b(well done|good job|great job)\b", "nothing evaluative"),
    (r"!", "no exclamation marks"),
    (r"\b(will|going to) (calm|relax|heal|fix|cure)", "no outcome promises"),
    (r"\b(cures?|heals?|rewires?)\b", "no health claims"),
    (r"\brelax your\b", "invite, don't command"),
    (r"\b(let go completely|surrender|submit|don't resist|trust me)\b", "avoid these phrases"),
    (r"\b(you must|you have to|keep up)\b", "no obligation"),
]


def spoken(script):
    for step in script.steps:
        if isinstance(step, (Speak, Choice)):
            yield step.text
        elif isinstance(step, Reflect):
            yield from step.prompts
        elif isinstance(step, Breathe):
            yield from step.lines


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_words_follow_the_language_rules(path):
    script = load_script(path)
    for text in spoken(script):
        for pattern, why in BANNED:
            assert not re.search(pattern, text, re.IGNORECASE), f"{text!r}: {why}"


@pytest.mark.parametrize("path", EXERCISES, ids=NAMES[: len(EXERCISES)])
def test_each_exercise_says_how_to_stop_at_the_start_and_again_if_long(path):
    script = load_script(path)
    texts = list(spoken(script))
    assert any("stop" in t.lower() for t in texts[:4])
    if script.minutes > 5:
        later = texts[4:]
        assert any("stop" in t.lower() for t in later), "a stop route again mid-way (CONTENT.md §4)"


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_each_breathing_exercise_says_gentle_not_deep(path):
    script = load_script(path)
    if any(isinstance(s, Breathe) for s in script.steps) and list(spoken(script)):
        assert any(re.search(r"not (big|deep)", t) for t in spoken(script))


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_exercises_with_holds_offer_the_hold_free_way(path):
    script = load_script(path)
    if script.holds:
        assert any("without holds" in t or "skip it" in t or "breathing through" in t
                   for t in spoken(script))
