"""Single key presses without Enter, and a terminal that is always put back as it was.

On Unix the terminal is put in cbreak mode and read as it is; on Windows the console is read
with ``msvcrt``, and what it gives is turned into what a Unix terminal sends for the same keys
(:func:`from_console`), so the rest of the program sees the same keys everywhere.
"""

from __future__ import annotations

import os
import select
import sys

WINDOWS = sys.platform == "win32"

CTRL_C = "\x03"
"""What a Windows console may give for Ctrl-C (a Unix terminal in cbreak mode turns it into
SIGINT instead, and the key never reaches a read)."""

SPECIAL_PREFIXES = ("\x00", "\xe0")
"""What ``msvcrt.getwch`` gives first for a key that has no character (an arrow, a function
key): the key's scan code comes in the next call."""

SCAN_CODES = {
    72: "\x1b[A", 80: "\x1b[B", 77: "\x1b[C", 75: "\x1b[D",  # the arrows
    71: "\x1b[H", 79: "\x1b[F", 73: "\x1b[5~", 81: "\x1b[6~",  # Home, End, Page Up, Page Down
    82: "\x1b[2~", 83: "\x1b[3~",  # Insert, Delete
    59: "\x1bOP", 60: "\x1bOQ", 61: "\x1bOR", 62: "\x1bOS",  # F1 to F4
    63: "\x1b[15~", 64: "\x1b[17~", 65: "\x1b[18~", 66: "\x1b[19~", 67: "\x1b[20~",
    68: "\x1b[21~", 133: "\x1b[23~", 134: "\x1b[24~",  # F5 to F12
    141: "\x1b[1;5A", 145: "\x1b[1;5B", 116: "\x1b[1;5C", 115: "\x1b[1;5D",  # Ctrl + arrows
    119: "\x1b[1;5H", 117: "\x1b[1;5F",  # Ctrl + Home, Ctrl + End
}
"""The scan codes a Windows console gives after a prefix, and what xterm sends for the same
key (the sequences a Unix terminal delivers to a read)."""

PLAIN = {"\r": "\n", "\x08": "\x7f"}
"""Keys a Windows console gives differently: Enter as a carriage return (a Unix terminal in
cbreak mode turns it into a newline) and Backspace as ^H (^? on a Unix terminal)."""


def from_console(chars: str) -> tuple[str, bool]:
    """What a Unix terminal would have delivered for the keys a Windows console gave as
    ``chars`` (``msvcrt.getwch`` one after another), and whether Ctrl-C was among them (it is
    left out: on Unix it is a signal, not a key). A special key is a prefix and its scan code;
    one whose scan code is not known, or a prefix that ends ``chars``, gives nothing."""
    keys, interrupted, at = [], False, 0
    while at < len(chars):
        char = chars[at]
        at += 1
        if char in SPECIAL_PREFIXES:
            if at < len(chars):
                keys.append(SCAN_CODES.get(ord(chars[at]), ""))
                at += 1
        elif char == CTRL_C:
            interrupted = True
        else:
            keys.append(PLAIN.get(char, char))
    return "".join(keys), interrupted


def read_console(console) -> str:
    """The keys waiting in a Windows console (``console`` is ``msvcrt``, or anything with its
    ``kbhit`` and ``getwch``), as a Unix terminal delivers them. Ctrl-C raises SIGINT in this
    process, as a terminal's Ctrl-C does on Unix (a stop through the program's handler)."""
    chars = ""
    while console.kbhit():
        char = console.getwch()
        if char in SPECIAL_PREFIXES:  # its scan code is already there
            char += console.getwch()
        chars += char
    pressed, interrupted = from_console(chars)
    if interrupted:
        import signal

        signal.raise_signal(signal.SIGINT)
    return pressed


class Keys:
    """Reads keys from a terminal in cbreak mode (Ctrl-C still interrupts). Use as a context
    manager: the terminal's settings are restored on the way out, whatever the way out."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdin
        self.saved = None
        self.fd = None

    def __enter__(self) -> Keys:
        try:
            fd = self.stream.fileno()
        except (AttributeError, ValueError, OSError):
            return self
        if not os.isatty(fd):
            return self
        self.fd = fd
        if WINDOWS:  # msvcrt reads the console without echo or Enter: nothing to change
            self.saved = "console"
            return self
        import termios
        import tty

        self.saved = termios.tcgetattr(fd)
        tty.setcbreak(fd, termios.TCSANOW)
        return self

    @property
    def active(self) -> bool:
        """Whether key presses can be read here."""
        return self.saved is not None

    def read(self) -> str:
        """The keys pressed since the last call ('' if none), without waiting."""
        if not self.active:
            return ""
        if WINDOWS:
            import msvcrt

            return read_console(msvcrt)
        pressed = ""
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 64)
            if not chunk:
                break
            pressed += chunk.decode("utf-8", "replace")
        return pressed

    def __exit__(self, *exc_info) -> None:
        if self.saved is not None and not WINDOWS:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        self.saved = None
