"""2. and 3. Renders to a WAV file by the CLI, end to end (wall time, max RSS): ``breathe 4-6``
for 60 against 5 minutes, ``bedtime --noise brown`` for 45 against 10; the 45-minute bedtime in
every format ``--out`` writes, and a whole ``grounding export``; and the render alone,
in-process, into a NullSink. The breath-onset measure analyses what the in-process render made.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import wave
from pathlib import Path
from statistics import median

from child import Child, clip_count, grounding_argv
from table import add, fmt_runs, say

FILE_RATE = 48000
"""The rate of the rendered files and of the in-process render, Hz."""
PATTERN = "4-6"
"""The breathing pattern of the measured sessions."""

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
    json.dump({"wall": time.time() - t0, "maxrss_kib": ru.ru_maxrss, "code": code,
               "cpu": ru.ru_utime + ru.ru_stime}, f)
"""


def breathe_script(minutes: float):
    """The script of ``grounding breathe PATTERN --minutes MINUTES``."""
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


FORMATS = ("wav", "flac", "ogg", "opus", "mp3")
"""The endings ``--out`` writes, each measured on the 45-minute bedtime."""


def _launched(args: list[str], report: Path) -> dict:
    """One run of the console script from the launcher: its wall time, max RSS and code."""
    child = Child([sys.executable, "-S", "-c", LAUNCHER, str(report)] + grounding_argv()
                  + args)
    child.reap(900)
    launch = json.loads(report.read_text())
    if launch["code"] != 0:
        raise RuntimeError(f"exit {launch['code']}: {child.text()[-300:]}")
    return launch


def measure_format_renders(runs: int, folder: Path) -> None:
    """``grounding bedtime --minutes 45 --out F.EXT`` in every format with a warm voice cache
    (wall time, size, times real time; the length and rate read back with soundfile), and a
    whole ``grounding export`` (MP3), once, warm."""
    import soundfile

    say(f"bedtime 45 minutes in every format × {runs}, and a whole export")
    report = folder / "launch.json"
    for ending in ("wav", "mp3"):  # the voice at 48000 and at 24000 Hz into the cache
        _launched(["bedtime", "--minutes", "45", "--force", "--out",
                   str(folder / f"warm.{ending}")], report)
    for ending in FORMATS:
        out, walls, cpus = folder / f"bench.{ending}", [], []
        for _ in range(runs):
            launch = _launched(["bedtime", "--minutes", "45", "--force", "--out", str(out)],
                               report)
            walls.append(launch["wall"])
            cpus.append(launch["cpu"])
        info = soundfile.info(str(out))
        seconds, size = info.frames / info.samplerate, out.stat().st_size / 1e6
        out.unlink()
        speed = seconds / median(walls)
        lossy = ending in ("mp3", "ogg")
        add(f"2. render 45-min bedtime to .{ending} (CLI)", f"{speed:.0f}× real time",
            "≥ 60×, < 30 MB" if lossy else "",
            (speed >= 60 and size < 30) if lossy else "",
            f"{size:.1f} MB at {info.samplerate} Hz, {seconds / 60:.1f} min; wall "
            f"{fmt_runs(walls, ' s', 1)}; CPU (user+sys) {fmt_runs(cpus, ' s', 1)}")
    exported = folder / "export"
    launch = _launched(["export", str(exported), "--format", "mp3"], report)  # voices it
    shutil.rmtree(exported)
    launch = _launched(["export", str(exported), "--format", "mp3"], report)
    files = sorted(exported.iterdir())
    seconds = sum(soundfile.info(str(f)).duration for f in files)
    size = sum(f.stat().st_size for f in files) / 1e6
    add("2. grounding export, the whole set as MP3 (CLI)",
        f"{seconds / launch['wall']:.0f}× real time", "", "",
        f"{len(files)} files, {seconds / 60:.0f} min of audio, {size:.1f} MB; wall "
        f"{launch['wall']:.1f} s, CPU (user+sys) {launch['cpu']:.1f} s")
    shutil.rmtree(exported)
