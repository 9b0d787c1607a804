"""Single key presses without Enter, and a terminal that is always put back as it was."""

from __future__ import annotations

import os
import select
import sys


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
        import termios
        import tty

        self.fd = fd
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
        pressed = ""
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 64)
            if not chunk:
                break
            pressed += chunk.decode("utf-8", "replace")
        return pressed

    def __exit__(self, *exc_info) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            self.saved = None
