#!/usr/bin/env python3
"""Benchmark grounding against the Performance table of PRODUCT.md.

    python bench/run.py [--quick] [--runs N] [--playback-seconds S] [--breakdown]

Every measured process is the console script a user runs (``grounding ...``), unmodified:
what is timed comes from outside it (/proc, wait4) or from the program's own lines (``--debug``,
underflows). The in-process measures call grounding's public functions. GROUNDING_HOME is a
temporary folder; sound goes to a private PulseAudio null sink that this script starts and
always stops. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.find_spec("grounding")
INSTALLED = _spec is not None and Path(_spec.origin).resolve().parent == REPO / "grounding"
if not INSTALLED:  # measure this checkout (children get it through PYTHONPATH, in main())
    sys.path.insert(0, str(REPO))

FILE_RATE = 48000
PATTERN = "4-6"
SINK = "bench_sink"
FIRST_AUDIBLE = re.compile(r"debug: first audible block handed to the device (\d+) ms after "
                           r"the command line loaded \(epoch (\d+\.\d+)\)")
UNDERFLOWS = re.compile(r"The sound card ran short of audio (\d+) time")
ROWS: list[tuple[str, str, str, str, str]] = []  # measure, result, target, verdict, note
DETAILS: list[str] = []  # printed after the table

# Render memory: Linux carries the RSS high-water mark a process had before exec() into its
# ru_maxrss, so a child of this (large) benchmark would report the benchmark's own memory.
# This small launcher (python -S, a few MiB) forks, execs the console script unchanged and
# reports the child's wall time and rusage from wait4.
LAUNCHER = r"""
import json, os, sys, time
t0 = time.time()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    json.dump({"wall": time.time() - t0, "maxrss_kib": ru.ru_maxrss, "code": code}, f)
"""

PLAYBACK_TOML = """\
title = "Bench playback"
summary = "A spoken line, paced breathing with cues and a line, a closing line."
minutes = {minutes}
tags = ["breathing"]
holds = false
source = "bench/run.py"
step = [
  {{ speak = "Let us breathe slowly together for a while.", after = 0.5 }},
  {{ breathe = "4-6", cycles = {cycles}, cues = "words", cue_cycles = 1, lines = [
    "Soft and ordinary-sized breaths are enough."] }},
  {{ speak = "That is all.", after = 0.3 }},
]
"""


def say(text: str) -> None:
    """Progress, on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def add(measure: str, result: str, target="", ok: bool | str = "", note="") -> None:
    """A row of the table; a bool ``ok`` becomes PASS or MISS."""
    ROWS.append((measure, result, target, ("PASS" if ok else "MISS") if ok in (True, False)
                 else ok, note))


def attempt(measure: str, fn, *args):
    """Run one measure; an exception becomes an ERROR row and the bench goes on."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - report and go on
        add(measure, "not measured", "", "ERROR", f"{type(exc).__name__}: {exc}"[:200])


def fmt_runs(values, unit="", digits=0) -> str:
    return ", ".join(f"{v:.{digits}f}{unit}" for v in values)


def grounding_argv() -> list[str]:
    """The console script the user runs, next to this interpreter (or ``python -m``)."""
    script = Path(sys.executable).parent / "grounding"
    return [str(script)] if os.access(script, os.X_OK) else [sys.executable, "-m", "grounding"]


def clip_count() -> int:
    return sum(1 for _ in (Path(os.environ["GROUNDING_HOME"]) / "cache").rglob("*.npy"))


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

    def text(self) -> str:  # pread: the child's file offset is left alone
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

    def reap(self, timeout: float = 0) -> int:
        """Wait for the exit, with SIGKILL after ``timeout`` seconds (at once by default)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                self.signal(signal.SIGKILL)
            time.sleep(0.01)
        return self.code

    def signal(self, sig: int) -> None:
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
        deadline = time.monotonic() + 10
        while child.poll() is None and time.monotonic() < deadline:
            child.drain()
            time.sleep(0.01)
    finally:
        child.reap()
        if child.master is not None:
            os.close(child.master)
    return child, match or FIRST_AUDIBLE.search(child.text())


@contextlib.contextmanager
def private_pulse():
    """A PulseAudio daemon of our own with a null sink (research/TECH.md §7.2); yields None,
    or why it cannot start. Its PULSE_* settings are in os.environ for the block, so every
    child talks to it and to nothing else (autospawn off). It is always stopped."""
    runtime = Path(tempfile.mkdtemp(prefix="grounding-bench-pulse-"))
    (runtime / "state").mkdir()
    (runtime / "client.conf").write_text("autospawn = no\n")
    settings = {"PULSE_RUNTIME_PATH": str(runtime), "PULSE_STATE_PATH": str(runtime / "state"),
                "PULSE_SERVER": f"unix:{runtime}/native", "PULSE_SINK": SINK,
                "PULSE_SOURCE": f"{SINK}.monitor",
                "PULSE_CLIENTCONFIG": str(runtime / "client.conf")}
    os.environ.update(settings)
    try:
        try:
            subprocess.run(
                ["pulseaudio", "--daemonize=yes", "--system=no", "--disallow-exit",
                 "--exit-idle-time=-1", "-n", "--use-pid-file=yes",
                 f"--log-target=file:{runtime}/log",
                 f"--load=module-native-protocol-unix socket={runtime}/native auth-anonymous=1",
                 f"--load=module-null-sink sink_name={SINK} rate=48000 channels=2 norewinds=1"],
                check=True, capture_output=True, timeout=20)
            for _ in range(100):
                if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                raise OSError("it did not answer")
        except (OSError, subprocess.SubprocessError) as exc:
            yield f"the private PulseAudio daemon could not start: {exc}"
        else:
            yield None
    finally:
        with contextlib.suppress(OSError, ValueError, IndexError, ProcessLookupError):
            pid = int((runtime / "pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
            if "pulseaudio" in cmdline and str(runtime) in cmdline:  # ours and only ours
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.1)
                else:
                    os.kill(pid, signal.SIGKILL)
        for key in settings:
            del os.environ[key]
        shutil.rmtree(runtime, ignore_errors=True)


# 1. start-up, and (--breakdown) where the imports of the command line go ---------------------

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


# 2 + 3. renders to a file (CLI, end to end) and in-process -----------------------------------

def breathe_script(minutes: float):
    from grounding.breath import parse_pattern
    from grounding.player import breathing_script
    from grounding.script import cycles_for

    pattern = parse_pattern(PATTERN)
    return breathing_script(pattern, cycles_for(pattern, minutes))


def launched_renders(label: str, argvs: dict, runs: dict, folder: Path) -> dict:
    """Each ``argvs[key]`` (a grounding command line with ``--out OUT``) ``runs[key]`` times
    from the launcher: key -> [(wall s, session s, max RSS MiB)]. A run in which clips were
    synthesised is discarded (and made up)."""
    out, report = folder / "bench.wav", folder / "launch.json"
    done = {key: [] for key in argvs}
    for key, args in argvs.items():
        for _ in range(runs[key] + 2):
            if len(done[key]) == runs[key]:
                break
            before = clip_count()
            child = Child([sys.executable, "-S", "-c", LAUNCHER, str(report)] + grounding_argv()
                          + [str(out) if a == "OUT" else a for a in args])
            child.reap(600)
            launch = json.loads(report.read_text())
            if launch["code"] != 0 or not out.is_file():
                raise RuntimeError(f"exit {launch['code']}: {child.text()[-300:]}")
            with wave.open(str(out)) as w:
                seconds = w.getnframes() / w.getframerate()
            out.unlink()
            if clip_count() > before:
                say(f"  {label} {key}: clips were synthesised; run discarded")
            else:
                done[key].append((launch["wall"], seconds, launch["maxrss_kib"] / 1024))
    return done


def measure_cli_renders(runs_long: int, runs_short: int, folder: Path) -> None:
    """``grounding breathe 4-6 --minutes M --out F.wav`` from the launcher (wall, max RSS)."""
    from grounding.speech import Pyttsx3Voice

    say(f"render to WAV: 60 minutes × {runs_long}, 5 minutes × {runs_short}")
    for minutes in (5, 60):  # the spoken lines into the cache at the file's rate
        Pyttsx3Voice().clips(breathe_script(minutes).texts(), FILE_RATE)
    done = launched_renders("breathe", {
        m: ["breathe", PATTERN, "--minutes", str(m), "--out", "OUT"] for m in (5, 60)},
        {5: runs_short, 60: runs_long}, folder)
    walls = [w for w, _, _ in done[60]]
    session = done[60][0][1]
    speed = session / median(walls)
    add("2. render 60-min breathe 4-6 to WAV (CLI, end to end)", f"{speed:.0f}× real time",
        "≥ 1000×", speed >= 1000, f"{session / 60:.1f} min of audio; wall "
        f"{fmt_runs(walls, ' s', 2)}")
    rss = {m: [r for _, _, r in done[m]] for m in done}
    rss60, rss5 = median(rss[60]), median(rss[5])
    add("3. peak memory, 60-min render to WAV (max RSS)", f"{rss60:.1f} MiB", "≤ 80 MiB",
        rss60 <= 80, f"runs: {fmt_runs(rss[60], ' MiB', 1)}")
    add("3. peak memory, 5-min render to WAV (max RSS)", f"{rss5:.1f} MiB",
        note=f"runs: {fmt_runs(rss[5], ' MiB', 1)}")
    add("3. peak memory, 60-min minus 5-min", f"{rss60 - rss5:+.1f} MiB", "≤ 5 MiB",
        abs(rss60 - rss5) <= 5)


def measure_bedtime_renders(runs: int, folder: Path) -> None:
    """``grounding bedtime --minutes 45 --noise brown --out F.wav`` against 10 minutes, from the
    launcher: the longest bedtime, with every layer, is held to the same memory bound."""
    say(f"bedtime render to WAV: 45 and 10 minutes with a noise bed × {runs}")
    argvs = {m: ["bedtime", "--minutes", str(m), "--noise", "brown", "--out", "OUT"]
             for m in (10, 45)}
    launched_renders("bedtime", {10: argvs[10]}, {10: 1}, folder)  # voices it once
    done = launched_renders("bedtime", argvs, {10: runs, 45: runs}, folder)
    walls = [w for w, _, _ in done[45]]
    session = done[45][0][1]
    rss = {m: median(r for _, _, r in done[m]) for m in done}
    add("2. render 45-min bedtime with noise to WAV (CLI)", f"{session / median(walls):.0f}× "
        "real time", "", "", f"{session / 60:.1f} min of audio; wall {fmt_runs(walls, ' s', 2)}")
    add("3. peak memory, 45-min bedtime with noise (max RSS)", f"{rss[45]:.1f} MiB",
        "≤ 80 MiB", rss[45] <= 80, f"10 minutes: {rss[10]:.1f} MiB")
    add("3. peak memory, bedtime 45-min minus 10-min", f"{rss[45] - rss[10]:+.1f} MiB",
        "≤ 5 MiB", abs(rss[45] - rss[10]) <= 5)


def measure_inprocess_render(runs: int, keep_seconds: float = 90):
    """The render alone into a NullSink; the first run also keeps the last ``keep_seconds``."""
    import numpy as np

    from grounding.palette import load_palette
    from grounding.player import prepare
    from grounding.render import Mix, render
    from grounding.sinks import NullSink
    from grounding.speech import Pyttsx3Voice

    say(f"in-process render of 60 minutes × {runs}")
    script, palette = breathe_script(60), load_palette("day")
    timeline = prepare(script, Pyttsx3Voice(), palette, FILE_RATE, say)
    keep_from = max(0, timeline.frames - round(keep_seconds * timeline.samplerate))
    kept: list = []

    def tap(blocks):
        position = 0
        for block in blocks:
            if position + len(block) > keep_from:
                kept.append((position, block[:, 0].copy()))
            position += len(block)
            yield block

    times, digests = [], set()
    for i in range(runs):
        blocks = render(timeline, palette, Mix(), NullSink.blocksize)
        start = time.perf_counter()
        report = NullSink(timeline.samplerate).play(tap(blocks) if i == 0 else blocks)
        times.append(time.perf_counter() - start)
        digests.add(report.sha256)
        if report.frames != timeline.frames:
            raise RuntimeError(f"rendered {report.frames} frames, timeline has {timeline.frames}")
    speed = timeline.seconds / median(times)
    add("2. render 60-min breathe 4-6, in-process into NullSink", f"{speed:.0f}× real time",
        "≥ 1000×", speed >= 1000, f"blocksize {NullSink.blocksize}; {fmt_runs(times, ' s', 2)}; "
        f"{'same sha256 every run' if len(digests) == 1 else 'sha256 DIFFERS between runs'}")
    audio = np.concatenate([b for _, b in kept]).astype(np.float64)
    return script, palette, timeline, kept[0][0], audio


# 4. cold voice cache ---------------------------------------------------------------------------

def measure_cold_speech(runs: int, work: Path) -> None:
    """All clips of the longest bundled exercise, each run into an empty cache."""
    from grounding.scriptfile import load_script
    from grounding.speech import Pyttsx3Voice

    script = max(map(load_script, (REPO / "scripts").glob("*.toml")),
                 key=lambda s: s.minutes, default=None) or breathe_script(10)
    texts = script.texts()
    say(f"cold speech cache: '{script.name}' ({len(texts)} texts) × {runs}")
    home = os.environ["GROUNDING_HOME"]
    times, counts, speech = [], set(), 0.0
    try:
        for i in range(runs):
            os.environ["GROUNDING_HOME"] = tempfile.mkdtemp(prefix=f"cold{i}-", dir=work)
            voice = Pyttsx3Voice()
            start = time.perf_counter()
            clips = voice.clips(texts, FILE_RATE)
            times.append(time.perf_counter() - start)
            counts.add((len(clips), voice.synthesised))
            speech = sum(len(c) for c in clips.values()) / FILE_RATE
    finally:
        os.environ["GROUNDING_HOME"] = home
    m = median(times)
    clips, made = min(counts)
    add(f"4. cold voice cache: all clips of '{script.name}' ({script.minutes:g} min)",
        f"{m:.2f} s", "≤ 2 s (10-min exercise)", m <= 2.0,
        f"{clips} clips ({made} synthesised), {speech:.0f} s of speech, "
        f"{1000 * m / max(clips, 1):.0f} ms/clip; runs {fmt_runs(times, ' s', 2)}")


# 5. breath-onset accuracy ----------------------------------------------------------------------

def measure_onsets(script, palette, timeline, first: int, audio) -> None:
    """The timeline against exact arithmetic (phases parsed here from PATTERN's digits,
    independently of grounding), then the pitch turning points in the rendered audio."""
    from grounding.script import Breathe, Speak

    say("breath onsets: timeline against exact arithmetic, and in the rendered audio")
    sr = timeline.samplerate
    values = [Fraction(v) for v in PATTERN.split("-")]
    kinds = {2: ("in", "out"), 3: ("in", "hold", "out"), 4: ("in", "hold", "out", "rest")}
    phases = [(k, s) for k, s in zip(kinds[len(values)], values) if s > 0]
    cycle = sum(s for _, s in phases)
    offsets = [sum((s for _, s in phases[:j]), Fraction(0)) for j in range(len(phases))]
    cycles = round(Fraction(60 * 60) / cycle)  # --minutes 60, whole cycles
    tones = sorted(timeline.tones, key=lambda t: t.start)
    if len(tones) != cycles * len(phases):
        raise RuntimeError(f"{len(tones)} tone events, expected {cycles * len(phases)}")
    anchor = tones[0].start  # where the breathing step begins, after the spoken introduction
    worst_start = worst_end = 0
    ideal_in = []
    for i, tone in enumerate(tones):
        k, j = divmod(i, len(phases))
        kind, seconds = phases[j]
        start = anchor + round((k * cycle + offsets[j]) * sr)
        if tone.kind != kind:
            raise RuntimeError(f"tone {i} is '{tone.kind}', expected '{kind}'")
        worst_start = max(worst_start, abs(tone.start - start))
        end = anchor + round((k * cycle + offsets[j] + seconds) * sr)
        worst_end = max(worst_end, abs(tone.start + tone.frames - end))
        if kind == "in":
            ideal_in.append(start)
    note = ""  # the breathing step starts right after the last introductory line and its pause
    steps = list(script.steps)
    b = next(i for i, s in enumerate(steps) if isinstance(s, Breathe))
    if b > 0 and isinstance(steps[b - 1], Speak):
        line = steps[b - 1]
        clip = next(c for c in timeline.clips if c.text == line.text)
        expected = clip.start + clip.frames + round(Fraction(repr(line.after)) * sr)
        note = f"; breathing starts at frame {anchor} ({anchor - expected:+d} vs its line + pause)"
        worst_start = max(worst_start, abs(anchor - expected))
    add("5. breath-phase onset error over 60 min (timeline vs exact)", f"{worst_start} samples",
        "0 samples", worst_start == 0 and worst_end == 0,
        f"{len(tones)} phases, {cycles} cycles; max end error {worst_end} samples{note}")

    # in the audio: the pitch turning point at the last in-breath onsets clear of speech
    clips = [(c.start, c.start + c.frames) for c in timeline.clips]
    margin = 3 * sr
    chosen = [s for s in ideal_in
              if s - margin >= first and s + margin <= first + len(audio)
              and not any(a - 2 * sr < s + 2 * sr and e + 2 * sr > s - 2 * sr
                          for a, e in clips)][-5:]
    if not chosen:
        raise RuntimeError("no in-breath onset clear of speech in the rendered final minute")

    def at(s):  # seconds from the ideal onset, (fitted, raw)
        fit, raw = turning_point(audio[s - first - margin:s - first + margin], sr,
                                 palette.tone, phases[-1], phases[0])
        return fit - 3.0, raw - 3.0

    found = [at(s) for s in chosen]
    worst = max((fit for fit, _ in found), key=abs)
    check = at(chosen[-1] - round(0.005 * sr))[0] * 1000  # analysed 5 ms early: must say +5
    add("5. rendered pitch turning point vs ideal in-breath onset", f"{worst * 1000:+.4f} ms",
        "0 samples (±0.5)", abs(worst) * sr <= 0.5,
        f"{worst * sr:+.3f} samples; last {len(chosen)} in-breaths of the final "
        f"{len(audio) / sr:.0f} s; raw argmin of smoothed f: "
        f"{fmt_runs([raw * 1000 for _, raw in found], ' ms', 1)}; "
        f"method check (analysed 5 ms early): {check:+.3f} ms")


def turning_point(segment, sr: int, tone, left, right) -> tuple[float, float]:
    """Seconds into ``segment`` (6 s centred on an ideal in-breath onset) at which the pitch
    turns: (fitted, raw). The fundamental is isolated with a zero-phase FFT band-pass; its
    upward zero crossings (linearly interpolated) give one frequency per period. The fitted
    turning point is the t0 that best explains those frequencies in the central ±1.5 s with
    the glide shape (f = f_min + depth·g(|t - t0| / T) on each side, g from the palette,
    f_min and depth free); the raw one is the argmin of an 11-period moving average.
    ``left`` and ``right`` are the (kind, seconds) phases either side of the onset."""
    import numpy as np

    n = len(segment)
    freq = np.fft.rfftfreq(n, 1 / sr)
    lo, hi = 0.5 * tone.low_hz, 1.5 * tone.low_hz  # the fundamental near the turn, not 2f
    edge = np.clip(np.minimum(freq - lo, hi - freq) / 20 + 0.5, 0, 1)
    y = np.fft.irfft(np.fft.rfft(segment) * (0.5 - 0.5 * np.cos(np.pi * edge)), n)
    i = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    crossings = (i + y[i] / (y[i] - y[i + 1])) / sr
    f, t = 1 / np.diff(crossings), (crossings[:-1] + crossings[1:]) / 2
    centre = n / sr / 2
    keep = np.abs(t - centre) < 1.5
    f, t = f[keep], t[keep]

    def g(u):
        return np.sin(np.pi * u / 2) ** 2 if tone.glide == "ease" else u

    def misfit(t0: float) -> float:
        u = np.where(t < t0, g((t0 - t) / float(left[1])) if left[0] == "out" else 0.0,
                     g((t - t0) / float(right[1])))
        a = np.stack([np.ones_like(u), u], axis=1)
        coef, *_ = np.linalg.lstsq(a, f, rcond=None)
        return float(np.sum((a @ coef - f) ** 2))

    best = centre
    for span, step in ((0.05, 1e-4), (2e-4, 2e-6), (4e-6, 4e-8)):
        grid = np.arange(best - span, best + span + step / 2, step)
        best = float(grid[int(np.argmin([misfit(x) for x in grid]))])
    smooth = np.convolve(f, np.ones(11) / 11, mode="same")
    inner = slice(11, len(f) - 11)
    return best, float(t[inner][int(np.argmin(smooth[inner]))])


# 6. playback CPU and underflows, and 3. peak memory while playing ----------------------------

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
            "underflows": int(under.group(1)) if under else 0}


def measure_playback(seconds: float, work: Path) -> None:
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
    home = os.environ["GROUNDING_HOME"]
    peaks: dict[str, list[float]] = {"cold": [], "warm": []}
    try:
        for i in range(runs):
            os.environ["GROUNDING_HOME"] = tempfile.mkdtemp(prefix=f"bed{i}-", dir=work)
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
    finally:
        os.environ["GROUNDING_HOME"] = home
    for state in ("cold", "warm"):
        m = median(peaks[state])
        add(f"3. peak memory, playback (45-min bedtime with noise, {state} voice cache)",
            f"{m:.1f} MiB", "≤ 80 MiB", m <= 80,
            f"VmHWM after {seconds:.0f} s, then SIGTERM; runs {fmt_runs(peaks[state], ' MiB', 1)}")


# Machine, table, main --------------------------------------------------------------------------

def machine() -> list[str]:
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


def print_table(header: list[str], mode: str, elapsed: float) -> None:
    print(f"\ngrounding benchmark  ({mode})\n" + "\n".join("  " + line for line in header))
    w = [max(len(row[k]) for row in ROWS + [("measure", "result", "target")]) for k in range(3)]
    rule = "-" * (sum(w) + 13)
    print(f"\n{'measure':<{w[0]}}  {'result':>{w[1]}}  {'target':<{w[2]}}  verdict\n{rule}")
    for measure, result, target, ok, note in ROWS:
        print(f"{measure:<{w[0]}}  {result:>{w[1]}}  {target:<{w[2]}}  {ok}".rstrip())
        if note:
            print(f"    {note}")
    print(rule)
    print("  ".join(f"{sum(1 for r in ROWS if r[3].rstrip('*') == v)} {v}"
                    for v in ("PASS", "MISS", "ERROR")))
    if DETAILS:
        print("\n" + "\n".join(DETAILS))
    print(f"""
Notes: results are medians; targets from shared/PRODUCT.md. Start-up runs the console script
as a user would, from just before the spawn to the epoch on its own `--debug` line: the moment
the audio callback handed the first audible block to PortAudio (a private PulseAudio null sink).
The target is for `grounding pause`; `breathe` and `play quick-reset` are shown beside it.
* = shorter than the 10 minutes the target names. Playback CPU is user+sys of the process from its first
audible block to its end.
Bench took {elapsed:.0f} s.""")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one run of the heavy measures, 20 s of playback (about 70 s)")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--playback-seconds", type=float, default=None,
                        help="breathing played for the CPU, underflow and memory measures "
                             "(default 20 with --quick, else 60)")
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
    try:
        with private_pulse() as problem:
            if problem:
                add("1./3./6. playing to the device", "not measured", "", "ERROR", problem)
            else:
                say("private PulseAudio daemon started")
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
        say("private PulseAudio daemon stopped")
        if opts.breakdown:
            attempt("import breakdown", import_breakdown, runs)
        attempt("2./3. render to WAV", measure_cli_renders, heavy, light, work)
        attempt("2./3. bedtime render to WAV", measure_bedtime_renders, light, work)
        onsets = attempt("2. in-process render", measure_inprocess_render, heavy)
        if onsets:
            attempt("5. breath onsets", measure_onsets, *onsets)
        del onsets
        attempt("4. cold voice cache", measure_cold_speech, light, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ROWS.sort(key=lambda r: (r[0][:1], r[0].startswith("3. peak memory, playback")))
    print_table(header, "quick" if opts.quick else f"full, {runs} runs", time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
