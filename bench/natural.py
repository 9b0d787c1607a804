"""12. The natural voice (Piper) against the default one (espeak-ng through pyttsx3), on the
longest bundled exercise: cold synthesis of all its clips and of the first line alone, the
peak memory of a whole session that makes its later lines in the background while it plays,
and the loudness of the clips."""

from __future__ import annotations

import contextlib
import re
import signal
import time
from pathlib import Path
from statistics import median

from child import FIRST_AUDIBLE, Child, clip_count, empty_home, grounding_argv
from renders import FILE_RATE
from speech import longest_script
from table import add, fmt_runs, say

VOICES = (("natural", "natural"), ("espeak", None))
"""Each voice measured: its label, and what ``--voice`` names (None: the default voice)."""
SAMPLE_SECONDS = 0.05
"""How often the session's processes are read from /proc."""
MIB = 1024 * 1024


def measure_natural_cold(runs: int, work: Path) -> dict[str, list]:
    """Each voice, fresh, into an empty cache: the time from asking for the first line's clip
    to having it (the speech worker's start and the model's load included), then the rest of
    the exercise's clips from the same worker, ``runs`` times. Returns the clips of each
    voice's last run (for the loudness)."""
    from grounding.cache import samples_of
    from grounding.speech import Pyttsx3Voice

    script = longest_script()[0]
    texts = script.texts()
    say(f"natural voice, cold: '{script.name}' ({len(texts)} texts), natural and espeak "
        f"× {runs}")
    kept = {}
    for label, name in VOICES:
        firsts, totals, made = [], [], set()
        for i in range(runs):
            with empty_home(f"{label}{i}-", work):
                voice = Pyttsx3Voice(name) if name else Pyttsx3Voice()
                with voice:
                    start = time.perf_counter()
                    voice.clips([texts[0]], FILE_RATE)
                    firsts.append(time.perf_counter() - start)
                    clips = voice.clips(texts, FILE_RATE)
                    totals.append(time.perf_counter() - start)
                made.add((len(clips), voice.synthesised))
                kept[label] = [samples_of(c) for c in clips.values()]
        speech = sum(map(len, kept[label])) / FILE_RATE
        first, total = median(firsts), median(totals)
        n, synthesised = min(made)
        natural = label == "natural"
        add(f"12. cold synthesis, {label}: all clips of '{script.name}' "
            f"({script.minutes:g} min)", f"{total:.2f} s",
            "≤ 10 s" if natural else "(for comparison)", total <= 10 if natural else "",
            f"{n} clips ({synthesised} synthesised), {speech:.0f} s of speech at {FILE_RATE} Hz, "
            f"{speech / total:.1f}× real time; fresh voice, empty cache, from the first request; "
            f"runs {fmt_runs(totals, ' s', 2)}")
        add(f"12. first line's clip ready, {label} (cold, worker start and model load)",
            f"{first:.2f} s", "≤ 1 s" if natural else "(for comparison)",
            first <= 1 if natural else "",
            f"voice.clips([first line]) on an empty cache; runs {fmt_runs(firsts, ' s', 2)}")
    return kept


def measure_clip_loudness(kept: dict[str, list]) -> None:
    """The integrated loudness of every clip made by the cold measure, against the target."""
    import numpy as np

    from grounding.cache import PCM_SCALE
    from grounding.loudness import integrated_lufs
    from grounding.recording import LOUDNESS_TARGET

    for label, _name in VOICES:
        if label not in kept:
            continue
        levels = [integrated_lufs(samples.astype(np.float32) / PCM_SCALE, FILE_RATE)
                  for samples in kept[label]]
        low, high = min(levels), max(levels)
        off = sum(1 for v in levels if abs(v - LOUDNESS_TARGET) > 0.5)
        add(f"12. clip loudness, {label} (every clip, integrated)",
            f"{median(levels):.2f} LUFS", f"{LOUDNESS_TARGET:g} ± 0.5 LU",
            off == 0, f"min {low:.2f}, median {median(levels):.2f}, max {high:.2f} LUFS over "
            f"{len(levels)} clips at {FILE_RATE} Hz ({off} outside the target); "
            "grounding.loudness.integrated_lufs")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc/PID/task/TID/children)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                with contextlib.suppress(OSError, ValueError):
                    kids = [int(k) for k in (task / "children").read_text().split()]
                    found += kids
                    todo += kids
    return found


def _memory(pid: int) -> tuple[float, float] | None:
    """VmRSS and VmHWM of a process in MiB (None once it has ended or is a zombie)."""
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/status").read_text()
        rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if rss and hwm:
            return int(rss.group(1)) / 1024, int(hwm.group(1)) / 1024
    return None


def _is_worker(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"grounding.speechworker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def session_peaks(args: list[str], seconds: float) -> dict:
    """The console script playing ``args`` for ``seconds``, then Ctrl-C (SIGINT): the peak
    memory of the player, of its speech worker and of any other child, from /proc read every
    SAMPLE_SECONDS until they end (a VmHWM is the last value read before the process ended),
    and the peak of their summed VmRSS read at the same moments."""
    child = Child(grounding_argv() + args)
    hwm: dict[int, float] = {}
    workers: set[int] = set()
    summed = 0.0
    try:
        deadline, stop = time.monotonic() + seconds, None
        while True:
            pids = [child.pid] + _descendants(child.pid)
            total = 0.0
            for pid in pids:
                read = _memory(pid)
                if read is None:
                    continue
                if pid not in hwm and pid != child.pid and _is_worker(pid):
                    workers.add(pid)
                total += read[0]
                hwm[pid] = max(hwm.get(pid, 0.0), read[1])
            summed = max(summed, total)
            if child.poll() is not None and len(pids) == 1:
                break
            if stop is None and time.monotonic() > deadline:
                child.signal(signal.SIGINT)
                stop = time.monotonic()
            if stop is not None and time.monotonic() - stop > 15:
                raise RuntimeError("the session did not end within 15 s of Ctrl-C")
            child.drain()
            time.sleep(SAMPLE_SECONDS)
    finally:
        child.reap()
    first = FIRST_AUDIBLE.search(child.text())
    if not first:
        raise RuntimeError(f"no audible block seen (exit {child.code}): {child.text()[-300:]}")
    player = hwm.get(child.pid, 0.0)
    worker = sum(hwm[p] for p in workers)
    others = sum(v for p, v in hwm.items() if p != child.pid and p not in workers)
    return {"player": player, "worker": worker, "others": others,
            "sum": player + worker + others, "summed_rss": summed, "workers": len(workers),
            "code": child.code, "first_ms": int(first.group(1))}


def measure_natural_session(runs: int, seconds: float, work: Path) -> None:
    """``grounding play <longest exercise>`` with each voice, on an empty cache, for
    ``seconds`` while the voice makes the later lines in the background: peak memory."""
    script, path = longest_script()
    if path is None:
        raise RuntimeError("no bundled exercise to play")
    say(f"natural voice, session memory: play '{script.name}' {seconds:.0f} s, cold cache, "
        f"natural and espeak × {runs}")
    for label, name in VOICES:
        args = ["play", str(path), "--device", "pulse", "--debug"]
        if name:
            args += ["--voice", name]
        results, clips = [], []
        for i in range(runs):
            with empty_home(f"{label}-play{i}-", work):
                results.append(session_peaks(args, seconds))
                clips.append(clip_count())
        pick = {key: median(r[key] for r in results)
                for key in ("player", "worker", "others", "sum", "summed_rss")}
        natural = label == "natural"
        add(f"12. peak memory, whole session, {label} (play '{script.name}', cold cache, "
            f"{seconds:.0f} s)", f"{pick['sum']:.1f} MiB",
            "≤ 150 MiB" if natural else "(for comparison)",
            pick["sum"] <= 150 if natural else "",
            f"VmHWM: player {pick['player']:.1f} MiB + speech worker {pick['worker']:.1f} MiB"
            + (f" + other children {pick['others']:.1f} MiB" if pick["others"] else "")
            + f"; peak of their summed VmRSS at one moment {pick['summed_rss']:.1f} MiB; "
            f"{min(r['workers'] for r in results)} worker(s); clips in the cache at the end "
            f"{fmt_runs(clips)} (of {len(script.texts())} texts); /proc read every "
            f"{1000 * SAMPLE_SECONDS:.0f} ms, then Ctrl-C; sums per run "
            f"{fmt_runs([r['sum'] for r in results], ' MiB', 1)}")
        firsts = [r["first_ms"] / 1000 for r in results]
        add(f"12. first sound, whole session, {label} (play '{script.name}', cold cache)",
            f"{median(firsts):.2f} s", "(how soon a cold session starts)", "",
            f"from the command line loading to the first audible block handed to the device "
            f"(--debug), the same runs; runs {fmt_runs(firsts, ' s', 2)}")


def natural_measures(runs: int, seconds: float, work: Path) -> None:
    """12. all of the above; the session's memory needs the private sound server."""
    from table import attempt

    kept = attempt("12. natural voice: cold synthesis", measure_natural_cold, runs, work)
    if kept:
        attempt("12. natural voice: clip loudness", measure_clip_loudness, kept)
    attempt("12. natural voice: session memory", measure_natural_session, runs, seconds, work)
