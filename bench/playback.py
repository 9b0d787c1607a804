"""6. Playback CPU and underflows, and 3. peak memory while playing, on the private PulseAudio
null sink."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

from child import FIRST_AUDIBLE, Child, empty_home, grounding_argv, interrupted_run
from table import add, fmt_runs, say

UNDERFLOWS = re.compile(r"The sound card ran short of audio (\d+) time")

PLAYBACK_TOML = """\
title = "Bench playback"
summary = "A spoken line, paced breathing with cues and a line, a closing line."
minutes = {minutes}
tags = ["breathing"]
holds = false
source = "bench/playback.py"
step = [
  {{ speak = "Let us breathe slowly together for a while.", after = 0.5 }},
  {{ breathe = "4-6", cycles = {cycles}, cues = "words", cue_cycles = 1, lines = [
    "Soft and ordinary-sized breaths are enough."] }},
  {{ speak = "That is all.", after = 0.3 }},
]
"""


def play_to_end(args: list[str], busy: int, limit: float) -> dict:
    """Play to the natural end, reading /proc every 0.1 s: CPU from the first audible block
    to the end, and the last VmHWM read (a high-water mark, so the peak)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(busy)]
    try:
        time.sleep(0.5 if spinners else 0)
        child = Child(grounding_argv() + args)
        first = last = peak = None  # first, last: (time, CPU seconds)
        try:
            deadline = time.monotonic() + limit
            while child.poll() is None:
                now, (cpu, hwm) = time.time(), child.cpu_and_hwm()
                peak = hwm or peak
                if cpu is not None:
                    last = (now, cpu)
                    first = first or (last if FIRST_AUDIBLE.search(child.text()) else None)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"playback still running after {limit:.0f} s")
                time.sleep(0.1)
        finally:
            child.reap()
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    if child.code != 0 or first is None or peak is None:
        raise RuntimeError(f"playback exited with {child.code} (first audible seen: "
                           f"{first is not None}): {child.text()[-300:]}")
    under = UNDERFLOWS.search(child.text())
    wall = child.end - child.t0
    return {"wall": wall, "share": 100 * (last[1] - first[1]) / (last[0] - first[0]),
            "window": last[0] - first[0], "peak": peak,
            "overall": 100 * (child.rusage.ru_utime + child.rusage.ru_stime) / wall,
            "underflows": int(under.group(1)) if under else 0, "said": child.text()}


def measure_playback(seconds: float, work: Path) -> None:
    """About ``seconds`` of breathing with spoken lines played to the end, on an idle machine
    and with every core kept busy: CPU, underflows and peak memory."""
    cycles = max(1, round(seconds / 10))
    toml = work / "bench-playback.toml"
    toml.write_text(PLAYBACK_TOML.format(minutes=max(0.5, round(cycles / 6, 2)), cycles=cycles))
    args = ["play", str(toml), "--device", "pulse", "--debug"]
    say(f"playback: warm-up, then {cycles * 10} s of breathing idle and with every core busy")
    interrupted_run(args)  # warms the cache at the device's rate
    for busy in (0, os.cpu_count() or 2):
        r = play_to_end(args, busy, limit=cycles * 10 + 130)
        load = f"{busy} cores kept busy" if busy else "idle machine"
        add(f"6. playback CPU ({load})", f"{r['share']:.2f} % of a core", "≤ 2 %",
            r["share"] <= 2, f"while playing {r['window']:.1f} s; whole process incl. "
            f"start-up {r['overall']:.2f} % of {r['wall']:.1f} s")
        short = "*" if busy and r["wall"] < 600 else ""  # the target names 10 minutes
        add(f"6. underflows ({load})", f"{r['underflows']}",
            "0 (10 min, cores busy)" if busy else "0",
            ("PASS" if r["underflows"] == 0 else "MISS") + short,
            f"over {r['wall']:.0f} s; the program's own line at its natural end")
        add(f"3. peak memory, playback ({load}, {r['wall']:.0f} s, VmHWM)",
            f"{r['peak']:.1f} MiB", "≤ 80 MiB", r["peak"] <= 80,
            "" if busy else "/proc/PID/status read every 0.1 s while it ran; the last value read")


def measure_bedtime_playback(runs: int, seconds: float, work: Path) -> None:
    """``grounding bedtime --minutes 45 --noise brown`` playing for ``seconds``, then SIGTERM:
    the peak memory of the longest bedtime with every layer, first with an empty voice cache
    (its clips are made while it plays) and then warm. Its memory is set by then (the speech
    is all loaded and the render's working set does not grow with time: see 3. above)."""
    say(f"bedtime playback memory: 45 min with noise, {seconds:.0f} s each, cold and warm "
        f"× {runs}")
    args = ["bedtime", "--minutes", "45", "--noise", "brown", "--device", "pulse", "--debug"]
    peaks: dict[str, list[float]] = {"cold": [], "warm": []}
    for i in range(runs):
        with empty_home(f"bed{i}-", work):
            for state in ("cold", "warm"):
                child, peak = Child(grounding_argv() + args), None
                try:
                    deadline = time.monotonic() + seconds
                    while child.poll() is None and time.monotonic() < deadline:
                        peak = child.cpu_and_hwm()[1] or peak
                        child.drain()
                        time.sleep(0.1)
                    child.signal(signal.SIGTERM)
                    child.reap(10)
                finally:
                    child.reap()
                if child.code != 143 or peak is None or not FIRST_AUDIBLE.search(child.text()):
                    raise RuntimeError(f"bedtime exited with {child.code}: "
                                       f"{child.text()[-300:]}")
                peaks[state].append(peak)
    for state in ("cold", "warm"):
        m = median(peaks[state])
        add(f"3. peak memory, playback (45-min bedtime with noise, {state} voice cache)",
            f"{m:.1f} MiB", "≤ 80 MiB", m <= 80,
            f"VmHWM after {seconds:.0f} s, then SIGTERM; runs {fmt_runs(peaks[state], ' MiB', 1)}")
