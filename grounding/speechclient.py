"""The player's side of the speech worker (:mod:`grounding.speechworker`): the process started
with its own temporary folder, asked one JSON line at a time within time limits, and stopped.

Its answers are read from its stdout by a thread of their own into a queue, which the player
waits on with a time limit: this works on every system (``select`` on Windows takes sockets
only, not pipes).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

from grounding import paths
from grounding.errors import SpeechUnavailable

START_SECONDS = 15.0
"""How long the worker may take to start and find its voice."""
CLIP_SECONDS = 20.0
"""How long one clip may take before the worker is considered hung and killed."""
WAIT_SLICE = 0.1
"""The longest single wait for an answer: between two, a Ctrl-C is acted on everywhere."""


class Worker:
    """The speech worker process, spoken to with one JSON line each way, with time limits;
    ``engine`` is ``espeak`` (pyttsx3) or ``natural`` (Piper: :mod:`grounding.natural`)."""

    def __init__(self, start_timeout: float = START_SECONDS, engine: str = "espeak"):
        try:  # its files, and whatever the engine may write, go to our own temporary folder
            env = paths.helper_environ()
            self.stderr = tempfile.TemporaryFile(dir=env[paths.TEMP_ENV])
        except OSError as exc:
            raise SpeechUnavailable(
                f"Speech needs a folder for its working files in the cache, and "
                f"{paths.temp_root()} cannot be made ({exc.strerror or exc}); nothing is "
                "written to the system's temporary folder instead. Make the cache folder "
                "writable, or point GROUNDING_HOME at a writable folder.") from None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grounding.speechworker", str(os.getpid()), engine],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.start_timeout = start_timeout
        self.answers: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read_answers, name="grounding-speech-answers",
                                       daemon=True)
        self.reader.start()

    def _read_answers(self) -> None:
        """Put each line the worker writes in the queue, then b"" once its stdout ends (it
        exited, or was killed)."""
        stdout = self.process.stdout
        try:
            for line in iter(stdout.readline, b""):
                if line.endswith(b"\n"):
                    self.answers.put(line)
        except (OSError, ValueError):
            pass  # closed under it by close(): nobody reads any more
        self.answers.put(b"")

    def ask(self, timeout: float, **request: object) -> dict:
        """Send one request and wait up to ``timeout`` seconds for its answer."""
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.process.stdin.flush()
        except OSError:
            pass  # it has exited; its last answer (if any) is still waiting to be read
        return self.read(timeout)

    def read(self, timeout: float) -> dict:
        """The next answer, or SpeechUnavailable if the worker died or stayed silent."""
        deadline = time.monotonic() + timeout
        while True:  # in slices: Ctrl-C ends no wait on a lock on Windows (cpython #125541)
            try:
                line = self.answers.get(timeout=max(0.0, min(WAIT_SLICE,
                                                             deadline - time.monotonic())))
                break
            except queue.Empty:
                if time.monotonic() >= deadline:
                    self.kill()
                    raise SpeechUnavailable(
                        f"The speech engine took longer than {timeout:g} "
                        f"second{'' if timeout == 1 else 's'} to answer, so it was stopped."
                    ) from None
        if not line:
            self.answers.put(b"")  # for any later read: it stays gone
            self._gone()
        return json.loads(line)

    def _gone(self) -> None:
        code = self.process.wait()
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        raise SpeechUnavailable(gone_message(code, lines[-1].strip() if lines else ""))

    def kill(self) -> None:
        """Stop the worker at once."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Let the worker finish and exit (killed if it does not within 2 seconds)."""
        try:
            self.process.stdin.close()
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        self.reader.join(1.0)  # it has read the end of the worker's stdout by now
        self.process.stdout.close()
        self.stderr.close()


def gone_message(code: int, said: str) -> str:
    """Why the worker ended by itself, from its exit code and the last line it wrote on
    stderr: ended by a signal (killed, perhaps by the system short of memory), its voice data
    missing (libespeak-ng writes ``Error processing file '…/phontab'`` and exits with 1:
    docs/audio-stack.md §1.2), or something else, said as it was."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return (f"The speech engine stopped unexpectedly: something ended it ({name}). "
                "Speech starts afresh next time.")
    said = said.rstrip(".")
    if "espeak-ng-data" in said or said.startswith("Error processing file"):
        hint = (" To repair it: sudo apt install --reinstall espeak-ng-data"
                if sys.platform.startswith("linux") else "")
        return (f"The speech engine stopped unexpectedly: its voice data cannot be read "
                f"({said}).{hint}")
    why = f": {said}" if said else ""
    return (f"The speech engine stopped unexpectedly (exit code {code}{why}). "
            "'grounding doctor' can look for the cause.")
