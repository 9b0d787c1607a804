"""The user's own reasons: real SQLite files and permissions, a real process killed mid-write,
writing them in a real terminal (tmux), and reading them aloud with real espeak-ng without a
trace of their sound left in the cache."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from grounding import reasons
from support import journals_left_beside, killed_writers, require_espeak, run
from terminal import Terminal
from test_history import read_only


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    return tmp_path


def first_run_done(home: Path) -> None:
    """Mark the first-run notice as shown, as after a first session."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "first-run-done").touch()


def files_in(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, as paths relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else []


def contents(folder: Path) -> dict[str, bytes | None]:
    """Every file below ``folder`` with its bytes, and every folder (None)."""
    return {name: None if (folder / name).is_dir() else (folder / name).read_bytes()
            for name in files_in(folder)}


def test_reading_and_listing_create_nothing(home):
    assert reasons.kept() == []
    assert not reasons.path().exists()
    listed = run(["reasons"], home)
    assert listed.returncode == 0
    assert listed.stdout == ("No reasons are kept. 'grounding reasons --add' is a place to write "
                             "some, in your own words; you choose whether they are kept, only "
                             "on this computer.\n")
    said = run(["reasons", "--say"], home)
    assert said.returncode == 0 and said.stderr.startswith("No reasons are kept")
    assert not (home / "data").exists()
    assert reasons.add(["", "   "]) == 0  # nothing worth keeping: nothing created either
    assert not (home / "data").exists()


def test_reasons_are_kept_owner_only_under_a_neutral_name_oldest_first(home):
    assert reasons.add(["I felt small every time", "My sleep came back"]) == 2
    assert reasons.add(["  My friends missed me  "]) == 1
    file = reasons.path()
    assert file.name == "notes.db" and file.parent == home / "data"
    assert not any(word in file.name for word in ("reason", "ex", "abuse"))
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert reasons.kept() == ["I felt small every time", "My sleep came back",
                              "My friends missed me"]
    assert files_in(home / "data") == ["notes.db"]  # no journal left once written
    listed = run(["reasons"], home)
    assert listed.stdout.splitlines()[:3] == ["1  I felt small every time",
                                              "2  My sleep came back",
                                              "3  My friends missed me"]


def test_the_list_shows_no_control_characters(home):
    reasons.add(["plain", "red \x1b[31mword\x1b[0m here", "title\x1b]0;owned\x07 gone",
                 "bell\x07 and \u202eright to left"])
    out = run(["reasons"], home).stdout
    assert not any(c in out for c in "\x1b\x07\u202e")
    assert out.splitlines()[:4] == ["1  plain", "2  red word here", "3  title gone",
                                    "4  bell and right to left"]
    assert reasons.kept()[1] == "red \x1b[31mword\x1b[0m here"  # kept as written


def test_removing_one_overwrites_it_and_removing_the_last_deletes_the_file(home):
    reasons.add(["first", "SECRETWORD in the second", "third"])
    removed = run(["reasons", "--remove", "2"], home)
    assert removed.returncode == 0 and removed.stderr == "Reason 2 is removed; 2 are kept.\n"
    assert reasons.kept() == ["first", "third"]
    assert b"SECRETWORD" not in reasons.path().read_bytes()  # not left in a free page
    for number, said in ((3, "There is no reason 3: 'grounding reasons' numbers them 1 to 2."),
                         (0, "There is no reason 0: 'grounding reasons' numbers them 1 to 2.")):
        wrong = run(["reasons", "--remove", str(number)], home)
        assert wrong.returncode == 2 and wrong.stderr == said + "\n"
    assert run(["reasons", "--remove", "x"], home).returncode == 2
    assert run(["reasons", "--remove", "1"], home).stderr == "Reason 1 is removed; 1 is kept.\n"
    last = run(["reasons", "--remove", "1"], home)
    assert last.returncode == 0
    assert last.stderr == "Reason 1 is removed; none are kept now, so their file is deleted too.\n"
    assert not (home / "data").exists()
    assert run(["reasons", "--remove", "1"], home).stderr == (
        "There is no reason 1: none are kept.\n")


def test_forget_deletes_the_file_and_its_journals_for_good(home):
    reasons.add(["a reason"])
    folder = reasons.path().parent
    journals_left_beside(folder / "notes.db", reasons._SCHEMA,
                         "insert into note (text) values ('half written')")
    assert files_in(folder) == ["notes.db", "notes.db-journal", "notes.db-shm", "notes.db-wal"]
    assert (folder / "notes.db-journal").stat().st_size > 0

    forgot = run(["reasons", "--forget"], home)
    assert forgot.returncode == 0 and forgot.stderr == "Your reasons are deleted for good.\n"
    assert not folder.exists()  # the data folder held only them
    assert run(["reasons"], home).stdout.startswith("No reasons are kept.")
    again = run(["reasons", "--forget"], home)
    assert again.returncode == 0 and again.stderr == "There were no reasons to delete.\n"


def test_forget_leaves_the_log_beside_it_alone(home):
    from grounding import history

    history.record(history.PauseRecord("2026-12-02 20:00", 300))
    reasons.add(["a reason"])
    assert run(["reasons", "--forget"], home).returncode == 0
    assert files_in(home / "data") == ["records.db"] and len(history.pauses()) == 1


WRITER = """
from grounding import reasons
n = 0
while True:
    reasons.add([f"reason {n} " + "x" * 2000, f"and its pair {n}"])
    n += 1
    print(n, flush=True)
"""


def test_killing_the_program_mid_write_keeps_every_earlier_reason_whole(home):
    for written in killed_writers(WRITER, home, reasons.path()):
        assert len(reasons.kept()) >= 2 * written  # the hot journal is rolled back on reading
    kept = reasons.kept()
    assert len(kept) % 2 == 0  # each add is one transaction: both lines, or neither
    for first, second in zip(kept[::2], kept[1::2]):
        number = first.split()[1]
        assert first == f"reason {number} " + "x" * 2000 and second == f"and its pair {number}"


def test_a_damaged_file_is_one_sentence_and_left_as_it_is(home):
    (home / "data").mkdir(mode=0o700)
    reasons.path().write_bytes(b"not a database at all " * 100)
    before = reasons.path().read_bytes()
    for args in (["reasons"], ["reasons", "--remove", "1"], ["reasons", "--say"]):
        result = run(args, home)
        assert result.returncode == 1 and "Traceback" not in result.stderr, args
        assert result.stderr == (f"Your reasons cannot be read: {reasons.path()} is damaged "
                                 "(file is not a database). It is left as it is; 'grounding "
                                 "reasons --forget' deletes it.\n"), args
    assert reasons.path().read_bytes() == before
    assert not (home / "cache" / "error.log").exists()
    assert run(["reasons", "--forget"], home).returncode == 0
    assert not reasons.path().exists()


def test_a_read_only_data_folder_lists_them_and_loses_nothing(home):
    reasons.add(["first", "second"])
    prefix = read_only(home / "data")
    listed = run(["reasons"], home, prefix=prefix)
    assert listed.returncode == 0 and listed.stdout.startswith("1  first\n2  second\n")
    removed = run(["reasons", "--remove", "1"], home, prefix=prefix)
    assert removed.returncode == 1 and "Traceback" not in removed.stderr
    assert removed.stderr.startswith(f"Reason 1 could not be removed, and nothing was changed: "
                                     f"{reasons.path()} cannot be used just now (")
    forgot = run(["reasons", "--forget"], home, prefix=prefix)
    assert forgot.returncode == 1
    assert forgot.stderr == (f"Your reasons could not be deleted: {reasons.path()} cannot be "
                             "removed (Read-only file system). Delete it by hand, or run "
                             "'grounding reasons --forget' again once that folder can be "
                             "written to.\n")
    assert reasons.kept() == ["first", "second"]


def test_adding_needs_a_terminal(home):
    result = run(["reasons", "--add"], home, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr == ("Writing reasons needs a terminal: run 'grounding reasons --add' "
                             "in one.\n")
    assert not (home / "data").exists()
    both = run(["reasons", "--add", "--forget"], home)
    assert both.returncode == 2
    assert both.stderr == "Give one of --add, --remove, --forget or --say at a time.\n"


def start(term: Terminal, args: str, prefix: list[str] = ()) -> None:
    """Start the program in the terminal (after ``prefix``), then its exit code."""
    command = shlex.join([*prefix, sys.executable, "-m", "grounding"]) + f" {args}"
    term.send(f"clear; {command}; echo \"exit=$?\"; echo \"[fini\"\"shed]\"", enter=True)


def squeezed(text: str) -> str:
    """``text`` without any spaces or line breaks: as comparable whatever the terminal's
    width wrapped."""
    return "".join(text.split())


def write(term: Terminal, lines: list[str]) -> None:
    """Type ``lines`` where the program asks for writing, and end it with two empty lines."""
    term.wait_for("Write it here. Nothing is sent anywhere.")
    for line in lines:
        term.send(line, enter=True)
    term.send("", enter=True)
    term.send("", enter=True)


def add_in_a_terminal(home: Path, lines: list[str], answer: str, prefix: list[str] = ()) -> str:
    """Run ``grounding reasons --add`` in a real terminal, write ``lines``, answer the question
    with the key ``answer`` (Enter if ""), and give all the terminal showed, scrollback too."""
    term = Terminal({"GROUNDING_HOME": str(home), "TERM": "xterm"})
    try:
        start(term, "reasons --add", prefix)
        shown = term.wait_for("Write it here. Nothing is sent anywhere.")
        assert squeezed("the reasons you want to remember for keeping your distance, in your "
                        "own words, one on each line") in squeezed(shown)
        write(term, lines)
        shown = term.wait_for("Keep them, or let them go?")
        assert squeezed("Keep them only on this computer (only your user can read them; "
                        "'grounding reasons --forget' deletes them)") in squeezed(shown)
        term.send(answer or "\r", literal=bool(answer))
        term.wait_for("[finished]")
        return term.everything()
    finally:
        term.close()


def test_written_reasons_are_kept_only_on_a_yes_and_leave_nothing_on_screen(home):
    first_run_done(home)
    shown = add_in_a_terminal(home, ["SECRETWORD one", "", "  and two  "], "k")
    assert "Kept 2 reasons, only on this computer ('grounding reasons' lists them)." in shown
    assert "exit=0" in shown
    assert "SECRETWORD" not in shown and "and two" not in shown  # the screen of its own is gone
    assert reasons.kept() == ["SECRETWORD one", "and two"]
    assert stat.S_IMODE(reasons.path().stat().st_mode) == 0o600
    again = add_in_a_terminal(home, ["three"], "k")  # asked again, every time
    assert "Kept 1 reason, only on this computer" in again
    assert reasons.kept() == ["SECRETWORD one", "and two", "three"]


@pytest.mark.parametrize("answer", ["l", ""])
def test_letting_them_go_stores_nothing_at_all(home, answer):
    first_run_done(home)
    shown = add_in_a_terminal(home, ["SECRETWORD to let go"], answer)
    assert "Let go. Nothing was written anywhere." in shown and "exit=0" in shown
    assert "SECRETWORD" not in shown
    assert not (home / "data").exists()  # no file, not even an empty one
    found = subprocess.run(["grep", "-r", "-l", "SECRETWORD", str(home)], capture_output=True)
    assert found.stdout == b""


def test_letting_them_go_keeps_the_earlier_ones_as_they_were(home):
    first_run_done(home)
    reasons.add(["kept before"])
    before = reasons.path().read_bytes()
    add_in_a_terminal(home, ["SECRETWORD to let go"], "l")
    assert reasons.path().read_bytes() == before


def test_q_at_the_question_stops_and_keeps_nothing(home):
    first_run_done(home)
    shown = add_in_a_terminal(home, ["SECRETWORD"], "q")
    assert "Stopped; nothing new was kept." in shown and "exit=130" in shown
    assert "SECRETWORD" not in shown and not (home / "data").exists()


def test_a_read_only_data_folder_is_said_before_anything_is_written(home):
    first_run_done(home)
    reasons.add(["kept before"])
    term = Terminal({"GROUNDING_HOME": str(home), "TERM": "xterm"})
    try:
        start(term, "reasons --add", read_only(home / "data"))
        shown = term.wait_for("[finished]")
    finally:
        term.close()
    assert "Write it here" not in shown and "exit=1" in shown
    assert squeezed(f"New reasons cannot be kept just now: {home / 'data'} cannot be written, "
                    "so nothing was asked and nothing is stored.") in squeezed(shown)
    assert reasons.kept() == ["kept before"]


# Spoken: the reasons are rendered for the session only, never stored


def test_the_spoken_script_reads_each_reason_after_an_intro_and_before_a_close():
    script = reasons.spoken(["first", "second \x1b[31mred\x1b[0m", "   "])
    texts = [step.text for step in script.steps]
    assert texts == ["These are the reasons you wrote down for yourself.", "first",
                     "second red",
                     "Those are your own words. They are here whenever you want them."]
    assert [step.after for step in script.steps][1:3] == [3.0, 3.0]
    assert script.private and script.tags == ("urge",) and not script.holds
    with pytest.raises(ValueError):
        reasons.spoken([" "])


def test_a_private_script_is_voiced_but_none_of_its_sound_is_stored(home):
    require_espeak()
    from grounding import paths
    from grounding.cache import ClipCache, samples_of
    from grounding.palette import load_palette
    from grounding.player import as_played, prepare
    from grounding.player import Options
    from grounding.speech import Pyttsx3Voice

    script = as_played(reasons.spoken(["The way I was spoken to"]), Options())
    assert script.private  # playing keeps it private: without holds, today's prompts
    cache = ClipCache(home / "cache")
    with Pyttsx3Voice(cache=cache) as voice:
        timeline = prepare(script, voice, load_palette("day"), 22050, print)
        spoken = {clip.text: samples_of(clip.samples) for clip in timeline.clips}
        temporary = files_in(paths.temp_dir())
    assert voice.synthesised == 3
    assert np.abs(spoken["The way I was spoken to"]).max() > 1000  # really voiced
    assert [f for f in files_in(home / "cache") if not f.startswith("tmp")] == ["voices.json"]
    # while the voice was held: only the worker's own folder, holding at most its warm-up
    # clip of "." (removed once read, so it may be gone already)
    assert all(name.startswith("speech-") for name in temporary)
    assert {Path(name).name for name in temporary if "/" in name} <= {"warmup.wav"}
    assert files_in(paths.temp_dir()) == []  # and the worker took that with it

    with Pyttsx3Voice(cache=cache) as voice:  # the same words, not private, are stored
        prepare(replace(script, private=False), voice, load_palette("day"), 22050, print)
    assert len([f for f in files_in(home / "cache") if f.endswith(".npy")]) == 3


def test_say_reads_them_aloud_and_leaves_no_new_file_in_the_cache(home, instant_device):
    require_espeak()
    env = {**instant_device, "CI": os.environ.get("CI", "")}
    first_run_done(home)
    assert run(["config", "set", "device", "instant"], home, env=env).returncode == 0
    reasons.add(["The way I was spoken to", "My sleep came back"])
    cold = run(["reasons", "--say"], home, env=env)
    assert cold.returncode == 0, cold.stderr
    assert "without a voice" not in cold.stderr and "Traceback" not in cold.stderr
    assert files_in(home / "cache") == ["tmp", "voices.json"]  # the voice ran; kept nothing
    warmed = run(["play", "quick-reset", "--dry-run"], home, env=env)  # clips of other words
    assert warmed.returncode == 0, warmed.stderr
    before = contents(home / "cache")
    assert len([f for f in before if f.endswith(".npy")]) >= 10
    again = run(["reasons", "--say"], home, env=env)
    assert again.returncode == 0, again.stderr
    assert contents(home / "cache") == before  # voices.json written again, the same
    assert files_in(home / "cache" / "tmp") == []  # the run's temporary folder went with it


@pytest.mark.parametrize("kind", ["xterm", "dumb"])  # the live display, or a line each
def test_say_on_a_terminal_leaves_nothing_on_screen(home, pulse_daemon, kind):
    require_espeak()
    first_run_done(home)
    reasons.add(["SECRETWORD in a reason"])
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home)})
    try:
        start(term, "reasons --say", ["env", f"TERM={kind}"])  # tmux sets its own otherwise
        term.wait_for("SECRETWORD", timeout=60)  # shown while it is read, at the sound's pace
        shown = term.wait_for("[finished]", timeout=60)
        assert "exit=0" in shown and "SECRETWORD" not in term.everything()
    finally:
        term.close()
