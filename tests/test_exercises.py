"""Every bundled exercise: loads, validates, renders, keeps its stated length and its words."""

import re
from datetime import date, timedelta

import pytest

from grounding import bedtime, lengths, pause_plan
from grounding.breath import parse_pattern
from grounding.palette import load_palette
from grounding.player import Options, as_played, breathing_script, prepare
from grounding.render import Mix, render
from grounding.paths import bundled
from grounding.script import LENGTH, Breathe, Choice, Reflect, Speak, cue_words
from grounding.scriptfile import load_script
from grounding.sinks import NullSink
from grounding.speech import DEFAULT_RATE, Pyttsx3Voice
from grounding.cache import ClipCache
from support import require_espeak, run

EXERCISES = sorted(bundled("scripts").glob("*.toml"))
PARTS = sorted(bundled("scripts").glob("pause/*.toml")) + sorted(
    bundled("scripts").glob("bedtime/*.toml"))
"""The parts of the pre-contact pause and of the bedtime routine: each checked like an
exercise, except for what only the whole needs (a way to stop said early on:
tests/test_pause_plan.py and tests/test_bedtime.py)."""
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


def played_lengths(script, cache, options=Options()):
    """The real length of ``script`` as played with ``options`` at the default voice, seconds,
    and its first spoken line, on each day until every reflection prompt has had its turn."""
    require_espeak()
    days = max((len(s.prompts) for s in script.steps if isinstance(s, Reflect)), default=1)
    for day in range(days):
        played = as_played(script, options).on(date(2026, 1, 1) + timedelta(days=day))
        notes = []
        timeline = prepare(played, Pyttsx3Voice(cache=cache), load_palette("day"), 48000,
                           notes.append, minutes=options.minutes)
        assert notes == []
        said = [c.text for c in timeline.clips if not c.cue]
        yield timeline.frames / 48000, said[0]


@pytest.mark.parametrize("path", EXERCISES, ids=NAMES[: len(EXERCISES)])
def test_each_exercise_lists_shows_and_says_the_length_it_plays(path, cache):
    """The stated minutes (``grounding list``) round to the same as the real length (the
    header), and the opening line says that length, with the holds and without them."""
    script = load_script(path)
    opening = next(s for s in script.steps if isinstance(s, Speak))
    assert LENGTH in opening.text, "the opening line says {length}"
    for seconds, first in played_lengths(script, cache):
        assert lengths.figures(script.minutes * 60) == lengths.figures(seconds), \
            f"stated {script.minutes} minutes, plays {seconds / 60:.2f}"
        assert lengths.spoken(seconds) in first
    if script.holds:
        for seconds, first in played_lengths(script, cache, Options(holds=False)):
            assert lengths.spoken(seconds) in first


HOLD_WORDS = re.compile(r"\bhold|\bheld", re.IGNORECASE)


def assert_nothing_said_about_holds(script) -> None:
    """Neither a line, nor a prompt of any day, nor a cue word is about holding the breath."""
    for played in (as_played(script, Options(holds=False)), script.without_holds()):
        for text in spoken(played):
            assert not HOLD_WORDS.search(text), text
        for step in played.steps:
            if isinstance(step, Breathe):
                assert not [w for w in cue_words(step) if "hold" in w]
                assert not step.pattern.has_holds


@pytest.mark.parametrize("path", EXERCISES, ids=NAMES[: len(EXERCISES)])
def test_without_holds_no_exercise_says_anything_about_holds(path):
    assert_nothing_said_about_holds(load_script(path))


@pytest.mark.parametrize("pattern", ["4-7-8", "box", "gentle-box", "4-2-6"])
def test_paced_breathing_without_holds_says_nothing_about_holds(pattern):
    assert_nothing_said_about_holds(breathing_script(parse_pattern(pattern), 4))


@pytest.mark.parametrize("name", ["4-7-8", "4-7-8-standard"])
def test_the_4_7_8_breath_is_a_practice_with_a_short_talk_first(name, cache):
    """Card B5: four rounds at most, practised at a calm time before a hard moment; the talk
    before the first breath is well under the minute and a half it used to take."""
    require_espeak()
    script = load_script(bundled("scripts") / f"{name}.toml")
    assert "practice" in script.tags and "quick" not in script.tags
    assert sum(s.cycles for s in script.steps if isinstance(s, Breathe)) <= 4
    texts = list(spoken(script))
    assert "practice" in texts[0] and "calm time" in texts[0]
    timeline = prepare(script, Pyttsx3Voice(cache=cache), load_palette("day"), 48000, print)
    assert timeline.tones[0].start / 48000 <= 80


BANNED = [
    (r"\bdeep breath", "never 'take a deep breath' (docs/safety.md §4)"),
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
        assert any("stop" in t.lower() for t in later), \
            "a stop route again mid-way (docs/safety.md §4)"


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


LIGHT_HEADED = re.compile(r"light-?head", re.IGNORECASE)
BREATHING = [p for p in EXERCISES if any(isinstance(s, Breathe) for s in load_script(p).steps)]


def when_light_headedness_is_said(script, cache, palette: str = "day", rate: int = DEFAULT_RATE,
                                  pitch: int | None = None) -> tuple[float | None, float]:
    """On the timeline the program plays (as ``--dry-run`` prints it, at the default voice
    rate): when the first spoken line mentioning light-headedness begins, and when the first
    breath tone does, seconds."""
    require_espeak()
    notes = []
    timeline = prepare(as_played(script, Options(rate=rate, pitch=pitch)),
                       Pyttsx3Voice(rate=rate, cache=cache, pitch=pitch),
                       load_palette(palette), 48000, notes.append, rate)
    assert notes == []
    said = [c.start for c in timeline.clips if not c.cue and LIGHT_HEADED.search(c.text)]
    first = timeline.tones[0].start / 48000
    return (min(said) / 48000 if said else None), first


def assert_said_before_the_breathing(said: float | None, first: float) -> None:
    """docs/safety.md §3.2 and §3.3: what to do if light-headedness or tingling comes is said
    before the first slow breath, and within the first minute."""
    assert said is not None, f"never said; the first breath is at {first:.1f} s"
    assert said <= first, f"said at {said:.1f} s, after the first breath at {first:.1f} s"
    assert said <= 60, f"said at {said:.1f} s, not within the first minute"


@pytest.mark.parametrize("path", BREATHING, ids=[p.stem for p in BREATHING])
def test_each_breathing_exercise_says_early_what_to_do_if_light_headed(path, cache):
    assert_said_before_the_breathing(*when_light_headedness_is_said(load_script(path), cache))


def test_the_pause_says_early_what_to_do_if_light_headed(cache):
    said = when_light_headedness_is_said(pause_plan.pause_script(), cache)
    assert_said_before_the_breathing(*said)


def test_bedtime_says_early_what_to_do_if_light_headed(cache):
    rate = bedtime.night_rate(DEFAULT_RATE)
    script = bedtime.bedtime_script(bedtime.MINUTES, bedtime.PACE, None, rate)
    assert_said_before_the_breathing(*when_light_headedness_is_said(
        script, cache, "night", rate, bedtime.PITCH))


@pytest.mark.parametrize("pattern", ["resonance", "4-7-8", "sigh", "box", "3-5"])
def test_paced_breathing_with_a_voice_says_early_what_to_do_if_light_headed(pattern, cache):
    script = breathing_script(parse_pattern(pattern), 30, spoken=True)
    assert_said_before_the_breathing(*when_light_headedness_is_said(script, cache))


PAST = re.compile(r"first (feel|felt)|recreat|childhood|child\b|when did|growing up|grew up|"
                  r"\bused to\b|\bpast\b|remind|\bstill believe|\bago\b|\bearl(y|ier|iest)\b",
                  re.IGNORECASE)


def test_the_pause_asks_nothing_about_the_past_and_the_reflection_keeps_those_questions():
    """The pause's question stays in the present (card R1: reflecting at high arousal feeds
    rumination); questions about early memories belong in the reflection exercise."""
    steps = pause_plan.part("reflect").steps
    prompts = [p for s in steps if isinstance(s, Reflect) for p in s.prompts]
    assert len(prompts) >= 2
    for text in list(spoken(pause_plan.part("reflect"))):
        assert not PAST.search(text), text
    kept = [p for s in load_script(bundled("scripts") / "reflection.toml").steps
            if isinstance(s, Reflect) for p in s.prompts]
    assert any(PAST.search(p) for p in kept)


NESTED = {
    "lists": "x = " + "[" * 100_000 + "]" * 100_000,
    "inline tables": "x = " + "{a = " * 100_000 + "1" + "}" * 100_000,
    "a dotted key": ".".join(["a"] * 100_000) + " = 1",
    "a table header": "[" + ".".join(["a"] * 100_000) + "]",
}
"""Files nested far too deeply to read: tomllib alone runs out of stack on the first two, and
takes minutes over the last two."""


@pytest.mark.parametrize("text", NESTED.values(), ids=NESTED.keys())
def test_a_file_nested_too_deeply_is_one_sentence_at_once(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text('title = "Deep"\n' + text + "\n")
    result = run(["validate", str(path)], tmp_path, timeout=20)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "deep.toml:2: this file cannot be read: it nests more than 100 levels deep (lists or "
        "tables inside each other, or the parts of a dotted key)."]


def test_a_number_too_long_to_read_is_one_sentence(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text("minutes = 1" + "0" * 5000 + "\n")
    result = run(["validate", str(path)], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "long.toml: this file cannot be read: a number in it has too many digits to be read."]


def test_brackets_and_dots_in_texts_and_comments_are_not_nesting(tmp_path):
    """Only the file's structure counts as nesting: what its texts and comments say does
    not, whichever of TOML's four kinds of string holds it."""
    marks = "[{." * 300
    text = (bundled("scripts") / "quick-reset.toml").read_text()
    text = re.sub(r'(?m)^source = .*$', lambda _: f'source = "{marks} \\" {marks}"', text)
    text = re.sub(r'(?m)^summary = .*$', lambda _: f"summary = '{marks}'", text)
    text = re.sub(r'(?m)^title = .*$', lambda _: f'title = """\n{marks}\n\\""""', text)
    said = "[]. " * 100  # braces are not for speaking
    text += f"# {marks}\n[[step]]\nspeak = '''{said}\n{said}'''\n"
    path = tmp_path / "marks.toml"
    path.write_text(text)
    assert load_script(path).steps[-1].text == " ".join((said + said).split())
    result = run(["validate", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr


def test_one_unreadable_exercise_leaves_the_others_listed(tmp_path):
    own = tmp_path / "config" / "exercises"
    own.mkdir(parents=True)
    deep = own / "deep.toml"
    deep.write_text(NESTED["lists"] + "\n")
    result = run(["list"], tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()}
    assert {p.stem for p in EXERCISES} <= listed and "deep" not in listed
    assert f"{deep} cannot be read; 'grounding validate {deep}' says why." in result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_a_file_too_big_to_be_an_exercise_is_refused_before_it_is_parsed(tmp_path):
    """A 50 MB line would take seconds and about a gigabyte to parse before its length could be
    refused; its size alone answers, at once, and the largest bundled file is far below it."""
    assert max(p.stat().st_size for p in EXERCISES) * 100 < 1 << 20
    path = tmp_path / "line.toml"
    head = (bundled("scripts") / "quick-reset.toml").read_text()
    path.write_text(head + '[[step]]\nspeak = "' + "calm " * 10_000_000 + '"\n')
    result = run(["validate", str(path)], tmp_path, timeout=20)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    megabytes = round(path.stat().st_size / 2**20, 1)
    assert 47 < megabytes < 49
    assert result.stderr.splitlines() == [
        f"line.toml: the file is {megabytes} MB; a data file can be at most 1 MB, so make it several "
        "exercises."]
