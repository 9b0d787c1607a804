"""Shared test helpers: real-part requirements, running the program, and signal analysis."""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def require(available: bool, what: str) -> None:
    """Skip when a real part is missing, but fail under CI=true (where it must be present)."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but is not available.")
    pytest.skip(f"{what} is not available")  # outside CI only: CI=true fails above


def espeak_available() -> bool:
    """Whether libespeak-ng (what pyttsx3's espeak driver loads) is installed."""
    return ctypes.util.find_library("espeak-ng") is not None or \
        ctypes.util.find_library("espeak") is not None


def require_espeak() -> None:
    """Skip or fail (under CI) without espeak-ng."""
    require(espeak_available(), "espeak-ng (libespeak-ng1)")


def require_espeak_cli() -> str:
    """The espeak-ng command, used as an independent oracle for clip lengths."""
    path = shutil.which("espeak-ng")
    require(path is not None, "the espeak-ng command")
    return path


def run(args: list[str], home: Path, env: dict | None = None, timeout: float = 120,
        prefix: list[str] = (), **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m grounding ARGS`` with GROUNDING_HOME=home; capture text output."""
    full = {**os.environ, "GROUNDING_HOME": str(home), **(env or {})}
    return subprocess.run([*prefix, sys.executable, "-m", "grounding", *args], capture_output=True,
                          text=True, env=full, timeout=timeout, cwd=kwargs.pop("cwd", ROOT),
                          **kwargs)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float64 samples in [-1, 1] and the rate of a 16-bit WAV file."""
    with wave.open(str(path)) as f:
        assert f.getsampwidth() == 2
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64)
        channels, rate = f.getnchannels(), f.getframerate()
    return data.reshape(-1, channels).mean(axis=1) / 32768.0, rate


def pitch(samples: np.ndarray, rate: int, lo: float = 100.0, hi: float = 600.0) -> float:
    """The strongest frequency between lo and hi Hz (Hann window, zero-padded FFT, with
    parabolic interpolation of the peak bin)."""
    n = 1 << 18
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = np.nonzero((freqs >= lo) & (freqs <= hi))[0]
    k = band[np.argmax(spectrum[band])]
    a, b, c = np.log(spectrum[k - 1: k + 2] + 1e-30)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + offset) * rate / n)


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dBFS (-inf for silence)."""
    power = float(np.mean(np.square(samples))) if len(samples) else 0.0
    return 10 * np.log10(power) if power > 0 else -np.inf


def library_file(name: str) -> Path | None:
    """The real file behind a shared library name (``portaudio``, ``espeak-ng``)."""
    found = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in found.splitlines():
        if line.strip().startswith(f"lib{name}.so") and "=>" in line:
            return Path(line.split("=>")[1].strip()).resolve()
    return None


def without_library(name: str) -> list[str]:
    """A command prefix that runs a program with a system library made unloadable, for real:
    a private mount namespace with /dev/null bound over the library file (needs root)."""
    path = library_file(name)
    usable = (path is not None and shutil.which("unshare") is not None and os.geteuid() == 0
              and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0)
    require(usable, f"root and unshare, to hide lib{name} from a test run")
    return ["unshare", "-m", "sh", "-c", f'mount --bind /dev/null "{path}" && exec "$@"', "sh"]


def read_only(folder) -> list[str]:
    """A command prefix that runs a program with ``folder`` on a read-only mount, for real: a
    private mount namespace (needs root, which file permissions would not stop)."""
    usable = (shutil.which("unshare") is not None and os.geteuid() == 0
              and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0)
    require(usable, "root and unshare, to make a folder read-only for a test run")
    return ["unshare", "-m", "sh", "-c",
            'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', str(folder)]


def speech_workers(parent: int) -> list[int]:
    """The speech worker processes that process ``parent`` started (pgrep)."""
    found = subprocess.run(["pgrep", "-P", str(parent), "-f", "grounding.speechworker"],
                           capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def seen_notice(home: Path) -> Path:
    """A user folder whose first-run notice has been shown already."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "first-run-done").touch()
    return home


NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
                "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
                "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def said_seconds(text: str) -> float:
    """The length a line says in words ("about two and a half minutes", "about a minute and a
    half", "about forty seconds"), in seconds; fails the test if it says none."""
    found = re.search(r"about (?:([a-z]+)(?:-([a-z]+))?|(\d+))( and a half)? (minutes?|seconds)"
                      r"( and a half)?", text)
    assert found, f"no length said in {text!r}"
    tens, ones, figures, half, unit, half_after = found.groups()
    value = int(figures) if figures else NUMBER_WORDS[tens] + NUMBER_WORDS.get(ones, 0)
    value += 0.5 if (half or half_after) else 0
    return value * (60 if unit.startswith("minute") else 1)


_KILLED_MID_WRITE = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute(sys.argv[3])
db.execute("pragma journal_mode = " + sys.argv[2])
db.execute("begin immediate")
db.execute(sys.argv[4])
if sys.argv[2] == "wal":
    db.execute("commit")
os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, or with the WAL not yet checkpointed
"""


def journals_left_beside(db: Path, schema: str, insert: str) -> None:
    """Beside the SQLite file ``db``, what real SQLite processes killed mid-write leave: a hot
    rollback journal, and (made on a second file, as one file cannot hold both kinds at once)
    a write-ahead log and its shared memory. ``schema`` makes the table ``insert`` writes."""
    other = db.with_name("other.db")
    for target, mode in ((db, "delete"), (other, "wal")):
        subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(target), mode, schema,
                        insert], cwd=ROOT)
    for suffix in ("-wal", "-shm"):
        other.with_name(other.name + suffix).rename(db.with_name(db.name + suffix))
    other.unlink()


def killed_writers(code: str, home: Path, db: Path, times: int = 5) -> Iterator[int]:
    """Start ``code``, Python that writes to the SQLite file ``db`` in a loop and prints a
    count after each write, and SIGKILL it mid-write; ``times`` times, each a little later.
    After each kill the file passes SQLite's integrity check; the count the writer printed
    last is yielded, for the caller to check what was kept."""
    import signal
    import sqlite3
    import time

    for attempt in range(times):
        writer = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                                  env={**os.environ, "GROUNDING_HOME": str(home)},
                                  stdout=subprocess.PIPE, text=True)
        for _ in range(20 + 7 * attempt):
            written = int(writer.stdout.readline())
        time.sleep(0.003 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        found = sqlite3.connect(db)
        assert found.execute("pragma integrity_check").fetchone() == ("ok",)
        found.close()
        yield written
