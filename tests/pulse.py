"""A private PulseAudio daemon with one null sink, and a recorder on its monitor.

The commands are the ones in docs/audio-stack.md §7.2: the daemon gets its own runtime folder,
socket, pid file, state and cookie, so it never meets another daemon on the machine (a shared
sink picked up other processes' sound, §7.1); the sink is loaded with ``norewinds=1`` because
the default one drops the first 100 ms of a new stream from its monitor (§7.1).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLERATE = 48000
"""The null sink's rate, and the rate the tests render and record at, Hz."""
TOOLS = ("pulseaudio", "pactl", "parecord")
"""Programs the device tests need (Debian: pulseaudio, pulseaudio-utils)."""


def missing_tools() -> list[str]:
    """The programs in ``TOOLS`` that are not on PATH."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@dataclass
class PulseDaemon:
    """A running private daemon: its folder, its null sink, and the environment that reaches it."""

    folder: Path
    sink: str
    pid: int

    @property
    def env(self) -> dict[str, str]:
        """Variables that send every libpulse client (pactl, parecord, ALSA's ``pulse`` PCM that
        PortAudio opens) to this daemon and its sink, and nowhere else."""
        return {
            "PULSE_RUNTIME_PATH": str(self.folder),
            "PULSE_STATE_PATH": str(self.folder / "state"),
            "PULSE_SERVER": f"unix:{self.folder / 'native'}",
            "PULSE_SINK": self.sink,
            "PULSE_SOURCE": f"{self.sink}.monitor",
            # Clients would otherwise read or create ~/.config/pulse/cookie.
            "PULSE_COOKIE": str(self.folder / "cookie"),
        }

    def environ(self, **extra: str) -> dict[str, str]:
        """``os.environ`` with this daemon's variables and ``extra`` on top."""
        return {**os.environ, **self.env, **extra}

    def pactl(self, *args: str) -> str:
        """Output of ``pactl ARGS`` against this daemon."""
        done = subprocess.run(["pactl", *args], env=self.environ(), capture_output=True,
                              text=True, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def log(self) -> str:
        """The daemon's log so far (for failure messages)."""
        path = self.folder / "log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def kill(self) -> None:
        """Kill this daemon only (SIGKILL, as a crash would), keeping its folder and socket
        path, so that :func:`start_daemon` can start it again in the same place."""
        if _is_our_daemon(self.pid, self.folder):
            os.kill(self.pid, signal.SIGKILL)
            _wait_gone(self.pid, 5.0)

    def stop(self) -> None:
        """Stop this daemon only (the pid from its own pid file) and remove its folder."""
        try:
            if _is_our_daemon(self.pid, self.folder):
                os.kill(self.pid, signal.SIGTERM)
                _wait_gone(self.pid, 5.0)
                if _is_our_daemon(self.pid, self.folder):
                    os.kill(self.pid, signal.SIGKILL)
                    _wait_gone(self.pid, 2.0)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_daemon(sink: str = "grounding_test", folder: Path | None = None) -> PulseDaemon:
    """Start a private daemon with one ``sink`` (stereo, 48 kHz) and wait until it answers;
    in ``folder`` (on the socket there) if given, as after :meth:`PulseDaemon.kill`, else in a
    new one."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="grounding-pulse-"))
        (folder / "state").mkdir()
    env = {**os.environ, **PulseDaemon(folder, sink, 0).env}
    command = [
        "pulseaudio", "--daemonize=yes", "--system=no", "--disallow-exit", "--exit-idle-time=-1",
        "-n", "--use-pid-file=yes", f"--log-target=file:{folder / 'log'}",
        f"--load=module-native-protocol-unix socket={folder / 'native'} auth-anonymous=1 "
        f"auth-cookie={folder / 'cookie'}",
        f"--load=module-null-sink sink_name={sink} rate={SAMPLERATE} channels=2 norewinds=1",
    ]
    try:
        started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=20)
        if started.returncode != 0:
            raise RuntimeError(f"pulseaudio did not start (exit {started.returncode}): "
                               f"{started.stderr.strip()} {_read(folder / 'log')}")
        pid = int(_read(folder / "pid").strip() or 0)
        daemon = PulseDaemon(folder, sink, pid)
        deadline = time.monotonic() + 5.0
        while True:
            ok = subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=5)
            if ok.returncode == 0:
                return daemon
            if time.monotonic() > deadline:
                log = daemon.log()
                daemon.stop()
                raise RuntimeError(f"the private pulseaudio never answered; its log: {log}")
            time.sleep(0.1)
    except BaseException:
        if folder.exists():
            _stop_by_pid_file(folder)
        raise


class Recorder:
    """``parecord`` on the sink's monitor, writing a 16-bit mono WAV at 48 kHz.

    ``start()`` returns only when the daemon lists this recorder among its source outputs, so
    nothing played afterwards is missed (docs/audio-stack.md §7.2); ``stop()`` sends SIGINT,
    which makes parecord finish the WAV header, and returns the samples.
    """

    def __init__(self, daemon: PulseDaemon, path: Path):
        self.daemon = daemon
        self.path = Path(path)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop_quietly()

    def start(self) -> Recorder:
        """Start recording and wait until the recorder is attached to the monitor."""
        self.process = subprocess.Popen(
            ["parecord", f"--device={self.daemon.sink}.monitor", "--file-format=wav",
             "--format=s16le", f"--rate={SAMPLERATE}", "--channels=1", str(self.path)],
            env=self.daemon.environ(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mark = f'application.process.id = "{self.process.pid}"'
        deadline = time.monotonic() + 5.0
        while mark not in self.daemon.pactl("list", "source-outputs"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self.process.stderr.read().decode(errors="replace") \
                    if self.process.poll() is not None else "still not attached after 5 s"
                self.stop_quietly()
                raise RuntimeError(f"parecord did not attach to {self.daemon.sink}.monitor: "
                                   f"{error.strip()}")
            time.sleep(0.05)
        return self

    def stop(self) -> np.ndarray:
        """Stop recording (SIGINT, so the header is finalised) and return the samples."""
        from support import read_wav  # imports pytest, which bench/run.py goes without

        if not self._end():
            raise RuntimeError("parecord did not stop on SIGINT within 5 s")
        samples, samplerate = read_wav(self.path)
        if samplerate != SAMPLERATE:
            raise RuntimeError(f"parecord wrote {samplerate} Hz, not {SAMPLERATE} Hz")
        return samples

    def stop_quietly(self) -> None:
        """Stop the recorder if it is still running, ignoring what it recorded."""
        self._end()

    def _end(self) -> bool:
        """SIGINT, and wait; kill after 5 s. Whether parecord ended on its own."""
        if self.process is None:
            return True
        self.process.send_signal(signal.SIGINT)  # a no-op once it has exited
        try:
            self.process.communicate(timeout=5)
            return True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return False


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _is_our_daemon(pid: int, folder: Path) -> bool:
    """Whether ``pid`` is still a live pulseaudio started with ``folder`` (not a reused pid)."""
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return Path("/proc/self").exists() is False  # no procfs: trust our own pid file
    except OSError:
        return False
    return "pulseaudio" in cmdline and str(folder) in cmdline


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process that init has not reaped yet does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _stop_by_pid_file(folder: Path) -> None:
    """Clean up after a start that failed half-way: stop whatever daemon wrote its pid here."""
    try:
        pid = int(_read(folder / "pid").strip() or 0)
    except ValueError:
        pid = 0
    PulseDaemon(folder, "", pid).stop()
