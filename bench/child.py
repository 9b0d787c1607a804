"""The program as a user runs it: the console script in a child process, watched from outside.

Nothing in the child is patched or wrapped; what is measured comes from /proc, from wait4, or
from the program's own lines on stderr (``--debug``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_AUDIBLE = re.compile(r"debug: first audible block handed to the device (\d+) ms after "
                           r"the command line loaded \(epoch (\d+\.\d+)\)")


def grounding_argv() -> list[str]:
    """The console script the user runs, next to this interpreter (or ``python -m``)."""
    script = Path(sys.executable).parent / "grounding"
    return [str(script)] if os.access(script, os.X_OK) else [sys.executable, "-m", "grounding"]


def clip_count() -> int:
    """How many voice clips the cache in GROUNDING_HOME holds."""
    return sum(1 for _ in (Path(os.environ["GROUNDING_HOME"]) / "cache").rglob("*.npy"))


@contextlib.contextmanager
def empty_home(prefix: str, work: Path):
    """GROUNDING_HOME is a new empty folder below ``work`` (so an empty voice cache) for the
    block; the previous one is put back afterwards."""
    home = os.environ["GROUNDING_HOME"]
    os.environ["GROUNDING_HOME"] = tempfile.mkdtemp(prefix=prefix, dir=work)
    try:
        yield
    finally:
        os.environ["GROUNDING_HOME"] = home


class Child:
    """A process spawned with os.environ; its stderr goes to a temporary file read here.
    With ``terminal``, its standard input and output are a pseudo-terminal, as when a user
    types the command (what it shows there is read and dropped)."""

    def __init__(self, argv: list[str], terminal: bool = False):
        self.log = tempfile.TemporaryFile()
        self.master = None
        streams = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL}
        if terminal:
            import pty

            self.master, slave = pty.openpty()
            os.set_blocking(self.master, False)
            streams = {"stdin": slave, "stdout": slave}
        self.t0 = time.time()  # just before the spawn: interpreter start-up is included
        self.proc = subprocess.Popen(argv, stderr=self.log, start_new_session=terminal,
                                     **streams)
        if terminal:
            os.close(slave)
        self.pid, self.code, self.end, self.rusage = self.proc.pid, None, None, None

    def drain(self) -> None:
        """Read what it showed on its terminal, so it never waits for room to write."""
        with contextlib.suppress(OSError):
            while self.master is not None and os.read(self.master, 65536):
                pass

    def text(self) -> str:
        """Its stderr so far (pread: the child's file offset is left alone)."""
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def poll(self) -> int | None:
        """The exit code once it has ended (reaped with wait4, keeping its rusage)."""
        if self.code is None:
            pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                self.end, self.rusage = time.time(), rusage
                self.code = self.proc.returncode = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, seconds: float) -> None:
        """Keep reading what it shows until it ends or ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        while self.poll() is None and time.monotonic() < deadline:
            self.drain()
            time.sleep(0.01)

    def reap(self, timeout: float = 0) -> int:
        """Wait for the exit, with SIGKILL after ``timeout`` seconds (at once by default)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                self.signal(signal.SIGKILL)
            time.sleep(0.01)
        return self.code

    def signal(self, sig: int) -> None:
        """Send ``sig`` to it, unless it has already ended."""
        if self.code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def cpu_and_hwm(self) -> tuple[float | None, float | None]:
        """User+sys CPU seconds so far (all threads) and the VmHWM in MiB, from /proc."""
        cpu = hwm = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{self.pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{self.pid}/status").read_text(),
                              re.M)
            hwm = int(found.group(1)) / 1024 if found else None  # none once it is a zombie
        return cpu, hwm


def interrupted_run(args: list[str], terminal: bool = False) -> tuple[Child, re.Match | None]:
    """Run the CLI until its --debug line reports the first audible block, then Ctrl-C it."""
    child = Child(grounding_argv() + args, terminal)
    try:
        deadline = time.monotonic() + 60
        while not (match := FIRST_AUDIBLE.search(child.text())):
            if child.poll() is not None or time.monotonic() > deadline:
                break
            child.drain()
            time.sleep(0.005)
        child.signal(signal.SIGINT)
        child.wait(10)
    finally:
        child.reap()
        if child.master is not None:
            os.close(child.master)
    return child, match or FIRST_AUDIBLE.search(child.text())
