"""A real terminal for tests: a private tmux server, keys sent to it, the screen read back."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid

from support import ROOT, require


class Terminal:
    """One tmux window running bash, on its own server socket (never the user's tmux)."""

    def __init__(self, env: dict[str, str], width: int = 100, height: int = 30):
        require(shutil.which("tmux") is not None, "tmux (Debian package tmux)")
        self.socket = f"grounding-test-{uuid.uuid4().hex[:8]}"
        settings = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                   *settings, "bash --norc --noprofile")
        self.send(f"cd {shlex.quote(str(ROOT))}; PS1='$ '; clear", enter=True)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10)
        return done.stdout

    def send(self, keys: str, enter: bool = False, literal: bool = True) -> None:
        """Type ``keys`` (literally, unless they name a key such as C-c)."""
        self._tmux("send-keys", "-t", "t", *(["-l"] if literal else []), keys)
        if enter:
            self._tmux("send-keys", "-t", "t", "Enter")

    def grounding(self, args: str) -> None:
        """Start the program, and after it the exit code and the terminal's mode."""
        command = (f"{shlex.quote(sys.executable)} -m grounding {args}; "
                   f"echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -E -x -- '-?(icanon|echo)'"
                   f" | tr '\\n' ' '; echo \"[fini\"\"shed]\"")
        self.send(command, enter=True)

    def screen(self, styles: bool = False) -> str:
        """What the window shows now (``styles``: with the escape codes of its colours)."""
        return self._tmux("capture-pane", "-p", *(["-e"] if styles else []), "-t", "t")

    def everything(self) -> str:
        """All the window has shown, scrolled-off lines included."""
        return self._tmux("capture-pane", "-p", "-S", "-", "-t", "t")

    def wait_for(self, text: str, timeout: float = 20.0, times: int = 1) -> str:
        """Wait until ``text`` has been shown ``times`` times in all (once: on screen now);
        the screen then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen() if times == 1 else self.everything()
            if shown.count(text) >= times:
                return self.screen()
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen:\n"
                             + self.screen())

    def scrolled(self) -> int:
        """How many lines have scrolled off the top of the window so far (its scrollback)."""
        return int(self._tmux("display-message", "-p", "-t", "t", "#{history_size}").strip())

    def resize(self, width: int, height: int) -> None:
        """Make the window ``width`` columns by ``height`` rows, as a person dragging its
        corner would (the program gets SIGWINCH)."""
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def size(self) -> tuple[int, int]:
        """The window's columns and rows now."""
        shown = self._tmux("display-message", "-p", "-t", "t", "#{pane_width} #{pane_height}")
        width, height = shown.split()
        return int(width), int(height)

    def program_pid(self, timeout: float = 5.0) -> int:
        """The pid of what the window's shell runs now (the program a test started)."""
        shell = int(self._tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(f"/proc/{shell}/task/{shell}/children") as found:
                children = found.read().split()
            if children:
                return int(children[0])
            time.sleep(0.05)
        raise AssertionError("the shell in the test's terminal runs no program")

    def close(self) -> None:
        """Stop this tmux server and everything in it."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def stop_a_pause_with_q(env: dict[str, str]) -> str:
    """Start ``grounding pause --no-voice`` in a terminal of its own, press q once it plays,
    and give the screen once the program has ended."""
    term = Terminal(env)
    try:
        term.grounding("pause --no-voice")
        term.wait_for("Pause: arrive")
        term.wait_for("left")
        term.send("q")
        return term.wait_for("[finished]", timeout=15)
    finally:
        term.close()
