"""Keys on Windows: what a Windows console gives (``msvcrt.getwch``) turned into what a Unix
terminal delivers for the same keys, checked against a real Unix terminal (tmux) read by the
program's own Unix reader; and Ctrl-C from a console stops as it does on Unix."""

import signal
import sys
import time

import pytest

from grounding import cli
from grounding.errors import Stopped
from grounding.keys import from_console, read_console
from terminal import Terminal

# Each key as tmux names it, and what a Windows console gives for it: a prefix (0x00 or 0xE0)
# and the key's scan code for keys without a character (Microsoft's keyboard scan codes, set 1).
KEYS = [
    ("Up", "\xe0H"), ("Down", "\xe0P"), ("Right", "\xe0M"), ("Left", "\xe0K"),
    ("PageUp", "\xe0I"), ("PageDown", "\xe0Q"), ("Insert", "\xe0R"), ("DC", "\xe0S"),
    ("F1", "\x00;"), ("F2", "\x00<"), ("F3", "\x00="), ("F4", "\x00>"), ("F5", "\x00?"),
    ("F6", "\x00@"), ("F7", "\x00A"), ("F8", "\x00B"), ("F9", "\x00C"), ("F10", "\x00D"),
    ("F11", "\xe0\x85"), ("F12", "\xe0\x86"),
    ("Enter", "\r"), ("BSpace", "\x08"), ("Escape", "\x1b"), ("Space", " "),
    ("q", "q"), ("+", "+"), ("7", "7"), ("é", "é"),
]

_READER = """
import sys, time
from grounding.keys import Keys
with Keys() as keys, open(sys.argv[1], "w", encoding="utf-8") as out:
    print("reading", flush=True)
    got = ""
    deadline = time.monotonic() + 30
    while not got.endswith("zz") and time.monotonic() < deadline:
        got += keys.read()
        time.sleep(0.01)
    out.write(ascii(got))
print("all " + "read", flush=True)
"""


def test_a_windows_console_gives_the_keys_a_unix_terminal_gives(tmp_path):
    reader, got = tmp_path / "reader.py", tmp_path / "got.txt"
    reader.write_text(_READER)
    term = Terminal({"TERM": "xterm-256color"})
    try:
        term.send(f"{sys.executable} {reader} {got}", enter=True)
        term.wait_for("reading")
        for name, _ in KEYS:
            term.send(name, literal=name in ("é", "+", "q", "7"))
            time.sleep(0.05)
        term.send("zz")
        term.wait_for("all read")
    finally:
        term.close()
    unix = eval(got.read_text())[:-2]  # ascii() of a str
    windows, interrupted = from_console("".join(console for _, console in KEYS))
    assert windows == unix and not interrupted, (windows, unix)


def test_home_and_end_are_given_as_xterm_sends_them():
    # tmux sends its own codes for these two; xterm, VTE and most terminals send these
    assert from_console("\xe0G\xe0O") == ("\x1b[H\x1b[F", False)


def test_an_arrow_never_reads_as_escape_which_leaves_the_first_question():
    for _, console in KEYS[:4]:
        keys, _ = from_console(console)
        assert keys[-1:] != "\x1b" and keys[:1] == "\x1b"


def test_an_unknown_scan_code_or_a_prefix_alone_gives_nothing():
    assert from_console("a\x00\xffb") == ("ab", False)
    assert from_console("a\xe0") == ("a", False)


def test_ctrl_c_is_left_out_of_the_keys_and_told():
    assert from_console("a\x03b") == ("ab", True)


class Console:
    """Stands in for the Windows console that msvcrt reads: keys waiting, one per call."""

    def __init__(self, chars: str):
        self.chars = list(chars)

    def kbhit(self) -> bool:
        return bool(self.chars)

    def getwch(self) -> str:
        return self.chars.pop(0)


def test_keys_waiting_in_a_console_are_read_with_their_scan_codes():
    assert read_console(Console("v\xe0H+")) == "v\x1b[A+"
    assert read_console(Console("")) == ""


def test_ctrl_c_in_a_console_stops_the_session_as_on_unix():
    previous = signal.signal(signal.SIGINT, cli._stop)  # what the program's main() installs
    try:
        with pytest.raises(Stopped) as how:
            read_console(Console("\x03"))
        assert how.value.signum == signal.SIGINT
    finally:
        signal.signal(signal.SIGINT, previous)
    with pytest.raises(KeyboardInterrupt):  # and Python's own handler, where ours is not set
        read_console(Console("q\x03"))
