"""The terminal half, in a real terminal (tmux) and real pipes, playing into a private
PulseAudio null sink: the display follows the sound, keys act, the terminal is put back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import pulse
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
    time.sleep(0.5)
    after = term.screen()
    assert after.index("findahelpline.com") < after.index("space pause · q stop")
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
