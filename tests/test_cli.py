import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.main import get_command

from grounding.cli import app
from support import ROOT, read_wav, require_espeak, run, said_seconds, without_library

COMMANDS = sorted(get_command(app).commands)


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS])
def test_every_command_explains_itself(tmp_path, command):
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: grounding")
    assert len(result.stdout.splitlines()) >= 4


def test_no_arguments_shows_help(tmp_path):
    result = run([], tmp_path)
    assert result.returncode == 0
    assert "Commands:" in result.stdout
    assert "Traceback" not in result.stderr


def listed(stdout: str) -> dict[str, str]:
    """Each exercise of ``grounding list``, by name: its line, and the indented lines below
    it (what it is for) joined to it with spaces."""
    rows: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(" "):
            rows[name] += " " + line.strip()
        else:
            name = line.split()[0]
            rows[name] = line
    return rows


def test_list_shows_each_bundled_exercise_with_minutes_and_summary(tmp_path):
    result = run(["list"], tmp_path)
    assert result.returncode == 0
    rows = listed(result.stdout)
    assert {"quick-reset", "resonance", "gentle-box"} <= set(rows)
    # quick-reset states 2.75 minutes: to the nearest half minute, halves up, that is 3
    assert " 3 min " in rows["quick-reset"] and "holds" not in rows["quick-reset"]
    assert "holds" in rows["gentle-box"]


def test_breathe_writes_whole_cycles_to_a_file(tmp_path):
    out = tmp_path / "b.wav"
    result = run(["breathe", "4-6", "--cycles", "3", "--no-voice", "--out", str(out),
                  "--samplerate", "44100"], tmp_path)
    assert result.returncode == 0, result.stderr
    samples, rate = read_wav(out)
    assert rate == 44100
    assert f"Wrote {out}" in result.stderr
    # Without a voice there is no spoken frame: exactly three cycles of ten seconds.
    assert len(samples) == 30 * 44100


def test_minutes_round_to_whole_breaths(tmp_path):
    result = run(["breathe", "4-7-8", "--minutes", "1", "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Rendered" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["breathe", "2-2"], "15.0 breaths a minute"),
    (["breathe", "4-6", "--minutes", "2", "--cycles", "3"], "either --minutes or --cycles"),
    (["play", "resonanse"], "Did you mean 'resonance'?"),
    (["breathe", "--volume", "120"], "--volume is a whole number from 0 to 100."),
    (["play", "box", "--minutes", "100"], "--minutes is a number from 0.5 to 60."),
    (["breathe", "--cycles", "many"], "--cycles is a whole number from 1 to 1000."),
    (["breathe", "--out", "/no/such/folder/x.wav"], "is not a folder"),
    (["breathe", "--out", "x.aiff"], ".wav, .flac, .ogg, .opus or .mp3"),
])
def test_bad_input_gets_a_sentence_and_exit_code_2(tmp_path, args, words):
    result = run(args, tmp_path)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["play", "box"], ["breathe", "box", "--cycles", "2"],
                                     ["pause", "--no-ask", "--minutes", "3"],
                                     ["bedtime", "--minutes", "10"]])
def test_every_playing_command_takes_the_session_options_and_checks_them(tmp_path, command):
    slow, fast = (run([*command, "--dry-run", "--no-voice", "--samplerate", "16000", "--volume",
                       "30", "--rate", rate, "--plain"], tmp_path) for rate in ("100", "300"))
    assert slow.returncode == fast.returncode == 0, slow.stderr + fast.stderr
    assert "at 16000 Hz" in slow.stderr and "at 16000 Hz" in fast.stderr
    # breathing alone has no words for the rate to stretch, nor has bedtime without a voice
    # (it leaves out the words before its first breath, and the rest sit on the breaths)
    if command[0] not in ("breathe", "bedtime"):
        assert slow.stdout != fast.stdout
    for option, value in (("--rate", "10"), ("--volume", "101"), ("--samplerate", "100")):
        refused = run([*command, option, value, "--dry-run"], tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"{option} is a whole number from "), refused.stderr


def without_sound(result, started: float) -> None:
    """The session ran its full six seconds, on screen, after one calm line."""
    assert result.returncode == 0, result.stderr
    lines = [l for l in result.stderr.splitlines() if "sound output" in l.lower()]
    assert len(lines) == 1 and "--out" in lines[0] and "grounding doctor" in lines[0]
    assert "carries on on screen, without sound" in lines[0]
    assert result.stdout.splitlines() == ["0:00  breathe in", "0:02  breathe out"]
    assert time.monotonic() - started > 5.5
    assert "Traceback" not in result.stderr


def test_without_a_sound_server_the_exercise_carries_on_on_screen(tmp_path):
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    started = time.monotonic()
    result = run(["breathe", "2-4", "--cycles", "1", "--no-voice"], tmp_path, env=env)
    without_sound(result, started)


def test_without_portaudio_the_exercise_carries_on_and_says_how_to_install_it(tmp_path):
    started = time.monotonic()
    result = run(["breathe", "2-4", "--cycles", "1", "--no-voice"], tmp_path,
                 prefix=without_library("portaudio"))
    without_sound(result, started)
    assert "PortAudio library is missing" in result.stderr
    assert "sudo apt install libportaudio2" in result.stderr


def test_without_portaudio_a_file_can_still_be_written(tmp_path):
    out = tmp_path / "x.wav"
    result = run(["breathe", "--cycles", "1", "--no-voice", "--out", str(out)], tmp_path,
                 prefix=without_library("portaudio"))
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_devices_without_a_sound_server_says_so(tmp_path):
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    result = run(["devices"], tmp_path, env=env)
    assert result.returncode == 69
    assert "no sound output" in result.stderr and "Traceback" not in result.stderr


def test_voices_lists_english_voices(tmp_path):
    require_espeak()
    result = run(["voices", "en"], tmp_path)
    assert result.returncode == 0
    assert any(line.split()[0].endswith("en-us") for line in result.stdout.splitlines())


def test_ctrl_c_while_writing_a_file_leaves_no_file_and_exits_130(tmp_path):
    out = tmp_path / "long.wav"
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "breathe", "--minutes", "60", "--no-voice",
         "--out", str(out)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    said = ""
    while "long.wav" not in said:  # its first line: its stop handler is in place
        said = process.stderr.readline()
        assert said, "the program ended before it began to write"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130
    assert "was not written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.glob("*.wav")) == [] and list(tmp_path.glob(".grounding-*")) == []


def test_an_unwritable_cache_costs_speed_but_not_the_session(tmp_path):
    require_espeak()
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder should be")
    out = tmp_path / "x.wav"
    result = run(["breathe", "--cycles", "1", "--out", str(out)], home)
    assert result.returncode == 0, result.stderr
    assert out.exists() and "Traceback" not in result.stderr


def test_an_unexpected_error_is_an_apology_with_a_log_path(tmp_path):
    code = ("import sys; from grounding.cli import _unexpected\n"
            "try:\n    {}[0]\nexcept KeyError as exc:\n    _unexpected(exc, debug=False)")
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=ROOT)
    assert result.returncode == 70
    log = tmp_path / "cache" / "error.log"
    assert result.stderr.strip() == (f"Sorry, something unexpected went wrong (KeyError). "
                                     f"The details are in {log}.")
    assert "Traceback" in log.read_text() and "Traceback" not in result.stderr


MINE = '''title = "Mine"
summary = "My own short one."
minutes = 0.5
tags = ["quick"]
holds = false
source = "me"

[[step]]
speak = "Hello."

[[step]]
breathe = "4-6"
cycles = 2
'''


def test_validate_says_fine_or_explains_every_mistake(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(MINE)
    bad = tmp_path / "bad.toml"
    bad.write_text(MINE.replace('speak = "Hello."', 'speek = "Hello."').replace("cycles = 2", "cycles = -1"))
    ok = run(["validate", str(good)], tmp_path)
    assert ok.returncode == 0 and f"{good}: fine. Mine, 2 steps (1 breathing)" in ok.stdout
    result = run(["validate", str(good), str(bad)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bad.toml:9: step 1: unknown key 'speek'. Did you mean 'speak'? A step has one of "
        "speak, breathe, pause, bell, choice or reflect, and their options.",
        "bad.toml:13: step 2: cycles should be from 1 to 1000."]


def test_validate_of_every_bundled_exercise_is_fine(tmp_path):
    files = sorted(str(p) for p in (ROOT / "scripts").glob("*.toml"))
    result = run(["validate", *files], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": fine.") == len(files)


def test_list_can_filter_by_tag(tmp_path):
    result = run(["list", "--tag", "quick"], tmp_path)
    rows = listed(result.stdout)
    assert "quick-reset" in rows and "resonance" not in rows
    assert all("quick" in line.split("  ")[-1] for line in result.stdout.splitlines()
               if not line.startswith(" "))  # in the tags, at the end of each exercise's line
    practice = run(["list", "--tag", "practice"], tmp_path)
    names = listed(practice.stdout)
    assert {"4-7-8", "4-7-8-standard"} <= set(names) and "quick-reset" not in names
    wrong = run(["list", "--tag", "calm"], tmp_path)
    assert wrong.returncode == 2 and "There is no tag 'calm'" in wrong.stderr


def test_own_exercises_are_listed_and_win_a_name_clash(tmp_path):
    own = tmp_path / "config" / "exercises"
    own.mkdir(parents=True)
    (own / "mine.toml").write_text(MINE)
    (own / "resonance.toml").write_text(MINE.replace('"Mine"', '"My resonance"'))
    result = run(["list"], tmp_path)
    rows = listed(result.stdout)
    assert "mine *" in rows["mine"] and "30 s" in rows["mine"]  # half a minute
    assert "My own short one." in rows["resonance"]
    assert "* your own exercise" in result.stderr
    assert f"Your own 'resonance' ({own / 'resonance.toml'}) is used instead of the bundled one." in result.stderr
    played = run(["play", "resonance", "--dry-run", "--no-voice"], tmp_path)
    assert played.stderr.startswith("My resonance ·")


def test_dry_run_prints_what_is_said_when_and_each_breath_phase(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINE)
    result = run(["play", str(path), "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0:00.0  says  Hello."
    phases = [l for l in lines if " in " in l or " out " in l]
    assert len(phases) == 4
    times = [float(p.split()[0].split(":")[1]) for p in phases]
    assert [p.split()[1:4] for p in phases] == [["in", "4.00", "s"], ["out", "6.00", "s"]] * 2
    assert np.allclose(np.diff(times), [4, 6, 4], atol=0.11)
    assert lines[-1].split()[1] == "end"


def test_minutes_stretches_the_breathing_but_not_the_words(tmp_path):
    short = run(["play", "resonance", "--dry-run", "--no-voice", "--minutes", "4"], tmp_path)
    long = run(["play", "resonance", "--dry-run", "--no-voice", "--minutes", "12"], tmp_path)
    def end(result):
        m, s = result.stdout.splitlines()[-1].split()[0].split(":")
        return int(m) * 60 + float(s)
    def said(result):
        return [re.sub(r"about \w+ minutes", "(length)", l.split("says", 1)[1])
                for l in result.stdout.splitlines() if " says " in l]
    assert end(short) == pytest.approx(240, rel=0.1) and end(long) == pytest.approx(720, rel=0.1)
    assert said(short) == said(long)  # but for the length, said as it is


@pytest.mark.parametrize("minutes, said", [(4, "four"), (12, "twelve")])
def test_minutes_changes_the_length_said_and_the_header_agrees(tmp_path, minutes, said):
    require_espeak()
    result = run(["play", "resonance", "--dry-run", "--minutes", str(minutes)], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"resonance breathing, about {said} minutes:" in first_said(lines)
    header = result.stderr.splitlines()[0]
    assert header == f"Resonance breathing · about {minutes} minutes · (dry run)"
    assert abs(ended(lines) - minutes * 60) <= 15  # nearer this length than another


def first_said(lines: list[str]) -> str:
    """The first line a dry run says."""
    return next(line for line in lines if " says " in line)


def ended(lines: list[str]) -> float:
    """When a dry run's last line says it ends, seconds."""
    m, s = lines[-1].split()[0].split(":")
    return int(m) * 60 + float(s)


def test_without_holds_the_shorter_length_is_said(tmp_path):
    require_espeak()
    kept = run(["play", "box", "--dry-run"], tmp_path).stdout.splitlines()
    left = run(["play", "box", "--dry-run", "--no-holds"], tmp_path).stdout.splitlines()
    assert ended(left) < ended(kept) - 120  # each hold gone: half of every breath
    opening, plain = first_said(kept), first_said(left)
    assert abs(said_seconds(opening) - ended(kept)) <= 15 and "in, hold, out, hold" in opening
    assert abs(said_seconds(plain) - ended(left)) <= 15 and "hold" not in plain


def test_minutes_on_an_exercise_without_breathing_is_explained(tmp_path):
    path = tmp_path / "talk.toml"
    path.write_text(MINE.split("[[step]]\nbreathe")[0])
    result = run(["play", str(path), "--minutes", "3", "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 2 and "has no breathing to lengthen or shorten" in result.stderr


def test_no_holds_turns_holds_into_ordinary_breathing(tmp_path):
    result = run(["play", "gentle-box", "--no-holds", "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 0, result.stderr
    words = [line.split()[1:] for line in result.stdout.splitlines()]
    assert not [w for w in words if w[0] == "hold" or w == ["says", "hold"]]
    assert sum(w[0] == "in" for w in words) == sum(w[0] == "out" for w in words) == 20
    breathe = run(["breathe", "4-7-8", "--no-holds", "--cycles", "2", "--dry-run", "--no-voice"], tmp_path)
    assert [l.split()[1:3] for l in breathe.stdout.splitlines()[:2]] == [["in", "4.00"], ["out", "8.00"]]


def test_breathe_can_ramp_down_to_the_pattern(tmp_path):
    result = run(["breathe", "4-6", "--ramp", "8", "--cycles", "6", "--dry-run", "--no-voice"], tmp_path)
    ins = [float(l.split()[2]) for l in result.stdout.splitlines() if l.split()[1:2] == ["in"]]
    assert ins == [3.0, 3.0, 3.2, 3.2, 3.43, 3.43]
    slow = run(["breathe", "4-6", "--ramp", "5"], tmp_path)
    assert slow.returncode == 2 and "must be faster than the pattern's 6" in slow.stderr


@pytest.mark.parametrize("name", ["pause", "bedtime"])
def test_playing_a_routine_by_name_points_to_its_own_command(tmp_path, name):
    result = run(["play", name], tmp_path)
    assert result.returncode == 2 and f"grounding {name}" in result.stderr


def on_screen(width: int, args: str, home) -> list[str]:
    """What ``grounding ARGS`` shows, standard error too, in a real terminal ``width``
    columns wide: every line it printed, as the terminal shows them (its own line breaks and
    the terminal's, scrolled-off lines included)."""
    import shlex

    from terminal import Terminal

    term = Terminal({"GROUNDING_HOME": str(home)}, width=width, height=24)
    try:
        term.send(f"echo BEGIN\"\"MARK; {shlex.quote(sys.executable)} -m grounding {args}; "
                  "echo END\"\"MARK", enter=True)
        term.wait_for("ENDMARK")
        shown = term.everything().splitlines()
    finally:
        term.close()
    begin = max(i for i, line in enumerate(shown) if line == "BEGINMARK")
    return shown[begin + 1: shown.index("ENDMARK", begin)]


def words(text: str) -> list[str]:
    return text.split()


def exercise_summaries() -> list[str]:
    """What each bundled exercise is for, as its file says (read here with tomllib)."""
    import tomllib

    return [tomllib.loads(path.read_text(encoding="utf-8"))["summary"]
            for path in sorted((ROOT / "scripts").glob("*.toml"))]


@pytest.mark.parametrize("width", [80, 50])
def test_long_text_fits_the_terminal_without_splitting_a_word(tmp_path, width):
    from grounding import safety

    about = on_screen(width, "about", tmp_path)
    assert about and all(len(line) <= width for line in about)
    # every word of the notice and of when to seek help, whole and in order: a word split by
    # a line end, the program's or the terminal's, would be two words here
    assert words(" ".join(about)) == words(safety.NOTICE + " " + safety.WHEN_TO_SEEK_HELP)
    assert "- you feel afraid of someone" in "\n".join(about)  # a list item starts a line

    listed = " ".join(" ".join(on_screen(width, "list", tmp_path)).split())
    for summary in exercise_summaries():
        assert " ".join(words(summary)) in listed

    lines = on_screen(width, "help-now --country GB", tmp_path)
    assert lines and all(len(line) <= width for line in lines)
    said = " ".join(" ".join(lines).split())
    assert " ".join(words(safety.DANGER)) in said
    for number in ("0808 2000 247", "116 123", "999"):  # a number never broken in two
        assert number in said and any(number in line for line in lines)


def test_wrapped_text_keeps_to_a_readable_width_on_a_wide_screen(tmp_path):
    lines = on_screen(200, "about", tmp_path)
    assert max(len(line) for line in lines) <= 88
    assert max(len(line) for line in lines) > 70  # but uses the room there is


def test_output_to_a_pipe_is_wrapped_to_80_columns_or_to_COLUMNS(tmp_path):
    from grounding import safety

    for env, width in (({}, 80), ({"COLUMNS": "40"}, 40)):
        result = run(["about"], tmp_path, env={"COLUMNS": "", **env})
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= width < max(len(line) for line in lines) + 10
        assert words(result.stdout) == words(safety.NOTICE + " " + safety.WHEN_TO_SEEK_HELP)


def test_list_of_the_sleep_tag_ends_by_pointing_to_bedtime(tmp_path):
    result = run(["list", "--tag", "sleep"], tmp_path)
    assert result.returncode == 0
    assert " ".join(result.stderr.split()).endswith(
        "For sleep: grounding bedtime, a slow, quiet wind-down that fades to silence by "
        "itself.")
    assert "bedtime" not in run(["list", "--tag", "quick"], tmp_path).stderr


def help_of(command: str, home) -> str:
    result = run([command, "--help"], home)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def test_the_help_gives_the_volume_and_rate_the_user_keeps(tmp_path):
    assert "Loudness from 0 to 100 (default 70)." in help_of("play", tmp_path)
    assert "words per minute (default 150)." in help_of("breathe", tmp_path)
    assert run(["config", "set", "volume", "45"], tmp_path).returncode == 0
    assert run(["config", "set", "rate", "120"], tmp_path).returncode == 0
    for command in ("play", "breathe", "pause", "bedtime"):
        shown = help_of(command, tmp_path)
        assert "Loudness from 0 to 100 (default 45, from your settings;" in shown, command
        assert "(default 70)" not in shown
    assert "words per minute (default 120, from your settings;" in help_of("play", tmp_path)
    # bedtime's own rate is the user's, slower: its help says so, whatever is kept
    assert "your usual rate, 15 % slower" in help_of("bedtime", tmp_path)


def test_dry_run_help_says_it_shows_what_is_said_and_when(tmp_path):
    for command in ("play", "breathe", "pause", "bedtime"):
        assert "--dry-run Play nothing: print what would be said and when" in help_of(
            command, tmp_path)


@pytest.mark.parametrize("command", ["play", "breathe", "pause", "bedtime"])
def test_every_range_option_names_its_range_in_plain_words(tmp_path, command):
    """Each option with a range, given a value below it, above it, and not a number."""
    params = get_command(app).commands[command].params
    ranged = [p for p in params if getattr(p.type, "min", None) is not None]
    assert ranged
    args = ["box"] if command in ("play", "breathe") else []
    for param in ranged:
        option = max(param.opts, key=len)
        low, high = param.type.min, param.type.max
        kind = "a number" if type(param.type).__name__ == "FloatRange" else "a whole number"
        for value in (str(low - 1), str(high + 1), "lots"):
            result = run([command, *args, option, value, "--dry-run"], tmp_path)
            assert result.returncode == 2, (option, value)
            assert result.stderr == f"{option} is {kind} from {low:g} to {high:g}.\n", (
                option, value, result.stderr)


def first_question(home, width: int = 50):
    """A real terminal ``width`` columns wide, the first question asked in it."""
    from terminal import Terminal

    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "first-run-done").touch()
    term = Terminal({"GROUNDING_HOME": str(home), "PULSE_SERVER": f"unix:{home}/nothing"},
                    width=width, height=24)
    term.grounding("")
    term.wait_for("Press a number")
    return term


@pytest.mark.parametrize("key, code", [("C-c", 130), ("q", 0)])
def test_leaving_the_countdown_ends_its_line_with_a_kind_word(tmp_path, key, code):
    term = first_question(tmp_path)
    try:
        term.send("6")
        term.wait_for("Starting 'resonance' in")
        term.send(key, literal=False)
        shown = term.wait_for("[finished]")
    finally:
        term.close()
    after = shown.split("(q to cancel)")[-1]
    # the countdown's line ends where it is; the words start on a line of their own, and the
    # shell's exit line on the next
    assert after.startswith(" \n") or after.startswith("\n"), after
    said = " ".join(after.split("exit=")[0].split())
    assert said.endswith("Nothing was started, and that's fine. Take care of yourself."), said
    assert f"\nexit={code}\n" in after and "Traceback" not in shown


def test_show_me_everything_lets_one_be_started_there(tmp_path):
    require_espeak()
    term = first_question(tmp_path, width=100)
    try:
        term.send("7")
        term.wait_for("type its name and press Enter")
        term.send("resonanse", enter=True)
        term.wait_for("Did you mean 'resonance'?")
        term.send("resonance", enter=True)
        term.wait_for("Resonance breathing ·", timeout=60)  # it plays (on screen, soundless)
        term.send("q")
        shown = term.wait_for("[finished]")
    finally:
        term.close()
    assert "exit=130" in shown and "Traceback" not in shown


def test_the_first_run_notice_fits_the_terminal_without_splitting_a_word(tmp_path):
    from grounding import safety

    out = tmp_path / "b.wav"
    shown = on_screen(50, f"breathe 4-6 --cycles 1 --no-voice --out {out}", tmp_path)
    notice = " ".join(words(safety.NOTICE))
    assert notice in " ".join(" ".join(shown).split())
    assert (tmp_path / "config" / "first-run-done").exists()
