"""1. Start-up to the first audible block, and (--breakdown) where the imports of the command
line go."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from statistics import median

from child import clip_count, interrupted_run
from table import DETAILS, add, fmt_runs, say


def measure_startup(label: str, args: list[str], runs: int, terminal: bool = False,
                    cold: bool = False) -> None:
    """Spawn the CLI, read its --debug line, Ctrl-C (SIGINT) as soon as the line is there.
    ``terminal``: on a pseudo-terminal (the interactive pause); ``cold``: with no voice cache
    at all before each run (nothing ever synthesised), instead of a warm one."""
    say(f"start-up: {label}: 1 warm-up run + {runs} measured runs")
    cache = Path(os.environ["GROUNDING_HOME"]) / "cache"
    latencies, own, codes = [], [], set()
    for i in range(runs + 1):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        before = clip_count()
        child, match = interrupted_run(args + ["--device", "pulse", "--debug"], terminal)
        if not match:
            raise RuntimeError(f"no first-audible line (exit {child.code}): "
                               f"{child.text()[-300:]}")
        if i == 0:
            continue  # warm-up: fills the voice cache at the device's rate
        if clip_count() > before and not cold:
            say(f"  run {i}: clips were synthesised: the cache was not warm")
        latencies.append(1000 * (float(match.group(2)) - child.t0))
        own.append(float(match.group(1)))
        codes.add(child.code)
    m = median(latencies)
    target, ok = ("(works; no target)", "") if cold else ("≤ 250 ms (pause)", m <= 250)
    add(f"1. start-up to first audible block: {label}", f"{m:.0f} ms", target, ok,
        f"median of {runs}: {fmt_runs(latencies, ' ms')}; {median(own):.0f} ms of it "
        f"after the command line loaded (the program's own figure); exit code after Ctrl-C: "
        f"{', '.join(map(str, sorted(codes)))}")


def import_breakdown(runs: int, top: int = 8) -> None:
    """``python -X importtime -m grounding --help``: medians of the largest import costs."""
    argv = [sys.executable, "-X", "importtime", "-m", "grounding", "--help"]
    say(f"import breakdown: {' '.join(argv[1:])}: 1 warm-up run + {runs} measured runs")
    line = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$", re.M)
    costs, totals = defaultdict(list), []  # (depth, module) -> [(self µs, cumulative µs)]
    for i in range(runs + 1):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"exit {out.returncode}: {out.stderr[-300:]}")
        found = [(int(s), int(c), (len(pad) - 1) // 2, name)
                 for s, c, pad, name in line.findall(out.stderr)]
        if i:
            for s, c, depth, name in found:
                costs[(depth, name)].append((s, c))
            totals.append(sum(c for _, c, depth, _ in found if depth == 0) / 1000)
    DETAILS.append(
        f"Import costs of `python -X importtime -m grounding --help` (median of {runs}; not in "
        f"the table): all imports {median(totals):.0f} ms.\n`--help` loads the command line "
        "only: numpy, sounddevice and the rest of playback are imported after it is parsed.\n"
        f"The {top} largest, cumulative (self), nested as Python reports them:")
    for (depth, name), values in sorted(costs.items(),
                                        key=lambda kv: -median(c for _, c in kv[1]))[:top]:
        DETAILS.append(f"  {median(c for _, c in values) / 1000:6.1f} ms "
                       f"({median(s for s, _ in values) / 1000:4.1f})  {'  ' * depth}{name}")
