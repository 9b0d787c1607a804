"""No terminal injection: escape sequences in an exercise file, the settings or a file name
never reach the terminal. The function on each kind of control character, then the program
itself in a pseudo-terminal, its raw output read byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grounding.printable import printable
from support import ROOT

# --- the function ----------------------------------------------------------------------

ORDINARY = "Café — 🙂 … 漢字 ½ «ok» Ωμέγα"
STARTERS = "\x1b\x90\x98\x9b\x9d\x9e\x9f"
"""ESC, and the 8-bit DCS, SOS, CSI, OSC, PM and APC."""


@pytest.mark.parametrize("text, shown", [
    ("a\x1b[2Jb", "ab"),                          # CSI: clear the screen
    ("a\x1b[1;31mred\x1b[0m", "ared"),            # CSI: colour
    ("a\x1b]0;PWNED\x07b", "ab"),                 # OSC: window title, ended by BEL
    ("a\x1b]52;c;aGFja2Vk\x1b\\b", "ab"),         # OSC 52: the clipboard, ended by ST
    ("a\x1bP1$r\x1b\\b", "ab"),                   # DCS
    ("a\x1b]0;no end\nb", "a b"),                 # an unended OSC goes to the line's end
    ("a\x1bcb", "ab"),                            # ESC c: reset the terminal
    ("a\x1b(Bb", "ab"),                           # ESC ( B: a character set
    ("a\x1b", "a"),                               # a lone ESC at the end
    ("a\x9b2Jb", "ab"),                           # 8-bit CSI
    ("a\x9d0;PWNED\x9cb", "ab"),                  # 8-bit OSC, ended by 8-bit ST
    ("a\x9d0;PWNED\x07b", "ab"),                  # 8-bit OSC, ended by BEL
])
def test_escape_sequences_go_as_a_whole(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("char", [chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20),
                                                    0x7f, *range(0x80, 0xa0)]])
def test_every_c0_and_c1_control_and_del_is_removed(char):
    assert printable(f"a{char}") == "a"
    assert printable(f"a{char}", newlines=True) == "a"
    if char not in STARTERS:  # these begin a sequence, and take what follows with them
        assert printable(f"a{char}b") == "ab"
        assert printable(f"a{char}b", newlines=True) == "ab"


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                  "\u2066", "\u2067", "\u2068", "\u2069"])
def test_bidirectional_overrides_and_isolates_are_removed(char):
    assert printable(f"abc{char}def") == "abcdef"


def test_tabs_become_spaces_and_newlines_stay_only_where_asked():
    assert printable("a\tb") == "a b"
    assert printable("a\nb") == "a b"
    assert printable("a\nb", newlines=True) == "a\nb"
    assert printable("a\r\nb", newlines=True) == "a\nb"
    assert printable("safe\rEVIL", newlines=True) == "safeEVIL"  # no overwriting the line


def test_ordinary_unicode_is_left_as_it_is():
    assert printable(ORDINARY) == ORDINARY
    assert printable(ORDINARY, newlines=True) == ORDINARY
    assert printable("") == ""


# --- the program in a pseudo-terminal ----------------------------------------------------

TITLE = "Calm\\u001b]0;PWNED\\u0007 harbour\\u001b[2J"
EXERCISE = f"""
title = "{TITLE}"
summary = "Lines\\u009b31m that\\u001b]52;c;aGFja2Vk\\u0007 stay\\u202e put"
minutes = 0.5
tags = ["quick"]
holds = true
source = "A test\\u009d0;PWNED\\u009c of escapes"

[[step]]
speak = "Notice\\u001b[2J your\\u0007 feet"
after = 0.2

[[step]]
reflect = ["What\\u001b]0;PWNED\\u0007 is near you?"]
after = 0.2

[[step]]
choice = "Keep\\u009b2J it\\u001b]52;c;aGFja2Vk\\u0007 easy"
after = 0.2

[[step]]
breathe = "2-1-3"
cycles = 1
cue_cycles = 0
lines = ["Soft\\u009d0;PWNED\\u0007 shoulders\\u001b[2J"]
"""
BROKEN = """
title = "Broken"
summary = "A broken one."
minutes = "soon\\u001b[2J\\u009b31m later"
tags = ["quick"]
holds = false
source = "test"

[[step]]
"colour\\u001b]52;c;aGFja2Vk\\u0007ful" = "x"
"""
WORDS = ("Calm harbour", "Notice your feet", "What is near you?", "Soft shoulders")
"""What the exercise says, as it must still show."""
INJECTED = (b"\x1b]52;", b"\x1b]0;", b"\x1b[2J", b"\x07", "\x9b".encode(), "\x9d".encode(),
            "\u202e".encode(), b"PWNED", b"aGFja2Vk")
"""What must never reach the terminal: the sequences, and their payload too."""
EVIL_NAME = "calm\x1b]0;PWNED\x07\x1b[2J"
"""A file name with sequences of its own."""


def clean(raw: bytes) -> str:
    """The output as text, once it is known to carry nothing injected."""
    found = [seq for seq in INJECTED if seq in raw]
    assert not found, f"{found} reached the terminal: {raw!r}"
    return raw.decode("utf-8")


def in_pty(args: list[str], home: Path, env: dict[str, str] | None = None,
           timeout: float = 60) -> tuple[bytes, int]:
    """Run the program in a pseudo-terminal to the end: every byte it wrote, and its exit code."""
    import os

    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "grounding", *args], cwd=str(ROOT),
                          env={**os.environ, "GROUNDING_HOME": str(home),
                               "TERM": "xterm-256color", **(env or {})},
                          timeout=timeout, dimensions=(30, 100))
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


@pytest.fixture
def home(tmp_path):
    folder = tmp_path / "home"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "first-run-done").touch()
    return folder


@pytest.fixture
def exercise(tmp_path):
    path = tmp_path / f"{EVIL_NAME}.toml"
    path.write_text(EXERCISE, encoding="utf-8")
    return path


def test_validate_shows_a_fine_file_and_a_broken_one_without_their_sequences(
        tmp_path, home, exercise):
    broken = tmp_path / f"broken{EVIL_NAME}.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    raw, code = in_pty(["validate", str(exercise), str(broken)], home)
    shown = clean(raw)
    assert code == 2
    assert f"{tmp_path}/calm.toml: fine. Calm harbour, 4 steps" in shown
    assert "brokencalm.toml:4: 'minutes' should be a number, not 'soon later'" in shown
    assert "brokencalm.toml:9: step 1: unknown key 'colourful'" in shown


def test_list_shows_the_users_exercise_without_its_sequences(home):
    own = home / "config" / "exercises"
    own.mkdir()
    (own / f"{EVIL_NAME}.toml").write_text(EXERCISE, encoding="utf-8")
    (own / f"broken{EVIL_NAME}.toml").write_text(BROKEN, encoding="utf-8")
    raw, code = in_pty(["list"], home)
    shown = clean(raw)
    assert code == 0
    assert "calm *" in shown and "Lines that stay put" in shown
    assert f"{own}/brokencalm.toml cannot be read" in shown


def test_a_dry_run_shows_every_line_without_its_sequences(home, exercise):
    raw, code = in_pty(["play", str(exercise), "--dry-run", "--no-voice"], home)
    shown = clean(raw)
    assert code == 0
    assert "Calm harbour · about" in shown
    for words in ("says  Notice your feet", "says  What is near you?", "says  Keep it easy",
                  "says  Soft shoulders"):
        assert words in shown


def test_a_plain_session_shows_every_line_without_its_sequences(pulse_daemon, home, exercise):
    raw, code = in_pty(["play", str(exercise), "--no-voice", "--plain"], home,
                       pulse_daemon.env)
    shown = clean(raw)
    assert code == 0
    for words in (*WORDS, "Keep it easy"):
        assert words in shown


def test_the_live_display_shows_every_line_without_its_sequences(pulse_daemon, home, exercise):
    raw, code = in_pty(["play", str(exercise), "--no-voice"], home, pulse_daemon.env)
    shown = clean(raw)
    assert code == 0
    assert "\x1b[?25l" in shown and "\x1b[2K" in shown  # its own sequences still work
    for words in WORDS:
        assert words in shown


def test_settings_are_shown_and_quoted_without_their_sequences(pulse_daemon, home, exercise):
    (home / "config" / "config.toml").write_text(
        'device = "Attic\\u001b]0;PWNED\\u0007 radio\\u001b[2J"\n'
        'voice = "en\\u001b]52;c;aGFja2Vk\\u0007"\n'
        '"ro\\u009b2Jte" = 120\n', encoding="utf-8")
    raw, code = in_pty(["config"], home)
    shown = clean(raw)
    assert code == 0
    assert "device  Attic radio" in shown and "voice   en\r\n" in shown
    assert "There is no setting 'rote'." in shown
    raw, code = in_pty(["play", str(exercise), "--no-voice", "--plain"], home,
                       pulse_daemon.env)
    shown = clean(raw)
    assert code == 0
    assert "No output device matches 'Attic radio'" in shown and "Soft shoulders" in shown


def test_errors_of_a_quiet_session_name_the_file_without_its_sequences(tmp_path, home):
    broken = tmp_path / f"broken{EVIL_NAME}.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    raw, code = in_pty(["play", str(broken), "--quiet", "--no-voice"], home)
    shown = clean(raw)
    assert code == 2 and "brokencalm.toml:4: 'minutes' should be a number" in shown
    raw, code = in_pty(["play", str(tmp_path / f"gone{EVIL_NAME}.toml"), "--quiet"], home)
    shown = clean(raw)
    assert code == 2 and "gonecalm.toml: there is no such file." in shown
