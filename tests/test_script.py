import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from grounding.errors import ExerciseError
from datetime import date, timedelta

from grounding.script import Breathe, Choice, Reflect, Speak
from grounding.scriptfile import load_script
from support import run

GOOD = '''title = "Test"
summary = "A test exercise."
minutes = 1
tags = ["breathing"]
holds = false
source = "tests"

[[step]]
speak = "Hello."

[[step]]
breathe = "4-6"
cycles = 3
'''


def write(tmp_path: Path, text: str, name="ex.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path, text) -> str:
    with pytest.raises(ExerciseError) as caught:
        load_script(write(tmp_path, text))
    return str(caught.value)


def test_a_valid_file_becomes_frozen_steps(tmp_path):
    script = load_script(write(tmp_path, GOOD))
    assert script.name == "ex"
    assert script.steps[0] == Speak("Hello.", 1.0)
    assert isinstance(script.steps[1], Breathe) and script.steps[1].cycles == 3
    with pytest.raises(AttributeError):
        script.title = "changed"


def test_an_unknown_key_names_file_line_step_and_a_suggestion(tmp_path):
    message = error(tmp_path, GOOD.replace('speak = "Hello."', 'speek = "Hello."'))
    assert message.startswith("ex.toml:9: step 1: unknown key 'speek'.")
    assert "Did you mean 'speak'?" in message


def test_an_option_of_another_kind_of_step_is_named(tmp_path):
    message = error(tmp_path, GOOD.replace('speak = "Hello."', 'speak = "Hello."\ncycles = 2'))
    assert message.startswith("ex.toml:10: step 1: 'cycles' does not belong here.")
    assert "Valid keys here: speak, after, with_holds, no_holds." in message


def test_a_wrong_type_says_what_to_write(tmp_path):
    message = error(tmp_path, GOOD.replace('cycles = 3', 'cycles = "three"'))
    assert message == "ex.toml:13: step 2: 'cycles' should be a whole number, not 'three'."


def test_an_impossible_duration_is_refused(tmp_path):
    message = error(tmp_path, GOOD.replace('speak = "Hello."', 'pause = -2'))
    assert re.match(r"ex\.toml:9: step 1: pause is a silence from 0\.1 to 300 seconds\.", message)


def test_an_unsafe_pattern_is_refused_in_the_file_too(tmp_path):
    message = error(tmp_path, GOOD.replace('"4-6"', '"2-2"'))
    assert message.startswith("ex.toml:12: step 2: '2-2' is 15.0 breaths a minute")


def test_empty_text_is_refused(tmp_path):
    assert "speak is empty" in error(tmp_path, GOOD.replace('"Hello."', '"   "'))


def test_a_step_must_do_exactly_one_thing(tmp_path):
    message = error(tmp_path, GOOD.replace('speak = "Hello."', 'speak = "Hi."\npause = 2'))
    assert "step 1: a step does exactly one thing" in message and "speak and pause" in message


def test_the_holds_flag_must_tell_the_truth(tmp_path):
    message = error(tmp_path, GOOD.replace('"4-6"', '"4-4-4-4"'))
    assert "holds = false, but the exercise does hold the breath" in message


def test_missing_top_level_keys_are_named(tmp_path):
    message = error(tmp_path, GOOD.replace('source = "tests"\n', ""))
    assert "'source' is missing" in message


def test_more_lines_than_out_breaths_are_refused(tmp_path):
    text = GOOD + 'lines = ["a", "b", "c", "d"]\n'
    assert "4 lines do not fit" in error(tmp_path, text)


def test_broken_toml_is_wrapped_with_its_line(tmp_path):
    message = error(tmp_path, GOOD.replace('speak = "Hello."', 'speak = Hello.'))
    assert message.startswith("ex.toml:9: this is not valid TOML (")


def test_playing_a_broken_file_exits_2_and_plays_nothing(tmp_path):
    path = write(tmp_path, GOOD.replace('cycles = 3', 'cycles = 0'))
    out = tmp_path / "never.wav"
    result = run(["play", str(path), "--out", str(out), "--no-voice"], tmp_path / "home")
    assert result.returncode == 2
    assert "ex.toml:13: step 2: cycles should be from 1 to 1000." in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-5, 100), st.floats(-5, 100, allow_nan=False),
              st.text(max_size=8)),
    lambda children: st.lists(children, max_size=3), max_leaves=5)
keys = st.sampled_from(["title", "summary", "minutes", "tags", "holds", "source", "speak",
                        "after", "pause", "bell", "breathe", "cycles", "minutes", "cues",
                        "cue_cycles", "lines", "with_holds", "no_holds", "x"])


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.dictionaries(keys, toml_values, max_size=7),
       steps=st.lists(st.dictionaries(keys, toml_values, max_size=4), max_size=4),
       junk=st.text(max_size=20))
def test_the_loader_raises_only_its_own_error_for_any_input(tmp_path, top, steps, junk):
    text = "".join(f"{k} = {_toml(v)}\n" for k, v in top.items())
    for step in steps:
        text += "[[step]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in step.items())
    for candidate in (text, text + junk):
        try:
            load_script(write(tmp_path, candidate))
        except ExerciseError as exc:
            assert str(exc).startswith("ex.toml")


def test_every_mistake_in_a_file_is_reported_at_once(tmp_path):
    text = GOOD.replace('speak = "Hello."', 'speek = "Hello."').replace("cycles = 3", "cycles = 0")
    lines = error(tmp_path, text).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ex.toml:9: step 1: unknown key 'speek'")
    assert lines[1].startswith("ex.toml:13: step 2: cycles should be from 1 to 1000")


def test_a_ramp_must_start_faster_than_the_pattern(tmp_path):
    message = error(tmp_path, GOOD + "ramp = 5\n")
    assert "step 2: ramp is the starting pace" in message and "faster than the pattern's 6" in message
    assert "at most 10" in error(tmp_path, GOOD + "ramp = 12\n")


def test_a_ramp_slows_by_half_a_breath_every_two_cycles(tmp_path):
    step = load_script(write(tmp_path, GOOD.replace("cycles = 3", "cycles = 9") + "ramp = 8\n")).steps[1]
    assert [float(step.rate_at(k)) for k in range(9)] == [8, 8, 7.5, 7.5, 7, 7, 6.5, 6.5, 6]
    assert [float(s) for s in step.phase_seconds(0)] == [3.0, 4.5]
    assert [float(s) for s in step.phase_seconds(8)] == [4.0, 6.0]


def test_minutes_with_a_ramp_count_the_quicker_breaths(tmp_path):
    text = GOOD.replace("cycles = 3", "minutes = 2") + "ramp = 8\n"
    step = load_script(write(tmp_path, text)).steps[1]
    assert abs(float(step.seconds()) - 120) <= 5
    assert step.cycles == 13


def test_a_choice_to_leave_out_holds_needs_holds_after_it(tmp_path):
    text = GOOD.replace('speak = "Hello."', 'choice = "Holds are optional."')
    assert "this choice offers to leave out holds, but no breathing after it holds" in error(tmp_path, text)
    ok = text.replace('"4-6"', '"4-4-4-4"').replace("holds = false", "holds = true")
    assert isinstance(load_script(write(tmp_path, ok)).steps[0], Choice)


def test_without_holds_keeps_the_breaths_and_drops_the_offer(tmp_path):
    text = GOOD.replace('speak = "Hello."', 'choice = "Holds are optional."')
    text = text.replace('"4-6"', '"4-4-4-4"').replace("holds = false", "holds = true")
    plain = load_script(write(tmp_path, text)).without_holds()
    assert not plain.holds and len(plain.steps) == 1
    assert plain.steps[0].pattern.text == "4-4" and plain.steps[0].cycles == 3


def test_stretching_changes_breathing_only_and_keeps_room_for_every_line(tmp_path):
    text = GOOD.replace("cycles = 3", "cycles = 10") + 'cue_cycles = 2\nlines = ["a", "b"]\n'
    script = load_script(write(tmp_path, text))
    assert script.stretched(2.0).steps[1].cycles == 20
    assert script.stretched(0.01).steps[1].cycles == 4
    assert script.stretched(2.0).steps[0] == script.steps[0]


def test_a_reflection_says_one_prompt_a_day_in_turn(tmp_path):
    text = GOOD.replace('speak = "Hello."', 'reflect = ["One?", "Two?", "Three?"]\nafter = 5')
    script = load_script(write(tmp_path, text))
    step = script.steps[0]
    assert isinstance(step, Reflect) and set(script.texts()) >= {"One?", "Two?", "Three?"}
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(6)]
    said = [script.on(d).steps[0].text for d in days]
    assert said[:3] == said[3:] and sorted(said[:3]) == ["One?", "Three?", "Two?"]
    assert script.on(days[0]).steps[0] == Speak(said[0], 5.0)


def test_an_empty_reflection_is_refused(tmp_path):
    text = GOOD.replace('speak = "Hello."', "reflect = []")
    assert "reflect is a list of prompts" in error(tmp_path, text)


def test_lines_about_holds_are_left_out_without_holds(tmp_path):
    text = GOOD.replace('"4-6"', '"4-4-4-4"').replace("holds = false", "holds = true")
    text = text.replace('speak = "Hello."', 'speak = "Holds are soft."\nwith_holds = true')
    script = load_script(write(tmp_path, text))
    assert script.steps[0] == Speak("Holds are soft.", 1.0, True)
    assert [type(s) for s in script.without_holds().steps] == [Breathe]
    no_holds = GOOD.replace('speak = "Hello."', 'speak = "Holds are soft."\nwith_holds = true')
    assert "with_holds = true, but nothing in the exercise holds the breath" in error(tmp_path, no_holds)


HOLDS = GOOD.replace('"4-6"', '"4-4-4-4"').replace("holds = false", "holds = true")
"""GOOD with box breathing: an exercise that holds the breath."""


def test_a_speak_line_may_say_the_length_and_it_is_filled_in(tmp_path):
    text = GOOD.replace('"Hello."', '"This is a test, {length}. Hello."')
    script = load_script(write(tmp_path, text))
    assert script.states_length and not load_script(write(tmp_path, GOOD)).states_length
    filled = script.with_length("about two minutes")
    assert filled.steps[0].text == "This is a test, about two minutes. Hello."
    assert not filled.states_length and filled.steps[1] == script.steps[1]


@pytest.mark.parametrize("said", ["{minutes}", "{length", "length}", "{{length}}", "{}"])
def test_braces_other_than_length_are_refused_with_their_line(tmp_path, said):
    message = error(tmp_path, GOOD.replace('"Hello."', f'"About {said}."'))
    assert message.startswith("ex.toml:9: step 1: speak has braces that are not {length}")


@pytest.mark.parametrize("step, line", [
    ('choice = "About {length}."', 9),
    ('reflect = ["How is {length}?"]', 9),
])
def test_the_length_is_said_only_in_speak_lines(tmp_path, step, line):
    text = HOLDS.replace('speak = "Hello."', step)
    assert error(tmp_path, text).startswith(f"ex.toml:{line}: step 1: {{length}} can only be said "
                                            "in a speak line")
    lines = GOOD + 'lines = ["Here {length}."]\n'
    assert "ex.toml:14: step 2: {length} can only be said in a speak line" in error(tmp_path, lines)


def test_without_holds_says_the_hold_free_wordings(tmp_path):
    text = HOLDS.replace('speak = "Hello."', 'speak = "In, hold, out, hold."\n'
                         'no_holds = "In and out, with no pauses."')
    text += 'cue_cycles = 1\nlines = ["Steady.", { say = "A hold is soft.", no_holds = "Soft." }]\n'
    script = load_script(write(tmp_path, text))
    assert script.steps[0] == Speak("In, hold, out, hold.", 1.0, False,
                                    "In and out, with no pauses.")
    assert script.steps[1].lines == ("Steady.", "A hold is soft.")
    plain = script.without_holds()
    assert plain.steps[0] == Speak("In and out, with no pauses.", 1.0)
    assert plain.steps[1].lines == ("Steady.", "Soft.") and plain.steps[1].pattern.text == "4-4"
    assert "A hold is soft." not in plain.texts() and "hold" not in plain.texts()


@pytest.mark.parametrize("change, where", [
    (('speak = "Hello."', 'speak = "Breathe in, then hold."'), "ex.toml:9: step 1: this line "
     "mentions holding the breath"),
    (('speak = "Hello."', 'reflect = ["What was it like to hold?"]'), "ex.toml:9: step 1: a "
     "prompt mentions holding the breath"),
    (("cycles = 3", 'cycles = 3\ncue_cycles = 1\nlines = ["Easy.", "The breath is held."]'),
     "ex.toml:15: step 2: line 2 mentions holding the breath"),
])
def test_with_holds_a_line_about_them_needs_a_hold_free_wording(tmp_path, change, where):
    assert where in error(tmp_path, HOLDS.replace(*change))
    assert load_script(write(tmp_path, GOOD.replace(*change).replace('"4-4-4-4"', '"4-6"')))


@pytest.mark.parametrize("change, where", [
    (('speak = "Hello."', 'speak = "Hold."\nno_holds = "Hold on, nothing to hold."'),
     "ex.toml:10: step 1: the no_holds wording mentions holding"),
    (("cycles = 3", 'cycles = 3\nlines = [{ say = "Hold.", no_holds = "Held softly." }]'),
     "ex.toml:14: step 2: the lines wording mentions holding"),
    (('speak = "Hello."', 'speak = "Hold."\nwith_holds = true\nno_holds = "Easy."'),
     "ex.toml:11: step 1: with_holds = true leaves this line out"),
    (("cycles = 3", 'cycles = 3\nlines = [{ say = "Easy." }]'),
     "ex.toml:14: step 2: lines is a list of texts in quotes; a line with a hold-free wording"),
])
def test_a_hold_free_wording_is_checked(tmp_path, change, where):
    assert where in error(tmp_path, HOLDS.replace(*change))


def test_a_hold_free_wording_needs_holds_to_leave_out(tmp_path):
    speak = GOOD.replace('speak = "Hello."', 'speak = "Hello."\nno_holds = "Hi."')
    assert ("ex.toml:10: step 1: no_holds is what is said when the holds are left out, but "
            "nothing in the exercise holds the breath") in error(tmp_path, speak)
    line = GOOD + 'lines = [{ say = "Easy.", no_holds = "Easier." }]\n'
    assert "ex.toml:14: step 2: a line has a no_holds wording, but nothing" in error(tmp_path, line)
