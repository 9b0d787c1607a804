"""Asking in the terminal, gently: one-key ratings and choices, and a place to write.

Nothing here insists: every question can be skipped, q always leaves (it raises
:class:`~grounding.errors.Stopped`, which ends a session the way Ctrl-C does), and h shows
where help is (``on_help``), then asks again.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, TextIO

from grounding.errors import Stopped
from grounding.keys import Keys
from grounding.printable import text_width, wrap_line

MAX_WRITTEN = 64 * 1024
"""The most that "write it here" takes, in bytes (about 30 pages)."""

DISTRESS_ANCHORS = ("0 calm, settled · 2-3 a little uneasy · 4-5 uncomfortable but manageable "
                    "· 6-7 hard to think about anything else · 8-9 overwhelming · 10 the "
                    "worst you can imagine")
"""What the distress numbers mean (docs/protocols.md card G11), shown with the first such
rating."""
URGE_ANCHORS = ("0 no pull at all · 2-3 a faint pull, easy to leave · 4-5 a clear pull, "
                "manageable · 6-7 hard to think about anything else · 8-9 very strong, close "
                "to acting on it · 10 the strongest pull")
"""What the urge numbers mean (card G11's parallel urge rating, in its own words), shown with
the first urge rating."""


class _Typed:
    """Keys one at a time, in the order pressed (several may arrive in one read)."""

    def __init__(self, keys: Keys):
        self.keys = keys
        self.pending = ""

    def next(self, wait: float | None = None) -> str | None:
        """The next key; None if ``wait`` seconds pass without one."""
        deadline = None if wait is None else time.monotonic() + wait
        while not self.pending:
            self.pending = self.keys.read()
            if self.pending:
                break
            if deadline is not None and time.monotonic() > deadline:
                return None
            time.sleep(0.03)
        key, self.pending = self.pending[0], self.pending[1:]
        return key


def _fit(out: TextIO, text: str, indent: str = "", hang: str | None = None) -> str:
    """``text`` wrapped to the width of the screen ``out`` writes to."""
    return "\n".join(wrap_line(text, text_width(out), indent, hang))


def rating(out: TextIO, question: str, anchors: str = "",
           on_help: Callable[[], None] | None = None) -> int | None:
    """A number from 0 to 10 with one key (1 then 0 for ten), or None when skipped;
    ``anchors`` says what the numbers mean (the first time a scale is asked)."""
    out.write(f"\n{_fit(out, question)}\n")
    if anchors:
        out.write(f"{_fit(out, f'({anchors})', '  ', '   ')}\n")
    out.write(_fit(out, "Press 0 to 9, 1 then 0 for ten, or s to skip. Any number is fine.",
                   "  ") + "\n")
    out.flush()
    with Keys() as keys:
        typed = _Typed(keys)
        while True:
            key = typed.next()
            if key in "qQ":
                raise Stopped()
            if key in "hH" and on_help:
                on_help()
                out.write(f"\n{_fit(out, f'{question} (0 to 10, or s to skip)')}\n")
                out.flush()
                continue
            if key in "sS\r\n ":
                out.write("  skipped\n")
                return None
            if key.isdigit():
                value = int(key)
                if value == 1 and typed.next(wait=0.8) == "0":
                    value = 10
                out.write(f"  {value}\n")
                out.flush()
                return value


def choose(out: TextIO, prompt: str, options: list[tuple[str, str]],
           on_help: Callable[[], None] | None = None) -> str | None:
    """One of ``options`` (key, label) by its key, or None on Enter or s."""

    def ask() -> None:
        out.write(f"\n{_fit(out, prompt)}\n")
        for key, label in options:
            out.write(_fit(out, f"{key}  {label}", "  ", " " * (4 + len(key))) + "\n")
        out.flush()

    ask()
    keys_wanted = {key.lower(): key for key, _ in options}
    with Keys() as keys:
        typed = _Typed(keys)
        while True:
            key = typed.next().lower()
            if key in keys_wanted:
                return keys_wanted[key]
            if key == "q" and "q" not in keys_wanted:
                raise Stopped()
            if key == "h" and on_help and "h" not in keys_wanted:
                on_help()
                ask()
                continue
            if key in ("s", "\r", "\n"):
                return None


def type_a_name(out: TextIO, prompt: str, check: Callable[[str], None],
                stream=None) -> str | None:
    """A name, typed and ended with Enter: the first one ``check`` accepts (for any other it
    raises GroundingError, whose sentence is shown before asking again); None for an empty
    line or the end of input."""
    from grounding.errors import GroundingError

    stream = stream if stream is not None else sys.stdin
    while True:
        out.write(f"\n{_fit(out, prompt)} ")
        out.flush()
        line = stream.readline()
        if not line:  # Ctrl-D: the line is left open
            out.write("\n")
            out.flush()
        name = line.strip()
        if not name:
            return None
        try:
            check(name)
        except GroundingError as exc:
            out.write(_fit(out, str(exc)) + "\n")
            continue
        return name


def wait_for_enter() -> bool:
    """Wait for Enter (or space): True; q or Escape: False."""
    with Keys() as keys:
        typed = _Typed(keys)
        while True:
            key = typed.next()
            if key in ("\r", "\n", " "):
                return True
            if key in ("q", "Q", "\x1b"):
                return False


def write_here(out: TextIO, stream=None) -> bytearray:
    """A multi-line place to write, ended by an empty line twice or Ctrl-D. The text is
    read straight into a mutable buffer, so letting it go can overwrite every byte of it
    (see :func:`let_go`); it is never written anywhere by this function."""
    stream = stream if stream is not None else sys.stdin
    out.write("\n" + _fit(out, "Write it here. Nothing is sent anywhere. When you're done, "
                           "press Enter on an empty line twice (or Ctrl-D).") + "\n\n")
    out.flush()
    fd = stream.fileno()
    text = bytearray(MAX_WRITTEN)  # never grown, so no old copy is left behind in memory
    size = 0
    chunk = bytearray(4096)
    try:
        while size < MAX_WRITTEN:
            count = os.readv(fd, [chunk])  # a line at a time from the terminal
            if count == 0:  # Ctrl-D
                break
            count = min(count, MAX_WRITTEN - size)
            text[size:size + count] = memoryview(chunk)[:count]
            chunk[:count] = bytes(count)
            size += count
            ending = _newlines_at_end(text, size)  # byte by byte: no copy of any words
            if ending == 3 or (ending == size == 2):
                break
    except BaseException:  # Ctrl-C or q mid-way: nothing written stays in memory
        let_go(text)
        raise
    finally:
        chunk[:] = bytes(len(chunk))
    while size and text[size - 1] == 0x0A:
        size -= 1
    text[size:] = b""  # shrinking in place copies nothing out
    return text


def _newlines_at_end(text: bytearray, size: int, most: int = 3) -> int:
    """How many of the last bytes before ``size`` are newlines, up to ``most``."""
    count = 0
    while count < min(most, size) and text[size - 1 - count] == 0x0A:
        count += 1
    return count


def let_go(text: bytearray) -> None:
    """Overwrite the written text in memory, then empty it."""
    text[:] = bytes(len(text))
    del text[:]


class Aside:
    """The terminal's alternate screen, for what should leave no trace: whatever is shown
    inside it is gone from the screen and the scrollback once it ends (a terminal that has
    no alternate screen ignores the request; nothing is written to a pipe)."""

    def __init__(self, out: TextIO):
        self.out = out
        self.active = out.isatty()

    def __enter__(self) -> Aside:
        if self.active:
            self.out.write("\x1b[?1049h\x1b[H\x1b[2J")  # the alternate screen, cleared
            self.out.flush()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.active:
            self.out.write("\x1b[2J\x1b[?1049l")  # wiped, then the main screen as it was
            self.out.flush()
