"""The terminal half, in a real terminal (tmux) and real pipes, playing into a private
PulseAudio null sink: the display follows the sound, keys act, the terminal is put back."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import pulse
from grounding.breath import parse_pattern
from grounding.display import LiveDisplay, Status
from grounding.palette import load_palette
from grounding.script import Breathe, Script, Speak
from grounding.timeline import build_timeline
from support import ROOT, seen_notice
from terminal import Terminal


@pytest.fixture
def home(tmp_path):
    return seen_notice(tmp_path / "home")


@pytest.fixture
def term(pulse_daemon, home):
    terminal = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home),
                         "TERM": "xterm-256color"})
    yield terminal
    terminal.close()


def fill(screen: str) -> float:
    full, empty = screen.count("█"), screen.count("░")
    return full / (full + empty)


def left(screen: str) -> str:
    return re.search(r"(\d+:\d\d) left", screen).group(1)


def ended(term: Terminal) -> tuple[int, str]:
    shown = term.wait_for("[finished]", timeout=30)
    code = int(re.findall(r"exit=(\d+)", shown)[-1])
    return code, shown.split("exit=")[-1]


def test_the_bar_swells_on_the_in_breath_and_empties_on_the_out_breath(term):
    term.grounding("breathe 4-6 --cycles 1 --no-voice")
    term.wait_for("breathe in")
    start = time.monotonic()
    shots = {}
    for at in (0.8, 3.0, 5.2, 8.8):
        time.sleep(max(0.0, start + at - time.monotonic()))
        shots[at] = term.screen()
    assert "breathe in" in shots[0.8] and "breathe in" in shots[3.0]
    assert "breathe out" in shots[5.2] and "breathe out" in shots[8.8]
    assert fill(shots[3.0]) > fill(shots[0.8]) + 0.4
    assert fill(shots[8.8]) < fill(shots[5.2]) - 0.4
    assert left(shots[0.8]) > left(shots[8.8])
    assert "space pause · q stop · +/- volume 70 · v voice off · t tones on" in shots[0.8]
    code, mode = ended(term)
    assert code == 0 and "-icanon" not in mode and "-echo" not in mode


def test_space_pauses_and_resumes_and_q_stops_with_the_terminal_put_back(term):
    term.grounding("breathe 4-6 --cycles 3 --no-voice")
    term.wait_for("breathe in")
    time.sleep(1.0)
    term.send(" ")
    term.wait_for("paused")
    time.sleep(0.8)  # the sound fades out over 250 ms, and what is queued in the device plays
    first = term.screen()
    assert "space resume · q stop" in first and "space pause" not in first
    time.sleep(1.5)
    still = term.screen()
    assert left(still) == left(first) and fill(still) == pytest.approx(fill(first), abs=0.02)
    term.send(" ")
    time.sleep(1.5)
    moving = term.screen()
    assert "paused" not in moving and fill(moving) != pytest.approx(fill(still), abs=0.02)
    term.send("q")
    code, mode = ended(term)
    assert code == 130 and "Stopped." in term.screen()
    assert "-icanon" not in mode and "-echo" not in mode


def test_volume_voice_and_tone_keys_show_at_once_and_the_volume_is_remembered(term, home):
    term.grounding("breathe 4-6 --cycles 3 --no-voice")
    term.wait_for("breathe in")
    term.send("++-")
    term.wait_for("volume 75")
    term.send("t")
    term.wait_for("tones off")
    term.send("v")
    term.wait_for("v voice on")
    term.send("q")
    assert ended(term)[0] == 130
    assert "volume = 75" in (home / "config" / "config.toml").read_text()


def test_ctrl_c_fades_and_restores_the_terminal(term):
    term.grounding("breathe 4-6 --cycles 3 --no-voice")
    term.wait_for("breathe in")
    term.send("C-c", literal=False)
    code, mode = ended(term)
    assert code == 130 and "-icanon" not in mode and "-echo" not in mode


def test_sigterm_stops_gently_and_restores_the_terminal(term):
    term.grounding("breathe 4-6 --cycles 7 --no-voice")
    term.wait_for("breathe in")
    os.kill(term.program_pid(), signal.SIGTERM)  # only the program this test started
    code, mode = ended(term)
    assert code == 143 and "-icanon" not in mode and "-echo" not in mode


def timed_lines(process, until: str, timeout: float = 40) -> list[tuple[float, str]]:
    """Lines of the process's stdout with the second each arrived, until one contains ``until``."""
    lines, start = [], None
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        now = time.monotonic()
        start = start if start is not None else now
        lines.append((now - start, line.rstrip("\n")))
        if until in line or now > deadline:
            break
    return lines


def test_plain_lines_carry_the_audio_clock_and_arrive_on_time(pulse_daemon, home):
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "breathe", "2-4", "--cycles", "2", "--no-voice"],
        cwd=ROOT, env=pulse_daemon.environ(GROUNDING_HOME=str(home)), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = timed_lines(process, "0:08")
    process.wait(timeout=20)
    assert [text for _, text in lines] == ["0:00  breathe in", "0:02  breathe out",
                                           "0:06  breathe in", "0:08  breathe out"]
    for (arrived, _), planned in zip(lines, (0, 2, 6, 8)):
        assert arrived == pytest.approx(planned, abs=0.35)
    assert process.returncode == 0 and "\x1b" not in "".join(t for _, t in lines)


def test_when_the_sound_server_goes_away_the_session_carries_on_in_step(home):
    daemon = pulse.start_daemon("going_away")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "grounding", "breathe", "4-6", "--cycles", "2",
             "--no-voice"], cwd=ROOT, env=daemon.environ(GROUNDING_HOME=str(home)),
            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = process.stdout.readline()
        time.sleep(2.5)
        daemon.stop()
        lines = timed_lines(process, "0:14")
        _, stderr = process.communicate(timeout=20)
    finally:
        daemon.stop()
    assert first.strip() == "0:00  breathe in"
    assert [text for _, text in lines] == ["0:04  breathe out", "0:10  breathe in",
                                           "0:14  breathe out"]
    arrived = {text: t for t, text in lines}
    # the clock keeps its pace after the loss: 6 s and 10 s after the out-breath began
    assert arrived["0:10  breathe in"] - arrived["0:04  breathe out"] == pytest.approx(6, abs=0.5)
    assert arrived["0:14  breathe out"] - arrived["0:04  breathe out"] == pytest.approx(10, abs=0.5)
    assert process.returncode == 0
    assert stderr.count("The sound output went away") == 1 and "grounding doctor" in stderr
    assert "Expression" not in stderr and "Traceback" not in stderr


def test_no_color_is_respected(pulse_daemon, home):
    import pexpect

    def raw(extra_env):
        child = pexpect.spawn(sys.executable, ["-m", "grounding", "breathe", "4-6", "--cycles",
                                               "1", "--no-voice"], cwd=str(ROOT),
                              env=pulse_daemon.environ(GROUNDING_HOME=str(home),
                                                       TERM="xterm", **extra_env),
                              encoding="utf-8", timeout=30, dimensions=(30, 100))
        child.expect("breathe in")
        seen = child.before + child.after
        child.sendcontrol("c")
        child.expect(pexpect.EOF)
        return seen + child.before

    assert "\x1b[36m" in raw({})
    plain = raw({"NO_COLOR": "1"})
    assert "\x1b[36m" not in plain and "\x1b[1m" not in plain and "breathe" in plain


def test_quiet_prints_nothing(pulse_daemon, home):
    done = subprocess.run([sys.executable, "-m", "grounding", "breathe", "3-3", "--cycles", "1",
                           "--no-voice", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env=pulse_daemon.environ(GROUNDING_HOME=str(home)), timeout=40)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_the_first_question_starts_what_fits(term):
    term.grounding("")
    term.wait_for("What do you need right now?")
    term.send("7")
    shown = term.wait_for("type its name and press Enter")
    term.send("", enter=True)  # Enter alone leaves
    assert "resonance" in shown and ended(term)[0] == 0
    term.grounding("")
    term.wait_for("What do you need right now?")
    term.send("6")
    term.wait_for("Starting 'resonance' in")
    term.send("q")
    assert ended(term)[0] == 0


def test_h_shows_the_help_lines_and_the_display_goes_on_below_them(term, home):
    term.grounding("breathe 4-6 --cycles 3 --no-voice")
    term.wait_for("breathe in")
    term.send("h")
    shown = term.wait_for("Anywhere: findahelpline.com")
    assert "0808 2000 247" in shown and "1800RESPECT" in shown
    time.sleep(2.0)  # many frames later, the help lines are still there, above the display
    after = term.screen()
    assert after.index("findahelpline.com") < after.index("space pause · q stop")
    assert "h hide help lines" in after
    term.send("h")
    time.sleep(0.5)
    hidden = term.screen()
    assert "findahelpline.com" not in hidden and "h help lines" in hidden
    assert hidden.count(" left") == 1
    term.send("q")
    assert ended(term)[0] == 130


BRIGHT = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:1|3[0-7]|9[0-7]|38;[25];[0-9;]+)m")
"""Bold, or any foreground colour: everything at night is dim (2) or plain."""


def test_at_bedtime_the_screen_is_dim_from_the_start(term):
    term.grounding("bedtime --minutes 10 --no-voice")
    term.wait_for("Bedtime · 9:")  # the live display has begun
    assert "\x1b[2m" in term.screen(styles=True) and not BRIGHT.search(term.screen(styles=True))
    term.send("q")
    assert ended(term)[0] == 130


def test_at_bedtime_the_screen_keeps_still_after_the_first_minute(term):
    term.grounding("bedtime --minutes 10 --no-voice")
    term.wait_for("Bedtime · 9:")
    still = term.wait_for("it fades out by itself · q stops", timeout=120)
    assert "█" not in still and "left" not in still  # no bar, no counting down
    shots = []
    for _ in range(4):
        time.sleep(1.5)
        shots.append(term.screen(styles=True))
    assert len(set(shots)) == 1 and not BRIGHT.search(shots[0])  # nothing moves, nothing bright
    term.send("q")
    assert ended(term)[0] == 130


def test_at_bedtime_animate_keeps_the_bar_moving(term):
    term.grounding("bedtime --minutes 10 --no-voice --animate --pace 5.5")
    term.wait_for("breathe in", timeout=150)  # the first breath, after the first minute
    first = term.screen()
    time.sleep(1.0)
    assert term.screen() != first and not BRIGHT.search(term.screen(styles=True))
    term.send("q")
    assert ended(term)[0] == 130


SIZES = [(40, 10), (70, 24), (80, 24)]
"""Terminal sizes the live display is watched at: the smallest it is made for, one narrower
than its widest keys line, and the most common."""


def plays_without_scrolling(term: Terminal, width: int, args: str = "breathe 4-6 --cycles 3"
                            " --no-voice") -> str:
    """Play ``args`` in ``term`` for a few seconds and check that nothing scrolled off the
    top meanwhile and that the display is drawn once, its rows short of the last column;
    the screen then. Stops the session with q."""
    term.grounding(args)
    term.wait_for(" left")
    time.sleep(1.0)  # the first frame is drawn, and may have scrolled what was above it
    before = term.scrolled()
    time.sleep(3.0)
    shown = term.screen()
    assert term.scrolled() == before, shown
    rows = shown.split("\n")
    display = rows[next(i for i, row in enumerate(rows) if " left" in row):]
    assert shown.count(" left") == 1 and sum("breathe " in row for row in display) == 1, shown
    assert all(len(row) < width for row in display), shown
    term.send("q")
    assert ended(term)[0] == 130
    return shown


@pytest.mark.parametrize("width,height", SIZES)
def test_with_sound_the_display_keeps_still_at_any_size(pulse_daemon, home, width, height):
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home), "TERM": "xterm-256color"},
                    width, height)
    try:
        shown = plays_without_scrolling(term, width)
    finally:
        term.close()
    assert "q stop" in shown and "No sound here" not in shown


@pytest.mark.parametrize("width,height", SIZES)
def test_without_sound_the_display_keeps_still_at_any_size(home, tmp_path, width, height):
    term = Terminal({"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket",
                     "GROUNDING_HOME": str(home), "TERM": "xterm-256color"}, width, height)
    try:
        shown = plays_without_scrolling(term, width)
    finally:
        term.close()
    assert "No sound here" in shown and "volume 70" in shown


def test_the_display_follows_a_resize_without_scrolling_or_leftovers(term):
    term.grounding("breathe 4-6 --cycles 3 --no-voice")
    term.wait_for(" left")
    time.sleep(1.0)
    for width, height in ((40, 10), (80, 24)):
        term.resize(width, height)
        time.sleep(1.0)  # the terminal has rewrapped and moved what it showed; one frame since
        settled = term.scrolled()
        time.sleep(2.0)
        shown = term.screen()
        assert term.scrolled() == settled, shown
        rows = shown.split("\n")
        head = max(i for i, row in enumerate(rows) if " left" in row)
        display = rows[head:]
        assert all(len(row) < width for row in display), shown
        assert sum("breathe " in row for row in display) == 1, shown
        if width == 40:  # all the wider frame left behind was cleared
            assert shown.count(" left") == 1 and shown.count("░") + shown.count("█") < 40
        else:
            assert "space pause · q stop · +/- volume 70 · v voice off · t tones on" in shown
    term.send("q")
    assert ended(term)[0] == 130


LONG = ("Here is a longer instruction than usual, so that it needs more than two rows even on "
        "a wide screen: notice the weight of your body where it rests, the air on your skin, "
        "the sounds near you and far away, and let the breath find its own pace.")
"""A caption of four rows at 80 columns, seven at 40."""


def long_caption_file(folder, caption: str = LONG, after: float = 0.3) -> str:
    path = folder / "long.toml"
    path.write_text(f"""title = "Long words"
summary = "A long caption, then breathing."
minutes = 0.5
tags = ["quick"]
holds = false
source = "tests"

[[step]]
speak = "{caption}"
after = {after}

[[step]]
breathe = "3-3"
cycles = 2
""", encoding="utf-8")
    return str(path)


def joined(screen: str) -> str:
    return " ".join(screen.split())


@pytest.mark.parametrize("width,height", [(40, 10), (80, 24)])
def test_a_long_caption_is_shown_whole_and_goes_once_the_breathing_starts(
        pulse_daemon, home, tmp_path, width, height):
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home), "TERM": "xterm-256color"},
                    width, height)
    try:
        term.grounding(f"play {long_caption_file(tmp_path)} --no-voice --rate 300")
        shown = term.wait_for("own pace.")
        assert LONG in joined(shown) and "…" not in shown
        term.wait_for("breathe in", timeout=30)
        time.sleep(0.3)
        display = term.screen().split("Long words · ")[-1]
        assert "instruction" not in display and "own pace" not in display
        term.send("q")
        assert ended(term)[0] == 130
    finally:
        term.close()


def test_plain_mode_says_what_each_key_did(term):
    term.grounding("breathe 4-6 --cycles 3 --no-voice --plain")
    term.wait_for("breathe in")
    for key, said in ((" ", "paused"), (" ", "resumed"), ("-", "volume 65"), ("v", "voice on"),
                      ("t", "tones off")):
        term.send(key)
        term.wait_for(said)
    lines = term.screen().split("\n")
    assert all(said in lines for said in ("paused", "resumed", "volume 65", "voice on",
                                          "tones off"))
    term.send("q")
    assert ended(term)[0] == 130


def drawn_rows(width: int, height: int, monkeypatch, frame_seconds: float,
               note: tuple[str, ...] = (), paused: bool = False) -> tuple[str, list[str]]:
    """All the live display printed for its first two frames at ``width`` x ``height`` (as
    the terminal size says, through COLUMNS and LINES), and the rows of the second, without
    the codes that move and colour."""
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("LINES", str(height))
    rate = 8000
    script = Script("t", "Long words", "t", 1, (), False, "tests",
                    (Speak(LONG, 0.3), Breathe(parse_pattern("3-3"), 2, "none", 0)))
    clips = {text: np.zeros(10 * rate, dtype=np.float32) for text in script.texts()}
    timeline = build_timeline(script, clips, load_palette("day"), rate)
    out = io.StringIO()
    display = LiveDisplay(out, timeline, "Long words", Status(70, True, True, paused=paused),
                          color=True)
    display.note = note
    display.tick(round(frame_seconds * rate))
    first = len(out.getvalue())
    display.tick(round(frame_seconds * rate))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", out.getvalue())
    return text, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", out.getvalue()[first:]).split("\n")


@pytest.mark.parametrize("width", [40, 41, 55, 70, 79, 80, 81, 100, 200])
@pytest.mark.parametrize("height", [8, 10, 24])
def test_every_frame_fits_the_terminal_and_shows_the_caption_whole(width, height, monkeypatch):
    note = ("No sound here: the words carry on on screen. 'grounding doctor' can look for "
            "the cause.", "No sound here.")
    for at, paused, with_note in ((1.0, False, False), (1.0, True, True),
                                  (11.0, False, True), (12.5, True, False)):
        everything, rows = drawn_rows(width, height, monkeypatch, at,
                                      note if with_note else (), paused)
        assert len(rows) <= height - 1 and all(len(row) < width for row in rows), rows
        shown = joined(everything)
        assert "…" not in shown and "q stop" in shown or with_note
        if at < 10:
            assert LONG in shown, rows
        else:
            assert "breathe" in shown and "instruction" not in shown, rows
        if paused and not with_note:
            assert "space resume" in shown and "space pause" not in shown


@pytest.mark.parametrize("width,height", [(39, 10), (30, 6), (20, 3), (12, 2), (8, 1)])
def test_below_40_by_8_a_frame_still_fits(width, height, monkeypatch):
    for at in (1.0, 11.0):
        _, rows = drawn_rows(width, height, monkeypatch, at)
        assert len(rows) <= max(1, height - 1) and all(len(row) < width for row in rows), rows


def test_in_a_small_terminal_the_help_lines_keep_the_screen_until_h_again(home, tmp_path):
    term = Terminal({"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket",
                     "GROUNDING_HOME": str(home), "TERM": "xterm-256color"}, 40, 10)
    try:
        term.grounding("breathe 4-6 --cycles 3 --no-voice")
        term.wait_for(" left")
        term.send("h")
        term.wait_for("h hide help")
        time.sleep(0.5)
        before = term.scrolled()
        time.sleep(2.0)  # the display keeps to its two rows under them meanwhile
        shown = term.screen()
        assert term.scrolled() == before and "grounding help-now" in shown, shown
        assert sum(bool(row.strip()) for row in shown.split("\n")) >= 8, shown
        term.send("h")
        time.sleep(0.5)
        hidden = term.screen()
        assert "help-now" not in hidden and hidden.count(" left") == 1, hidden
        term.send("q")
        assert ended(term)[0] == 130
    finally:
        term.close()


WIDE = ("呼吸をゆっくりと整えましょう。肩の力を抜いて、足の裏が床に触れているのを感じてください。"
        "急ぐことは何もありません。")
"""A caption in characters two columns wide: twice as many columns as characters."""


def test_a_caption_of_wide_characters_fits_and_keeps_still(home, tmp_path):
    term = Terminal({"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket",
                     "GROUNDING_HOME": str(home), "TERM": "xterm-256color"}, 40, 10)
    try:
        term.grounding(f"play {long_caption_file(tmp_path, WIDE, after=4.0)} --no-voice")
        term.wait_for(" left")
        time.sleep(0.5)
        before = term.scrolled()
        time.sleep(2.0)
        shown = term.screen()
        assert term.scrolled() == before and WIDE in "".join(shown.split()), shown
        term.send("q")
        assert ended(term)[0] == 130
    finally:
        term.close()


@pytest.mark.parametrize("width,height", [(80, 24), (60, 20), (40, 10)])
def test_the_help_lines_fit_the_terminal_with_what_to_do_in_danger_first(home, tmp_path, width,
                                                                         height):
    """Every country's lines are more than some terminals hold: what fits is shown whole,
    wrapped to the display's width, the danger line first and never scrolled away, and a cut
    list ends by saying where the rest are."""
    from grounding.safety import DANGER

    term = Terminal({"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket",
                     "GROUNDING_HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8"},
                    width, height)
    try:
        term.grounding("breathe 4-6 --cycles 3 --no-voice")
        term.wait_for(" left")
        term.send("h")
        term.wait_for("danger right now")
        time.sleep(0.5)
        before = term.scrolled()
        time.sleep(2.0)
        shown = term.screen()
        rows = shown.split("\n")
        assert term.scrolled() == before, shown
        assert DANGER in " ".join(shown.split()) and "findahelpline.com" not in rows[0], shown
        assert all(len(row) < width for row in rows), shown
        # wrapped once, to the display's width: no row ends before a word that would have
        # fitted on it (a second wrapping leaves rows of one or two words)
        for a, b in zip(rows, rows[1:]):
            word = b.split()[0] if b.startswith("  ") and a.strip() and "█" not in b else ""
            if word and not word[0].isdigit():
                assert len(a) + 1 + len(word) >= width, (a, b, shown)
        assert ("More: q, then grounding help-now" in shown) != ("Anywhere:" in shown), shown
        term.send("q")
        assert ended(term)[0] == 130
    finally:
        term.close()
