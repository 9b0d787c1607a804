"""The exercises for the trauma bond itself (docs/protocols.md cards T1 to T3 and G9): what each
must say or leave unsaid beyond the rules every exercise follows (tests/test_exercises.py), on
the words and on the timeline the program plays."""

import re

import pytest

from grounding.cache import ClipCache
from grounding.palette import load_palette
from grounding.paths import bundled
from grounding.player import prepare
from grounding.script import Bell, Breathe, Choice, Pause, Reflect, Speak
from grounding.scriptfile import load_script
from grounding.speech import Pyttsx3Voice
from support import require_espeak

BOND = ["when-they-reach-out", "after-contact", "why-the-pull", "body-first"]
SAMPLERATE = 48000


def script_of(name: str):
    """A bundled exercise, loaded and validated as ``grounding play`` loads it."""
    return load_script(bundled("scripts") / f"{name}.toml")


def spoken(script) -> list[str]:
    """Every line the listener may hear, in order (all reflection prompts, every breath line)."""
    texts = []
    for step in script.steps:
        if isinstance(step, (Speak, Choice)):
            texts.append(step.text)
        elif isinstance(step, Reflect):
            texts.extend(step.prompts)
        elif isinstance(step, Breathe):
            texts.extend(step.lines)
    return texts


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return ClipCache(tmp_path_factory.mktemp("cache"))


def timeline_of(script, cache):
    """The timeline ``--dry-run`` prints, at the default voice and rate, with real speech."""
    require_espeak()
    notes = []
    timeline = prepare(script, Pyttsx3Voice(cache=cache), load_palette("day"), SAMPLERATE,
                       notes.append)
    assert notes == []
    return timeline


def test_the_four_exercises_are_bundled():
    assert all((bundled("scripts") / f"{name}.toml").is_file() for name in BOND)


def test_why_the_pull_lasts_three_minutes_at_most_grounding_included(cache):
    script = script_of("why-the-pull")
    timeline = timeline_of(script, cache)
    assert timeline.tones, "it ends with some grounding breaths"
    assert timeline.frames / SAMPLERATE <= 3 * 60
    assert script.minutes <= 3


LABELS = re.compile(r"\b(narcissis\w*|abuser\w*|toxic|addict\w*|relaps\w*|streaks?|fail\w*)\b",
                    re.IGNORECASE)
"""Words for the other person, or for the listener's choices, that docs/safety.md §4 rules out:
no diagnosis, no labels, no scoring of what someone does."""
NEVER_REPLY = re.compile(r"\b(don'?t|do not|never)\s+(reply|answer|respond|text|call|message|"
                         r"contact)\b", re.IGNORECASE)
"""Whether and when to answer is the listener's own choice (docs/safety.md §4)."""


@pytest.mark.parametrize("name", BOND)
def test_no_labels_for_anyone_and_no_instruction_never_to_reply(name):
    script = script_of(name)
    for text in [script.title, script.summary, *spoken(script)]:
        assert not LABELS.search(text), text
        assert not NEVER_REPLY.search(text), text


@pytest.mark.parametrize("name", BOND)
def test_nothing_spoken_names_abuse(name):
    """A file made with --out may be heard by the person it is about (docs/safety.md §3.5):
    the help lines are named, and shown with h, without the word."""
    for text in spoken(script_of(name)):
        assert not re.search(r"\babus", text, re.IGNORECASE), text


@pytest.mark.parametrize("name", BOND[:3])
def test_the_other_person_is_that_person(name):
    script = script_of(name)
    assert any("that person" in text for text in [script.title, script.summary, *spoken(script)])


CHOICES = {
    "wait an hour and check in again": r"\bwait an hour\b.*\bcheck in\b",
    "talk to someone safe": r"\btalk to someone safe\b",
    "the help lines, which h shows": r"\bhelp lines\b.*\bh key\b",
    "answer later, with care, once decided": r"\banswer later, with care\b.*\bdecided\b",
}


def test_when_they_reach_out_names_the_four_choices_after_nothing_has_to_be_answered():
    texts = spoken(script_of("when-they-reach-out"))
    waiting = next(i for i, t in enumerate(texts) if "Nothing has to be answered" in t)
    for choice, pattern in CHOICES.items():
        where = [i for i, t in enumerate(texts) if re.search(pattern, t)]
        assert where, f"the choice to {choice} is not said"
        assert where[0] > waiting, f"the choice to {choice} comes before the wait"


def test_when_they_reach_out_offers_distance_not_deletion():
    texts = " ".join(spoken(script_of("when-they-reach-out")))
    assert re.search(r"out of reach", texts)
    assert re.search(r"Nothing needs deleting or blocking, unless that's what you choose", texts)


SCREEN = ("heart condition", "beta-blockers", "eating disorder", "tolerate cold")
"""The TIPP pre-line (docs/safety.md §3.2; the cautions on dbtselfhelp.com's TIPP page)."""
OPTION = re.compile(r"\b(water|cool|ice|icy|march\w*|stairs|movement|moving|tighten\w*|"
                    r"tens\w*|fists?)\b", re.IGNORECASE)
"""Words that offer one of TIPP's parts."""


def is_screen(text: str) -> bool:
    """Whether a line says the whole medical screen."""
    return all(part in text for part in SCREEN)


def test_body_first_says_the_medical_screen_before_any_option():
    texts = spoken(script_of("body-first"))
    screen = next(i for i, t in enumerate(texts) if is_screen(t))
    assert screen <= 3, "said among the opening lines"
    for text in texts[:screen]:
        assert not OPTION.search(text), f"an option before the screen: {text!r}"
    assert any(OPTION.search(t) for t in texts[screen + 1:])


def test_body_first_says_the_medical_screen_before_its_first_breath(cache):
    timeline = timeline_of(script_of("body-first"), cache)
    said = [c.start for c in timeline.clips if not c.cue and is_screen(c.text)]
    assert said, "the screen is not on the timeline"
    assert said[0] < timeline.tones[0].start
    assert said[0] / SAMPLERATE <= 60


def test_body_first_gives_the_cold_and_the_movement_a_quiet_stretch_ending_in_a_bell():
    steps = script_of("body-first").steps
    stretches = [k for k, s in enumerate(steps) if isinstance(s, Pause) and s.seconds >= 30]
    assert len(stretches) >= 2
    for k in stretches[:2]:
        assert isinstance(steps[k + 1], Bell)
        before = [s.text for s in steps[:k] if isinstance(s, Speak)]
        assert "bell" in before[-1], "the bell is announced before the stretch"


def test_body_first_never_asks_for_the_face_under_water_or_a_held_breath():
    script = script_of("body-first")
    assert not script.holds
    text = " ".join(spoken(script))
    assert re.search(r"no need to put your face under water, and you can keep breathing", text,
                     re.IGNORECASE)
    assert "thirty seconds" in text


def test_body_first_ends_by_inviting_another_skill():
    texts = spoken(script_of("body-first"))
    assert any(re.search(r"short-lived", t) and re.search(r"orienting|the pause", t)
               for t in texts[-5:])


RATING = re.compile(r"\b(rate|rating|score\w*|a number|zero to ten|0 to 10|out of ten|scale|"
                    r"how (much|strong))\b", re.IGNORECASE)
"""Asking for a rating in any words (an emergency number is not one)."""


def test_after_contact_asks_for_no_rating():
    script = script_of("after-contact")
    for text in spoken(script):
        assert not RATING.search(text), text
    assert not any(isinstance(s, Reflect) for s in script.steps)


def test_after_contact_offers_one_kind_next_step_and_no_look_ahead():
    texts = spoken(script_of("after-contact"))
    assert any("one kind next step" in t for t in texts)
    for text in texts:
        assert not re.search(r"next time|won't again|should(n't)? have", text, re.IGNORECASE), \
            text


def test_muscle_relaxation_releases_for_thirty_to_forty_seconds(cache):
    """Card G4: the abbreviated Bernstein and Borkovec protocol, 5 to 7 s of tension and 30 to
    40 s of release; on the timeline, from the start of each letting-go line to the next line."""
    timeline = timeline_of(script_of("muscle-relaxation"), cache)
    lines = sorted((c for c in timeline.clips if not c.cue), key=lambda c: c.start)
    releases = [(a, b) for a, b in zip(lines, lines[1:]) if a.text.startswith("And let")]
    assert len(releases) == 5
    for a, b in releases:
        seconds = (b.start - a.start) / SAMPLERATE
        assert 30 <= seconds <= 40, f"{a.text!r}: {seconds:.1f} s"
