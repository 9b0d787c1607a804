"""7. Underflows under heavy mixed load: `play resonance` and `bedtime --noise brown` on the
private null sink while the machine does many unrelated things at once, as a working laptop
does.

A purely synthetic load (busy Python processes, measure 6.) made no underflow; the sessions
that ran short did so beside other sound servers, speech synthesis, renders and disk writes.
So the load here is of those kinds: two more private PulseAudio daemons, each playing noise
into a null sink of its own; espeak-ng synthesising in a loop; grounding rendering a session
to nowhere in a loop; and a loop of 4 MiB writes, each fsync'd. Every part is a process of
its own, started here and stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

from child import grounding_argv
from playback import play_to_end
from table import add, fmt_runs, say

KINDS = re.compile(r"debug: underflows: (\d+) with no block rendered in time, (\d+) with the "
                   r"callback late")
SPEECH = ("The quick brown fox jumps over the lazy dog, and then it rests for a while in the "
          "warm grass by the river, listening to the water and the birds. ") * 4
WRITES = """
import os, sys
path = sys.argv[1]
block = os.urandom(4 << 20)
while True:
    with open(path, "wb") as f:
        f.write(block)
        f.flush()
        os.fsync(f.fileno())
    os.unlink(path)
"""


def _loop(command: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A shell running ``command`` again and again, in a process group of its own."""
    return subprocess.Popen(["sh", "-c", f"while :; do {command}; done"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@contextlib.contextmanager
def heavy_mixed_load(work: Path):
    """The load, running for the block, then stopped (each process group by its own id)."""
    import pulse

    daemons, loads = [], []
    try:
        for name in ("load_a", "load_b"):
            daemon = pulse.start_daemon(name)
            daemons.append(daemon)
            loads.append(subprocess.Popen(
                ["pacat", "--playback", "--rate=44100", "--channels=2", "--format=s16le"],
                env=daemon.environ(), stdin=open("/dev/urandom", "rb"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        loads.append(_loop(f"espeak-ng --stdout '{SPEECH}' > /dev/null"))
        render_home = work / "load-home"
        render = " ".join(grounding_argv() + ["breathe", "4-6", "--minutes", "20",
                                              "--no-voice", "--dry-run"])
        loads.append(_loop(f"{render} > /dev/null",
                           env={**os.environ, "GROUNDING_HOME": str(render_home)}))
        loads.append(subprocess.Popen([sys.executable, "-c", WRITES, str(work / "load-writes")],
                                      start_new_session=True))
        time.sleep(2.0)  # every part under way
        yield
    finally:
        for process in loads:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for daemon in daemons:
            daemon.stop()
        (work / "load-writes").unlink(missing_ok=True)


SESSIONS = (("play resonance", ["play", "resonance"], 0.5),
            ("bedtime --noise brown", ["bedtime", "--noise", "brown"], 10))
"""The day session and the night one, each with every layer it has (voice, tones; voice,
tones, bell and noise bed), and the fewest minutes each may be asked for."""


def _seconds(args: list[str]) -> float:
    """How long a session lasts (its dry run's last line: ``Rendered M:SS at ...``); an
    exercise or bedtime may be longer than asked for (each has its shortest length)."""
    done = subprocess.run(grounding_argv() + [*args, "--dry-run"], capture_output=True,
                          text=True, timeout=120)
    found = re.search(r"Rendered (\d+):(\d\d)", done.stdout + done.stderr)
    if not found:
        raise RuntimeError(f"no length from {' '.join(args)}: {done.stderr.strip()[-200:]}")
    return 60 * int(found[1]) + int(found[2])


def measure_under_load(runs: int, seconds: float, work: Path) -> None:
    """``play resonance`` and ``bedtime --noise brown`` for about ``seconds`` each, ``runs``
    times, under the heavy mixed load: underflows (the program's own line at its natural
    end) and peak memory."""
    wanted = round(seconds / 60, 1)
    minutes = {name: max(least, wanted) for name, _, least in SESSIONS}
    asked = {name: [*args, "--minutes", f"{minutes[name]:g}"] for name, args, _ in SESSIONS}
    say("heavy mixed load: " + ", ".join(f"{name} for {minutes[name]:g} min"
                                          for name in asked) + f" × {runs}")
    results: dict[str, list[dict]] = {name: [] for name in asked}
    lasts = {name: _seconds(args) for name, args in asked.items()}
    with heavy_mixed_load(work):
        for _ in range(runs):
            for name, args in asked.items():
                results[name].append(play_to_end([*args, "--device", "pulse", "--debug"], 0,
                                                 limit=lasts[name] + 130))
    for name in asked:
        under = [r["underflows"] for r in results[name]]
        kinds = [KINDS.search(r["said"]) for r in results[name]]
        split = ", ".join(f"{k[1]}+{k[2]}" if k else "?" for k in kinds)
        peak = [r["peak"] for r in results[name]]
        add(f"7. underflows, {name} (heavy mixed load)", f"{median(under):g}", "0 (10 min)",
            ("PASS" if median(under) == 0 else "MISS") + ("*" if minutes[name] < 10 else ""),
            f"{lasts[name] / 60:.1f} min beside two other PulseAudio daemons playing, espeak-ng, a "
            f"render and fsync'd writes in loops; runs {fmt_runs(under)} (no block rendered "
            f"in time + callback late: {split})")
        add(f"3. peak memory, {name} (heavy mixed load, VmHWM)", f"{median(peak):.1f} MiB",
            "≤ 80 MiB", median(peak) <= 80, f"runs {fmt_runs(peak, ' MiB', 1)}")
