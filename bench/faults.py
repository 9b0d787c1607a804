"""9. Sound after SIGSTOP/SIGCONT, 10. sound after the sound server restarts, and 11. five cold
sessions on one voice cache.

9 and 10 play a minute of paced breathing (no voice, 48 kHz) on a PulseAudio null sink and
record its monitor with ``parecord`` (tests/pulse.py). The same session written with ``--out``
at the sound card's loudness is what the recording is aligned to: a tenth of a second of the
recording is found, sample for sample (within two 16-bit steps), in the render near where the
wall clock says it should be, which gives the render's position at a known wall-clock time. The
breaths repeat every ten seconds, so only four seconds either side are searched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
import wave
from pathlib import Path
from statistics import median

import numpy as np

from child import FIRST_AUDIBLE, Child, empty_home, grounding_argv
from table import add, fmt_runs, say

SR = 48000
"""The null sink's rate, the recording's and the render's, Hz."""
TOLERANCE = 2 / 32768
"""How far a recorded sample may be from the render's: two steps of 16-bit audio."""
FAULT = ["breathe", "4-6", "--minutes", "1", "--no-voice", "--samplerate", str(SR)]
"""The session played while a fault is made; stopped with SIGINT once the fault is over."""
STOP_SECONDS = 5.0
"""How long the program is stopped (SIGSTOP), and how long the sound server stays away."""


def read_wav(path: Path) -> np.ndarray:
    """Mono float samples in [-1, 1] of a 16-bit WAV file at ``SR``."""
    with wave.open(str(path)) as f:
        if f.getsampwidth() != 2 or f.getframerate() != SR:
            raise RuntimeError(f"{path} is not 16-bit at {SR} Hz")
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64)
        channels = f.getnchannels()
    return data.reshape(-1, channels).mean(axis=1) / 32768.0


def render_fault(work: Path) -> np.ndarray:
    """The fault session written with ``--out`` at the sound card's loudness, as samples."""
    from grounding.render import DEVICE_LOUDNESS

    path = work / "fault-render.wav"
    child = Child(grounding_argv() + FAULT + ["--out", str(path), "--force", "--loudness",
                                              str(DEVICE_LOUDNESS), "--quiet"])
    if child.reap(120) != 0:
        raise RuntimeError(f"the render exited with {child.code}: {child.text()[-300:]}")
    return read_wav(path)


def shared_daemon():
    """The bench's private daemon, whose PULSE_* settings are in os.environ (bench/run.py)."""
    import pulse

    return pulse.PulseDaemon(Path(os.environ["PULSE_RUNTIME_PATH"]), os.environ["PULSE_SINK"], 0)


def record(daemon, path: Path):
    """A recorder on ``daemon``'s monitor, started, and the wall-clock time of its first
    sample (to within the ~50 ms it takes to see it attached)."""
    import pulse

    recorder = pulse.Recorder(daemon, path).start()
    return recorder, time.time()


def stop_recording(recorder) -> np.ndarray:
    """Stop ``recorder`` (SIGINT finishes its WAV header) and return what it recorded."""
    recorder.stop_quietly()
    return read_wav(recorder.path)


def locate(capture: np.ndarray, at: int, render: np.ndarray, near: int,
           reach: int = 4 * SR) -> int:
    """The render's sample that the recording's sample ``at`` holds: a tenth of a second of the
    recording from ``at`` found in the render within ``reach`` of ``near``."""
    length = SR // 10
    target = capture[at:at + length]
    if len(target) < length or np.abs(target).max() <= 100 * TOLERANCE:
        raise RuntimeError(f"the recording is not sounding at {at / SR:.2f} s")
    lo, hi = max(0, near - reach), min(len(render) - length, near + reach)
    windows = np.lib.stride_tricks.sliding_window_view(render[lo:hi + 64], 64)
    starts = lo + np.flatnonzero(np.all(np.abs(windows - target[:64]) <= TOLERANCE, axis=1))
    found = [int(s) for s in starts if np.all(np.abs(render[s:s + length] - target) <= TOLERANCE)]
    if not found:
        raise RuntimeError(f"the recording at {at / SR:.2f} s holds nothing of the render near "
                           f"{near / SR:.2f} s")
    return min(found, key=lambda s: abs(s - near))


def silences(capture: np.ndarray, longer_than: float) -> list[tuple[int, int]]:
    """The runs of digital silence between the recording's first and last sounds longer than
    ``longer_than`` seconds: (first silent sample, first sounding sample after)."""
    sounding = np.flatnonzero(np.abs(capture) > TOLERANCE)
    if not len(sounding):
        return []
    first, end = int(sounding[0]), int(sounding[-1]) + 1
    quiet = np.abs(capture[first:end]) <= TOLERANCE
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    runs = zip(first + np.flatnonzero(edges == 1), first + np.flatnonzero(edges == -1))
    return [(int(a), int(b)) for a, b in runs if b - a > longer_than * SR]


def first_audible(child: Child, timeout: float = 60) -> float:
    """The epoch of the program's first audible block (its --debug line), waiting for it."""
    deadline = time.monotonic() + timeout
    while not (match := FIRST_AUDIBLE.search(child.text())):
        if child.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no first audible block (exit {child.code}): "
                               f"{child.text()[-300:]}")
        time.sleep(0.01)
    return float(match.group(2))


def finish(child: Child) -> str:
    """Stop the session (SIGCONT in case, then SIGINT) and return what it said on stderr."""
    child.signal(signal.SIGCONT)
    child.signal(signal.SIGINT)
    child.reap(10)
    return child.text()


def suspend_once(daemon, render: np.ndarray, work: Path) -> tuple[float, float, float]:
    """One session stopped for ``STOP_SECONDS`` in the middle of an out-breath: seconds from
    SIGCONT to the first sound again, how far the render's position jumped across the stop,
    seconds (positive: it skipped ahead), and how long the recorded silence lasted, seconds
    (counted in the recording's own samples, so free of its start time: the sound queued
    before the stop plays on into it)."""
    recorder, recorded_from = record(daemon, work / "suspend.wav")
    try:
        child = Child(grounding_argv() + FAULT + ["--device", "pulse", "--debug"])
        try:
            began = first_audible(child)
            time.sleep(max(0.0, began + 6.0 - time.time()))  # two seconds into an out-breath
            child.signal(signal.SIGSTOP)
            stopped = time.time()
            time.sleep(STOP_SECONDS)
            child.signal(signal.SIGCONT)
            continued = time.time()
            time.sleep(3.0)
        finally:
            said = finish(child)
    finally:
        capture = stop_recording(recorder)
    if "Traceback" in said or "went away" in said:
        raise RuntimeError(f"the program said: {said[-300:]}")
    gaps = [g for g in silences(capture, 1.0)
            if abs(recorded_from + g[0] / SR - stopped) < 1.0]
    if len(gaps) != 1:
        raise RuntimeError(f"no single silence at the stop; silences over 1 s (s): "
                           f"{np.divide(silences(capture, 1.0), SR).tolist()}")
    went, back = gaps[0]
    came_back = recorded_from + back / SR - continued
    before = went - SR // 2
    stop_frame = locate(capture, before, render,
                        round((recorded_from + before / SR - began) * SR)) + SR // 2
    after = back + SR // 2  # past the fade back in
    # the breaths repeat every ten seconds: searched from 2.5 s before to 7.5 s after the stop,
    # going on from the stop (0) and skipping the stop's five seconds (+5) are both told apart
    resume_frame = locate(capture, after, render, stop_frame + SR // 2 + round(2.5 * SR),
                          reach=5 * SR) - SR // 2
    return came_back, (resume_frame - stop_frame) / SR, (back - went) / SR


def measure_suspend(runs: int, work: Path) -> None:
    """9. Sound after the program is stopped for five seconds and continued (a closed lid):
    how soon it sounds again, and whether it continues from where it was."""
    say(f"suspend: SIGSTOP {STOP_SECONDS:.0f} s, SIGCONT × {runs}")
    render, back, jumps, silent = render_fault(work), [], [], []
    for _ in range(runs):
        came_back, jump, silence = suspend_once(shared_daemon(), render, work)
        back.append(came_back)
        jumps.append(jump)
        silent.append(silence)
    worst_back, worst_jump = max(back), max(jumps, key=abs)
    add("9. sound after SIGSTOP 5 s / SIGCONT", f"{1000 * median(back):.0f} ms", "≤ 1 s",
        worst_back <= 1.0, f"from SIGCONT to the first recorded sound; worst "
        f"{1000 * worst_back:.0f} ms; runs {fmt_runs([1000 * b for b in back], ' ms')}; the "
        f"silence lasted {fmt_runs([1000 * b for b in silent], ' ms')} of the "
        f"{1000 * STOP_SECONDS:.0f} ms stop")
    add("9. position jump across the stop", f"{1000 * median(jumps):+.0f} ms",
        "continues (|jump| ≤ 200 ms)", abs(worst_jump) <= 0.2,
        f"render position after resuming minus before stopping (+: skipped ahead); worst "
        f"{1000 * worst_jump:+.0f} ms; runs {fmt_runs([1000 * j for j in jumps], ' ms')}")


@contextlib.contextmanager
def talking_to(daemon):
    """os.environ's PULSE_* settings point at ``daemon`` for the block, as they did before
    afterwards (children spawned in the block reach only it)."""
    saved = {key: os.environ.get(key) for key in daemon.env}
    os.environ.update(daemon.env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def restart_once(render: np.ndarray, work: Path) -> tuple[float, float, bool]:
    """One session whose sound server is killed and started again ``STOP_SECONDS`` later:
    seconds from the server answering again to the first recorded sound, how far the render's
    position then is from where the wall clock puts it, seconds (positive: ahead), and whether
    the sound was there already when the recorder attached (the first figure is then the
    recorder's own start, an upper bound)."""
    import pulse

    daemon = pulse.start_daemon("bench_restart")
    try:
        with talking_to(daemon):
            recorder, first_from = record(daemon, work / "before.wav")
            child = Child(grounding_argv() + FAULT + ["--device", "pulse", "--debug"])
            try:
                try:
                    began = first_audible(child)
                    time.sleep(max(0.0, began + 4.0 - time.time()))
                finally:
                    before = stop_recording(recorder)
                time.sleep(max(0.0, began + 5.0 - time.time()))
                daemon.kill()
                time.sleep(STOP_SECONDS - 2.0)  # about 3 s away
                daemon = pulse.start_daemon(daemon.sink, daemon.folder)
                restarted = time.time()
                recorder, recorded_from = record(daemon, work / "after.wav")
                try:
                    time.sleep(5.0)
                finally:
                    after = stop_recording(recorder)
            finally:
                said = finish(child)
    finally:
        daemon.stop()
    if "Traceback" in said:
        raise RuntimeError(f"the program said: {said[-300:]}")
    sounding = np.flatnonzero(np.abs(after) > TOLERANCE)
    if not len(sounding):
        raise RuntimeError(f"no sound after the server came back: {said[-300:]}")
    onset = int(sounding[0])
    came_back = recorded_from + onset / SR - restarted
    # where the render was at a known moment before the kill, and where it is after
    at = int(np.flatnonzero(np.abs(before) > TOLERANCE)[0]) + SR  # a second into the sound
    then = first_from + at / SR
    frame_then = locate(before, at, render, round((then - began) * SR))
    heard = onset + SR // 2  # past the fade back in
    now = recorded_from + heard / SR
    frame_now = locate(after, heard, render, frame_then + round((now - then) * SR), 3 * SR)
    return came_back, (frame_now - frame_then) / SR - (now - then), onset == 0


def measure_restart(runs: int, work: Path) -> None:
    """10. Sound after the sound server is killed and started again: how soon it sounds once
    the server answers, and whether it is in step with the session's clock."""
    say(f"sound server restart: killed, back {STOP_SECONDS - 2:.0f} s later × {runs}")
    render, back, steps, early = render_fault(work), [], [], 0
    for _ in range(runs):
        came_back, step, before_recorder = restart_once(render, work)
        back.append(came_back)
        steps.append(step)
        early += before_recorder
    worst_back, worst_step = max(back), max(steps, key=abs)
    add("10. sound after the sound server restarts", f"{1000 * median(back):.0f} ms", "≤ 2 s",
        worst_back <= 2.0, f"from the server answering again to the first recorded sound; "
        f"worst {1000 * worst_back:.0f} ms; runs {fmt_runs([1000 * b for b in back], ' ms')}"
        + (f"; in {early} sounding before the recorder attached (an upper bound)" if early
           else ""))
    add("10. in step after the restart", f"{1000 * median(steps):+.0f} ms", "within ±0.5 s",
        abs(worst_step) <= 0.5, f"render position minus wall-clock time since a moment before "
        f"the kill (+: ahead); worst {1000 * worst_step:+.0f} ms; runs "
        f"{fmt_runs([1000 * s for s in steps], ' ms')}")


def cold_renders(count: int, work: Path, tag: str) -> tuple[float, list[bytes]]:
    """``count`` cold ``play senses --out`` started at once on one new empty GROUNDING_HOME:
    the wall time until the last one ended, and the files they wrote."""
    with empty_home(f"{tag}-", work):
        outs = [Path(tempfile.mkstemp(prefix=f"{tag}{n}-", suffix=".wav", dir=work)[1])
                for n in range(count)]
        started = time.monotonic()
        children = [Child(grounding_argv() + ["play", "senses", "--out", str(out), "--quiet"])
                    for out in outs]
        try:
            for child in children:
                child.reap(300)
        finally:
            for child in children:
                child.reap()
        wall = time.monotonic() - started
    for child in children:
        if child.code != 0:
            raise RuntimeError(f"play senses --out exited with {child.code}: "
                               f"{child.text()[-300:]}")
    files = [out.read_bytes() for out in outs]
    for out in outs:
        out.unlink()
    return wall, files


def measure_shared_cache(runs: int, work: Path) -> None:
    """11. Five cold sessions at once on one voice cache: whether they write what one cold
    session alone writes, and their wall time against that one's."""
    say(f"five cold sessions on one cache × {runs}")
    alone, five, same = [], [], []
    for i in range(runs):
        wall, (expected,) = cold_renders(1, work, f"alone{i}")
        alone.append(wall)
        wall, files = cold_renders(5, work, f"five{i}")
        five.append(wall)
        same.append(sum(f == expected for f in files))
    identical = all(n == 5 for n in same)
    add("11. five cold sessions on one cache", "identical" if identical else
        f"{min(same)} of 5 identical", "all 5 byte-identical to one alone", identical,
        f"`play senses --out`, each run a new empty cache; runs: {', '.join(map(str, same))} "
        f"of 5 identical")
    add("11. five at once, wall time", f"{median(five):.1f} s", "", "",
        f"one alone {median(alone):.1f} s (×{median(five) / median(alone):.1f}); runs five "
        f"{fmt_runs(five, ' s', 1)}, alone {fmt_runs(alone, ' s', 1)}")
