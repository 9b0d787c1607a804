"""The interactive pause in a real terminal (tmux), playing into a private PulseAudio sink:
ratings by key, skipping, the high-rating branch, the help lines on h, writing and letting
go, the first-pause question about the log, and what the log then holds; and the pause
without questions, whose later parts are voiced in the background while the first plays."""

from __future__ import annotations

import json
import re
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grounding.pause_flow import escalation, reflection_fits
from support import run
from terminal import Terminal, stop_a_pause_with_q


def offers(ratings: list[tuple[int | None, int | None]]) -> list[str]:
    """What each (urge, distress) rating in a row of them brings, as one pause asks them."""
    offered: dict[str, int] = {}
    shown = []
    for urge, distress in ratings:
        body_first, help_lines = escalation(urge, distress, offered)
        shown.append("+".join(name for name, on in (("body", body_first),
                                                    ("lines", help_lines)) if on) or "-")
    return shown


@pytest.mark.parametrize("ratings, expected", [
    ([(3, None), (5, None)], ["-", "-"]),               # the wave cresting is no emergency
    ([(1, 1), (3, None), (3, 3)], ["-", "-", "-"]),     # nor is a low score moving a little
    ([(8, 4), (6, None), (8, 7)], ["-", "-", "-"]),     # a strong urge is what a pause is for
    ([(9, None), (9, None), (10, None)], ["body", "-", "body"]),  # again only if higher
    ([(None, 7), (None, 8), (None, 8)], ["-", "body", "-"]),
    ([(2, 9), (None, 9), (None, 10)], ["body+lines", "-", "body+lines"]),
    ([(10, 2)], ["body"]),                              # the help lines follow distress only
    ([(None, None), (None, None)], ["-", "-"]),         # skipped ratings ask nothing more
    ([(8, 1), (4, 3)], ["-", "-"]),                     # the case that ended on a crisis list
])
def test_escalation_follows_the_scores_and_never_a_small_rise(ratings, expected):
    assert offers(ratings) == expected


@pytest.mark.parametrize("distress, urges, fits", [
    (3, [5, 4, 4], True),       # calm enough, the urge easing
    (5, [], True),              # the urge never rated
    (6, [5, 4], False),         # distress above 5
    (None, [5, 4], False),      # distress unknown: no telling how high arousal is
    (3, [3, 5, 8], False),      # rising (the case that asked the question anyway)
    (3, [3, 6, 6], False),      # still above where it started
    (2, [9, 9], False),         # at the top of the scale
    (4, [7, 5, 6], False),      # up again since the last rating
])
def test_the_question_part_comes_only_when_calm_and_the_urge_is_not_rising(distress, urges,
                                                                          fits):
    assert reflection_fits(distress, urges) is fits


def test_a_whole_interactive_pause(instant_device, tmp_path):
    """Every question, choice and key of one pause, and what the log keeps, with the parts
    played to a device that takes sound as fast as it comes: what is asked and shown is the
    same, and the seven minutes of sound pass in seconds."""
    a_whole_interactive_pause(tmp_path / "home", instant_device, "--device instant",
                              everything=True)


def test_a_whole_interactive_pause_in_real_time(pulse_daemon, tmp_path):
    """The same pause through the sound card, at the pace it is lived (realtime tier)."""
    a_whole_interactive_pause(tmp_path / "home", pulse_daemon.env)


def a_whole_interactive_pause(home, env: dict[str, str], device: str = "",
                              everything: bool = False) -> None:
    """Drive a pause in a terminal from its first line to its last, rating, choosing,
    writing and letting go, and check the log it leaves. With ``everything``, it also takes
    the stronger body-first offer and the after-contact choice (each several minutes long)."""
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "country", "GB"], home)
    term = Terminal({**env, "GROUNDING_HOME": str(home), "TERM": "xterm"}, height=45)
    try:
        if everything:  # reasons of one's own, read back before the free choice
            term.grounding("reasons --add")
            term.wait_for("Write it here.")
            term.send("FIRSTREASON I sleep better", enter=True)
            term.send("SECONDREASON my friends", enter=True)
            term.send("", enter=True)
            term.send("", enter=True)
            term.wait_for("Keep them, or let them go?")
            term.send("k")
            term.wait_for("[finished]")
            term.send("clear", enter=True)
        term.grounding(f"pause --minutes 3 --no-voice --rate 300 {device}")
        shown = term.wait_for("Pause: arrive")
        assert "0808 2000 247" in shown and "h shows the help lines" in shown  # at once
        assert "Samaritans" not in shown  # one line, not a wall
        shown = term.wait_for("How strong is the pull to reach out", timeout=90)
        assert "no pull at all" in shown and "calm, settled" not in shown  # the urge's anchors
        term.send("9")
        shown = term.wait_for("how stressed or upset do you feel")
        assert "calm, settled" in shown.split("how stressed or upset")[-1]
        term.send("s")
        shown = term.wait_for("Would a few minutes with the room")  # urge 9: body first
        assert "Samaritans" not in term.everything()  # but no crisis lines for an urge
        term.send("c")
        term.wait_for("Where is the urge now", timeout=420)
        term.send("10")
        shown = term.wait_for("Would a few minutes with the room", times=2)  # 10: again
        assert "cool water, movement" in shown
        if everything:
            term.send("t")
            term.wait_for("Body first · about", timeout=60)
        else:
            term.send("c")
        if everything:
            shown = term.wait_for("Before you choose: the reasons you wrote down", timeout=240)
            assert "1  FIRSTREASON I sleep better" in shown and "2  SECONDREASON" in shown
            term.send("r")  # read aloud (here silently, as fast as the device takes it)
        term.wait_for("What would you like to do now?", timeout=240)
        assert "a question to sit with" not in term.everything()  # the urge rose: no question
        assert "FIRSTREASON" not in term.everything()  # their screen left nothing behind
        if everything:
            term.send("6")
            term.wait_for("After contact · about", timeout=60)
            term.wait_for("What would you like to do now?", times=2, timeout=240)
        term.send("2")
        term.wait_for("Write it here. Nothing is sent anywhere.")
        term.send("a message to let go of SECRETWORD", enter=True)
        term.send("", enter=True)
        term.send("", enter=True)
        term.wait_for("Keep it in your private log, or let it go?")
        term.send("k")  # the log is not on: asked first, and no means the text goes
        term.wait_for("Keeping it turns on the private log")
        term.send("n")
        term.wait_for("Let go. It was not written anywhere.")
        assert "SECRETWORD" not in term.everything()  # nothing left on screen or scrolled off
        term.send("", enter=True)
        term.wait_for("Before you go: the pull to reach out")
        term.send("4")
        term.wait_for("And how stressed or upset, 0 to 10?")
        shown_before = term.everything().count("Samaritans 116 123")
        term.send("h")  # the help lines, then the same question again
        term.wait_for("Samaritans 116 123", times=shown_before + 1)
        term.wait_for("And how stressed or upset, 0 to 10? (0 to 10, or s to skip)")
        term.send("9")
        term.wait_for("It moved from 9 to 4.")
        term.wait_for("Samaritans 116 123", times=shown_before + 2)  # distress 9: the lines
        term.wait_for("Would a few minutes with the room", times=3)  # and body first
        term.send("c")
        term.wait_for("Would you like to keep a private log")
        term.send("y")
        shown = term.wait_for("[finished]", timeout=20)
        assert "exit=0" in shown
        said = " ".join(shown.split("exit=")[0].split())
        # saying yes is answered with what is kept and where, and that place is the log
        told = re.search(r"The log is on\. Each pause's time, length, ratings and your choice "
                         r"at the end \(and a message, only if you keep one\) are kept in "
                         r"(\S+), on this computer only\. 'grounding history' shows them; "
                         r"'grounding history --forget' deletes them", said)
        assert told, said
        told_path = Path(told.group(1))
        assert said.endswith("Take care. The help lines are h in any session, or "
                             "'grounding help-now'.")  # calm, and last
        if everything:  # a device that takes sound at once is always short: said once
            assert term.everything().count("The sound card ran short of audio") == 1
    finally:
        term.close()
    kept = json.loads(run(["history", "--export", "json"], home).stdout)
    assert told_path.is_file() and home in told_path.parents
    assert len(kept) == 1
    assert kept[0]["urge_before"] == 9 and kept[0]["urge_after"] == 4
    assert kept[0]["distress_before"] is None and kept[0]["distress_after"] == 9
    assert kept[0]["next_step"] == "Write the message here, without sending it"
    assert kept[0]["note"] is None and kept[0]["ended"] == "finished"
    found = subprocess.run(["grep", "-r", "-l", "SECRETWORD", str(home)], capture_output=True)
    assert found.stdout == b""  # the discarded message is in no file
    assert "In 1 pause with both ratings, the urge fell by 5 points" in run(["history"], home).stdout
    assert run(["history", "--forget"], home).returncode == 0
    assert not told_path.exists()  # the file the confirmation named was the log


def test_a_first_pause_shows_a_few_calm_lines_before_its_first_word(pulse_daemon, tmp_path):
    home = tmp_path / "home"  # a first run: no notice shown yet, no country set
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home), "TERM": "xterm"},
                    width=80, height=24)
    try:
        term.send(f"clear; {shlex.quote(sys.executable)} -m grounding pause --rate 300",
                  enter=True)  # the screen then holds only what the program shows
        shown = term.wait_for("You opened this because", timeout=30)  # the first caption
        term.send("q")
        term.wait_for("Stopped.", timeout=15)
    finally:
        term.close()
    lines = [line for line in shown.splitlines() if line.strip()]
    above = lines[:next(i for i, line in enumerate(lines) if "Pause: arrive ·" in line)]
    assert 1 <= len(above) <= 7, above  # with the title, at most 8 before the first word
    words = " ".join(above)
    assert "not therapy or a crisis service" in words and "grounding about" in words
    assert "h shows the help lines" in words
    assert re.search(r"A pause of about (10\.5|11|11\.5) minutes, and the time your answers "
                     r"take\.", words)  # its length up front: the parts' and --minutes' 5
    assert (home / "config" / "first-run-done").exists()


def test_q_ends_a_pause_gently_and_a_kept_log_says_it_stopped(pulse_daemon, tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "log", "on"], home)
    shown = stop_a_pause_with_q({**pulse_daemon.env, "GROUNDING_HOME": str(home),
                                 "TERM": "xterm"})
    assert "exit=130" in shown and "-icanon" not in shown.split("exit=")[-1]
    kept = json.loads(run(["history", "--export", "json"], home).stdout)
    assert [(k["ended"], k["urge_before"], k["note"]) for k in kept] == [("stopped", None, None)]


def clips_in(home) -> int:
    """Speech clips in the cache now (not the temporary files that come and go beside it)."""
    clips = home / "cache" / "clips"
    return sum(1 for _ in clips.glob("*/*.npy")) if clips.is_dir() else 0


def collect(stream, lines: list[str]) -> None:
    """Append each line of ``stream`` to ``lines`` as it comes (on a thread of its own)."""
    for line in stream:
        lines.append(line)


def test_a_first_pause_starts_with_its_first_part_and_voices_the_rest_meanwhile(pulse_daemon,
                                                                                  tmp_path):
    # How many different things the whole pause says (cue words included), from its plan
    planned = run(["pause", "--dry-run", "--minutes", "3", "--rate", "300"], tmp_path / "plan")
    assert planned.returncode == 0, planned.stderr
    texts = {line.split("  says  ", 1)[1] for line in planned.stdout.splitlines()
             if "  says  " in line}
    home = tmp_path / "home"  # nothing ever cached here
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "pause", "--no-ask", "--minutes", "3", "--rate",
         "300", "--plain"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env=pulse_daemon.environ(GROUNDING_HOME=str(home)))
    said: list[str] = []  # each part's title comes once its speech is ready
    reader = threading.Thread(target=collect, args=(process.stderr, said), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("Pause: arrive") for line in said):
            assert process.poll() is None and time.monotonic() < deadline, said
            time.sleep(0.01)
        at_first = clips_in(home)
        # The first part plays for about 45 s; the test ends as soon as every later part's
        # speech is made, or when the second part begins, whichever comes first.
        while clips_in(home) < len(texts) and process.poll() is None and \
                not any(line.startswith("Pause: settle") for line in said):
            time.sleep(0.1)
        at_second = clips_in(home)
        still_first = not any(line.startswith("Pause: settle") for line in said)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        reader.join(timeout=5)
    finally:
        process.kill()
    # the first part did not wait for the others' speech, which was all made while it played
    assert at_first < len(texts) / 2, (at_first, len(texts))
    assert at_second >= len(texts) and still_first, (at_second, len(texts))
    assert process.returncode == 130 and "Traceback" not in "".join(said)


def test_killing_a_running_pause_leaves_the_log_whole(pulse_daemon, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "log", "on"], home)
    from grounding import history

    monkeypatch.setenv("GROUNDING_HOME", str(home))
    for n in range(3):
        history.record(history.PauseRecord("2026-11-30 22:10", 300 + n, 7, 4))
    for attempt in range(3):  # SIGKILL: no handler runs, nothing is tidied
        process = subprocess.Popen(
            [sys.executable, "-m", "grounding", "pause", "--no-ask", "--no-voice"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=pulse_daemon.environ(GROUNDING_HOME=str(home)))
        for line in process.stderr:
            if line.startswith("Pause: arrive"):
                break
        time.sleep(0.5 + attempt)
        process.kill()
        process.wait()
        db = sqlite3.connect(history.path())
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        db.close()
    assert [p.seconds for p in history.pauses()] == [300, 301, 302]
    assert sorted(f.name for f in history.path().parent.iterdir()) == ["records.db"]


def test_a_pause_with_standard_input_closed_plays_without_questions(pulse_daemon, tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    process = subprocess.Popen(  # as from a keyboard shortcut that gives it no input at all
        [sys.executable, "-m", "grounding", "pause", "--no-voice"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=pulse_daemon.environ(GROUNDING_HOME=str(home)),
        preexec_fn=lambda: os.close(0))
    for line in process.stderr:
        if line.startswith("Pause: arrive"):
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Sorry" not in err and "0 to 10" not in out


def to_the_writing_step(term: Terminal) -> None:
    """Take a pause started in ``term`` to the place to write, every rating skipped."""
    term.wait_for("How strong is the pull to reach out", timeout=90)
    term.send("s")
    term.wait_for("how stressed or upset do you feel")
    term.send("s")
    asked = 0
    deadline = time.monotonic() + 120
    while "What would you like to do now?" not in term.screen():
        assert time.monotonic() < deadline, term.screen()
        if term.everything().count("Where is the urge now") > asked:
            asked += 1
            term.send("s")
        time.sleep(0.1)
    term.send("2")
    term.wait_for("Write it here. Nothing is sent anywhere.")


@pytest.mark.parametrize("way", ["Ctrl-C while writing", "q when asked to keep it"])
def test_stopping_in_the_writing_step_lets_the_words_go_and_ends_with_a_kind_word(
        instant_device, tmp_path, way):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    term = Terminal({**instant_device, "GROUNDING_HOME": str(home), "TERM": "xterm"},
                    width=60, height=30)
    try:
        term.grounding("pause --minutes 3 --no-voice --rate 300 --device instant")
        to_the_writing_step(term)
        term.send("a message to let go of SECRETWORD", enter=True)
        if way.startswith("Ctrl-C"):
            term.send("C-c", literal=False)
        else:
            term.send("", enter=True)
            term.send("", enter=True)
            term.wait_for("Keep it in your private log, or let it go?")
            term.send("q")
        shown = term.wait_for("[finished]", timeout=20)
    finally:
        term.close()
    lines = shown.split("exit=")[0].rstrip().splitlines()
    stopped = next(i for i, line in enumerate(lines) if "Stopped." in line)
    assert lines[stopped].startswith("Stopped."), shown  # on a line of its own
    ending = " ".join(" ".join(lines[stopped:]).split())
    assert ending.startswith("Stopped. What you wrote was let go; it was not written "
                             "anywhere."), shown
    assert ending.endswith("Take care of yourself. The help lines are in 'grounding "
                           "help-now'."), shown  # and last
    assert "\nexit=130\n" in shown and "SECRETWORD" not in shown
    assert "Traceback" not in shown and "-icanon" not in shown.split("exit=")[-1]


def test_turning_the_log_on_to_keep_a_message_says_what_is_kept_and_where(instant_device,
                                                                           tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    term = Terminal({**instant_device, "GROUNDING_HOME": str(home), "TERM": "xterm"},
                    width=120, height=30)  # the log's long test path fits on a line
    try:
        term.grounding("pause --minutes 3 --no-voice --rate 300 --device instant")
        to_the_writing_step(term)
        term.send("a message to keep", enter=True)
        term.send("", enter=True)
        term.send("", enter=True)
        term.wait_for("Keep it in your private log, or let it go?")
        term.send("k")
        term.wait_for("Keeping it turns on the private log")
        term.send("y")
        term.wait_for("'grounding history' shows them")  # on the main screen, after it
        term.send("", enter=True)  # nothing more from the menu
        term.wait_for("Before you go: the pull to reach out")
        term.send("s")
        term.wait_for("And how stressed or upset, 0 to 10?")
        term.send("s")
        shown = term.wait_for("[finished]", timeout=20)
    finally:
        term.close()
    said = " ".join(shown.split())
    told = re.search(r"Kept\. The log is on\. .* are kept in (\S+), on this computer only\.",
                     said)
    assert told and "exit=0" in said, said
    kept = json.loads(run(["history", "--export", "json"], home).stdout)
    assert [entry["note"] for entry in kept] == ["a message to keep"]
    assert Path(told.group(1)).is_file() and home in Path(told.group(1)).parents
    assert "Would you like to keep a private log" not in said  # asked once, already answered
