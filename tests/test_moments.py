"""The first question's answers for the hardest moments, in a real terminal: a message from
that person just arrived, contact was just made, not feeling safe. The exercises play to a
device that takes sound as fast as it comes (what is asked and shown is the same)."""

import re

import pytest

from support import run, seen_notice
from terminal import Terminal


@pytest.fixture
def term(instant_device, tmp_path):
    home = seen_notice(tmp_path / "home")
    run(["config", "set", "device", "instant"], home, env=instant_device)
    run(["config", "set", "country", "GB"], home)
    terminal = Terminal({**instant_device, "GROUNDING_HOME": str(home), "TERM": "xterm"},
                        width=100, height=50)
    yield terminal
    terminal.close()


def exit_code(term: Terminal, timeout: float = 30) -> int:
    shown = term.wait_for("[finished]", timeout=timeout)
    return int(re.findall(r"exit=(\d+)", shown)[-1])


def test_not_safe_shows_the_help_lines_at_once_then_offers_orienting(term):
    term.grounding("")
    shown = term.wait_for("What do you need right now?")
    assert "0  I'm not safe right now" in shown
    term.send("0")
    shown = term.wait_for("Enter starts a few minutes of orienting", timeout=5)
    assert "Starting" not in shown  # no countdown before the lines
    assert "0808 2000 247" in shown and "116 123" in shown  # the country's own lines
    assert "rate" not in shown.split("not safe right now")[-1].lower()  # nothing to answer
    term.send("", enter=True)
    term.wait_for("Orienting to the room", timeout=60)
    term.send("q")
    shown = term.wait_for("The help lines again", timeout=10)
    assert shown.rindex("0808 2000 247") > shown.index("The help lines again")
    assert exit_code(term) == 130


def test_not_safe_can_be_left_after_the_lines(term):
    term.grounding("")
    term.wait_for("What do you need right now?")
    term.send("0")
    term.wait_for("Enter starts a few minutes of orienting", timeout=5)
    term.send("q")
    assert exit_code(term) == 0
    assert "Orienting to the room" not in term.everything()


def test_a_message_just_arrived_plays_its_exercise_then_offers_four_next_steps(term):
    term.grounding("")
    term.wait_for("What do you need right now?")
    term.send("2")
    term.wait_for("Starting 'when-they-reach-out' in")
    shown = term.wait_for("What would you like to do next?", timeout=120)
    for step in ("Wait an hour", "Talk to someone safe", "See the help lines",
                 "Answer later, with care"):
        assert step in shown
    term.send("3")
    term.wait_for("Samaritans 116 123")
    term.send("4")
    term.wait_for("has a place to write it")
    term.send("", enter=True)
    assert exit_code(term) == 0
    said = term.everything()
    assert not re.search(r"don't (reply|answer|text)|never (reply|answer)", said, re.I)


def test_contact_just_made_plays_the_kind_debrief(term):
    term.grounding("")
    term.wait_for("What do you need right now?")
    term.send("3")
    term.wait_for("Starting 'after-contact' in")
    shown = term.wait_for("[finished]", timeout=120)
    assert int(re.findall(r"exit=(\d+)", shown)[-1]) == 0
    assert "0 to 10" not in term.everything()  # no scores after contact
