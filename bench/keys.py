"""8. Keys heard: how long after a key press the listener hears what it does, measured from
outside the process on the private null sink, on an idle machine and under the heavy mixed
load of measure 7.

The session is ``breathe 4-6 --no-voice`` on a pseudo-terminal (keys are read only from a
terminal): its tone never falls silent, so every press lands on sound and its effect can be
seen, whereas spoken sessions have pauses between lines. The keys take the same path whatever
plays (read on the session's 50 ms tick, applied in the audio callback).

The sink's monitor is recorded with ``pacat`` in 5 ms reads, each stamped with
``time.monotonic()`` on arrival, so a sample's time is its index over the rate plus an offset:
the smallest (arrival − index / rate) over the reads within 2 s of it (a read can come late,
never early). The null sink renders up to its latency ahead of its clock (10 ms, as the
recorder asks), so a time found this way may be up to about 10 ms early, and a delay that
much short. The first audible block shows it: the stream starts empty, so that block reaches
the sink almost as soon as the program hands it over (its ``--debug`` line), and the recording
puts it a few ms before.

What the key did is found against the same session rendered with ``--out`` (at 48 kHz and the
same loudness): a stretch of the recording that the press cannot have touched is found in the
render by normalised cross-correlation, and the gain between the two in 2 ms windows then
shows the change. Its midpoint is found, and the known half-length of the ramp is taken off:
125 ms of the 250 ms fade for space (grounding/soundcard.py, FADE_SECONDS), and 1024 frames of
the one 2048-frame block over which a volume step glides. ``self_check`` runs the same
detection on a synthetic recording with the changes at known samples before every use.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
import wave
from pathlib import Path
from statistics import median

import numpy as np

from child import FIRST_AUDIBLE, Child, grounding_argv
from table import add, fmt_runs, say

RATE = 48000
SESSION = ["breathe", "4-6", "--no-voice", "--minutes", "1.5", "--volume", "50",
           "--loudness", "-24"]
"""A steady tone at a volume with room to go up; the same loudness for the device and the
file, so the two hold the same samples."""
FADE = 0.25
"""The pause fade, seconds (grounding.soundcard.FADE_SECONDS)."""
STEP_FRAMES = 2048
"""A volume step glides over one block of this many frames (grounding.sinks.BLOCKSIZE)."""
VOLUME, VOLUME_STEP = 50, 5
WINDOW = 96
"""Frames per gain estimate (2 ms)."""
CHUNK = 480
"""Bytes per read of the recorder: 240 frames, 5 ms."""
FIRST_PRESS, PAUSED, TO_VOLUME, CYCLE = 4.0, 1.5, 2.0, 4.4
"""Seconds: from the first sound to the first press; paused for; from resume to ``+``; from
one pause to the next (plus a growing phase offset, so presses fall at different points of
the 50 ms tick and the 43 ms callback)."""
PRESSES = 4
"""Pauses, resumes and volume steps per run."""
LATENCY = re.compile(r"Buffer Latency: (\d+) usec.*?Sink Latency: (\d+) usec", re.S)


class Monitor:
    """``pacat`` recording the null sink's monitor, read in small chunks by a thread that
    stamps each arrival with ``time.monotonic()``."""

    def __init__(self):
        source = os.environ.get("PULSE_SOURCE", "")
        self.proc = subprocess.Popen(
            ["pacat", "--record", "--raw", "--latency-msec=10", f"--device={source}",
             "--format=s16le", f"--rate={RATE}", "--channels=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.data = bytearray()
        self.stamps: list[tuple[int, float]] = []  # (frames received so far, arrival time)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 5
        while not self.stamps:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("pacat delivered nothing from the monitor")
            time.sleep(0.01)

    def _read(self) -> None:
        fd = self.proc.stdout.fileno()
        while chunk := os.read(fd, CHUNK):
            now = time.monotonic()
            self.data += chunk
            self.stamps.append((len(self.data) // 2, now))

    def stop(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stop pacat (by its pid); the samples, and each read's end frame and arrival."""
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(5)
        samples = np.frombuffer(bytes(self.data[:len(self.data) // 2 * 2]), "<i2") / 32768.0
        ends, times = (np.array(v, dtype=float) for v in zip(*self.stamps))
        return samples, ends, times


def sample_time(n: int, ends: np.ndarray, times: np.ndarray, span: float = 2.0) -> float:
    """The monotonic time at which frame ``n`` reached the monitor: from the reads within
    ``span`` seconds of it, the earliest arrival relative to the frame count."""
    near = np.abs(ends - n) <= span * RATE
    return n / RATE + float(np.min((times - ends / RATE)[near]))


def match(piece: np.ndarray, ref: np.ndarray, lo: int, hi: int) -> int:
    """Where ``piece`` starts in ``ref``, searched from ``lo`` to ``hi``: the peak of the
    normalised cross-correlation."""
    from scipy.signal import correlate

    lo, hi = max(0, lo), min(len(ref) - len(piece), hi)
    if hi <= lo:
        raise RuntimeError("the recording could not be placed in the render")
    span = ref[lo:hi + len(piece)]
    dot = correlate(span, piece, mode="valid", method="fft")
    energy = np.cumsum(np.concatenate([[0.0], span ** 2]))
    norm = np.sqrt(np.maximum(energy[len(piece):] - energy[:-len(piece)], 1e-12))
    return lo + int(np.argmax(dot / norm))


def gains(rec: np.ndarray, ref: np.ndarray, start: int, stop: int, shift: int) -> np.ndarray:
    """The least-squares gain of ``rec`` over ``ref`` (``ref`` index = ``rec`` index −
    ``shift``) in windows of WINDOW frames from ``start``; NaN where the render is silent."""
    count = (stop - start) // WINDOW
    a = rec[start:start + count * WINDOW].reshape(count, WINDOW)
    b = ref[start - shift:start - shift + count * WINDOW].reshape(count, WINDOW)
    energy = (b * b).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(energy > 1e-9, (a * b).sum(1) / energy, np.nan)


def crossing(g: np.ndarray, level: float, falling: bool, start: int) -> int:
    """The frame (from ``start``, the first window's first frame) at which the gain first
    passes ``level``, interpolated between window centres."""
    passed = (g < level) if falling else (g > level)
    hits = np.nonzero(passed & ~np.isnan(g))[0]
    if not len(hits) or hits[0] == 0:
        raise RuntimeError("no change of level was found after the press")
    k = hits[0]
    before, after = g[k - 1], g[k]
    frac = (level - before) / (after - before) if after != before else 0.5
    return start + int(round((k - 1 + 0.5 + frac) * WINDOW))


class Finder:
    """Finds, in a recording, where each key press was heard, against the file render."""

    def __init__(self, rec: np.ndarray, ref: np.ndarray):
        self.rec, self.ref = rec, ref
        self.shift: int | None = None  # ref index = rec index − shift

    def _place(self, start: int, stop: int, search: float = 2.5) -> None:
        """Align the recording's ``start:stop`` with the render (near the last alignment)."""
        piece = self.rec[start:stop]
        if self.shift is None:
            at = match(piece, self.ref, 0, 20 * RATE)
        else:
            guess = start - self.shift
            at = match(piece, self.ref, guess - int(search * RATE), guess + int(search * RATE))
        self.shift = start - at

    def pause(self, n: int) -> int:
        """The frame at which the fade out for a press at frame ``n`` began."""
        self._place(n - RATE // 2, n)
        start = n - int(0.3 * RATE)
        g = gains(self.rec, self.ref, start, n + int(1.2 * RATE), self.shift)
        before = np.nanmedian(g[:int(0.3 * RATE) // WINDOW])
        return crossing(g, before / 2, True, start) - int(FADE / 2 * RATE)

    def resume(self, n: int, after: float = 1.0) -> int:
        """The frame at which the fade in for a press at frame ``n`` began (aligned on what
        follows it, ``after`` seconds on, as what precedes it is silence)."""
        self._place(n + int(after * RATE), n + int((after + 0.5) * RATE), PAUSED + 2.5)
        g = gains(self.rec, self.ref, n, n + int((after + 0.5) * RATE), self.shift)
        full = np.nanmedian(g[int(after * RATE) // WINDOW:])
        return crossing(g, full / 2, False, n) - int(FADE / 2 * RATE)

    def volume(self, n: int, ratio: float) -> int:
        """The frame at which the volume step for a press at frame ``n`` began; its size is
        checked against ``ratio`` (new volume over old)."""
        self._place(n - RATE // 2, n)
        start = n - int(0.3 * RATE)
        g = gains(self.rec, self.ref, start, n + int(1.2 * RATE), self.shift)
        before = np.nanmedian(g[:int(0.3 * RATE) // WINDOW])
        after = np.nanmedian(g[-int(0.3 * RATE) // WINDOW:])
        if abs(after / before / ratio - 1) > 0.02:
            raise RuntimeError(f"a volume step of ×{after / before:.3f} was heard, not "
                               f"×{ratio:.3f}")
        return crossing(g, (before + after) / 2, after < before, start) - STEP_FRAMES // 2


def read_wav(path: Path) -> np.ndarray:
    """Mono samples of a 16-bit WAV at RATE."""
    with wave.open(str(path)) as f:
        if f.getframerate() != RATE:
            raise RuntimeError(f"{path} is at {f.getframerate()} Hz")
        return np.frombuffer(f.readframes(f.getnframes()), "<i2") / 32768.0


def self_check(ref: np.ndarray) -> float:
    """The detection run on ``ref`` changed at known frames as the audio callback changes it
    (a fade out, a held silence, a fade in, a volume step, each at a frame that is no block
    boundary), quantised to 16 bits and shifted; the largest error, ms. Raises if over 2 ms."""
    rng = np.random.default_rng(14)
    lead = 12345
    pause_at, paused = 5 * RATE + 777, int(PAUSED * RATE) - 101
    resume_at = pause_at + int(FADE * RATE) + paused
    step_at = resume_at + 2 * RATE + 333
    fade = 0.5 + 0.5 * np.cos(np.pi * np.arange(int(FADE * RATE)) / (FADE * RATE))
    g = np.ones(len(ref) + paused)
    g[pause_at:pause_at + len(fade)] = fade
    g[pause_at + len(fade):resume_at] = 0
    g[resume_at:resume_at + len(fade)] = fade[::-1]
    ratio = (VOLUME + VOLUME_STEP) / VOLUME
    g[step_at:step_at + STEP_FRAMES] *= 1 + (ratio - 1) * np.arange(1, STEP_FRAMES + 1) \
        / STEP_FRAMES
    g[step_at + STEP_FRAMES:] *= ratio
    source = np.concatenate([ref[:pause_at + len(fade)], np.zeros(paused),
                             ref[pause_at + len(fade):]])
    rec = np.concatenate([np.zeros(lead), source * g[:len(source)] * 0.5])
    rec = np.round(rec * 32767 + rng.normal(0, 0.5, len(rec))) / 32767
    finder = Finder(rec, ref)
    found = [(finder.pause(lead + pause_at - 1500), lead + pause_at),
             (finder.resume(lead + resume_at - 900), lead + resume_at),
             (finder.volume(lead + step_at - 2100, ratio), lead + step_at)]
    worst = max(abs(a - b) for a, b in found) / RATE * 1000
    if worst > 2:
        raise RuntimeError(f"the detection is off by {worst:.1f} ms on a synthetic recording")
    return worst


def render_reference(work: Path) -> np.ndarray:
    """The session, rendered to a file at the device's rate."""
    out = work / "keys-reference.wav"
    done = subprocess.run(grounding_argv() + SESSION + ["--samplerate", str(RATE), "--out",
                                                        str(out)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"the reference render failed: {done.stderr[-300:]}")
    return read_wav(out)


def presses() -> list[tuple[float, str, str]]:
    """(seconds after the first sound, key, what it does) for one run."""
    plan = []
    for k in range(PRESSES):
        at = FIRST_PRESS + k * CYCLE + k * 0.013 * 7
        plan += [(at, " ", "pause"), (at + PAUSED, " ", "resume"),
                 (at + PAUSED + TO_VOLUME, "+", "volume")]
    return plan


def buffer_latency() -> tuple[float, float] | None:
    """The program's stream as the sound server sees it: its buffer and the sink's latency,
    ms (``pactl list sink-inputs``)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pactl", "list", "sink-inputs"], capture_output=True, text=True,
                             timeout=5).stdout
        found = LATENCY.search(out)
        if found:
            return int(found.group(1)) / 1000, int(found.group(2)) / 1000
    return None


def one_run(ref: np.ndarray) -> tuple[dict[str, list[float]], tuple[float, float] | None,
                                      float]:
    """One session on a pseudo-terminal with the monitor recorded; the delay of each press
    by kind, ms, the stream's buffer as the sound server saw it mid-session, and the time from
    the first audible block handed to the device (the program's ``--debug`` line) to its
    first sample reaching the sink, ms."""
    monitor = Monitor()
    child = Child(grounding_argv() + SESSION + ["--device", "pulse", "--debug"], terminal=True)
    pressed: list[tuple[float, str]] = []
    latency = None
    try:
        deadline = time.monotonic() + 60
        while not (found := FIRST_AUDIBLE.search(child.text())):
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no first-audible line (exit {child.code}): "
                                   f"{child.text()[-300:]}")
            child.drain()
            time.sleep(0.005)
        began = time.monotonic() - (time.time() - float(found.group(2)))
        for at, key, kind in presses():
            while time.monotonic() < began + at:
                child.drain()
                time.sleep(0.002)
            before = time.monotonic()
            os.write(child.master, key.encode())
            pressed.append(((before + time.monotonic()) / 2, kind))
            if latency is None and kind == "volume":
                latency = buffer_latency()
        child.wait(1.5)
        os.write(child.master, b"q")
        child.wait(5)
    finally:
        child.reap()
        os.close(child.master)
        rec, ends, times = monitor.stop()
    finder = Finder(rec, ref)
    delays: dict[str, list[float]] = {"pause": [], "resume": [], "volume": []}
    volume, first = VOLUME, None
    for when, kind in pressed:
        n = int(round((when - times[0]) * RATE + ends[0]))
        n = int(round(n - (sample_time(n, ends, times) - when) * RATE))  # refine locally
        if kind == "pause":
            heard = finder.pause(n)
        elif kind == "resume":
            heard = finder.resume(n)
        else:
            ratio = (volume + VOLUME_STEP) / volume
            volume += VOLUME_STEP
            heard = finder.volume(n, ratio)
        delays[kind].append(1000 * (sample_time(heard, ends, times) - when))
        if first is None:  # aligned before any pause: the session's first sample
            start = next(i for i in range(0, len(ref), STEP_FRAMES)
                         if ref[i:i + STEP_FRAMES].any())
            first = 1000 * (sample_time(start + finder.shift, ends, times) - began)
    return delays, latency, first


def measure_keys(runs: int, work: Path, condition: str = "idle") -> None:
    """``runs`` sessions with PRESSES pauses, resumes and volume steps each; the delay from
    each press to the moment its effect reaches the sink, medians and worst."""
    ref = render_reference(work)
    check = self_check(ref)
    say(f"keys heard ({condition}): {runs} runs of {len(presses())} presses "
        f"(self-check on a synthetic recording: within {check:.2f} ms)")
    every: dict[str, list[float]] = {"pause": [], "resume": [], "volume": []}
    per_run, buffers, handed = [], [], []
    for _ in range(runs):
        delays, latency, first = one_run(ref)
        handed.append(first)
        for kind, values in delays.items():
            every[kind] += values
        per_run.append(max(median(delays["pause"]), median(delays["volume"])))
        if latency:
            buffers.append(latency)
    med = {kind: median(values) for kind, values in every.items()}
    worst = {kind: max(values) for kind, values in every.items()}
    result = max(med["pause"], med["volume"])
    server = (f"; the sound server held {median(b[0] for b in buffers):.0f} ms of the stream "
              f"+ {median(b[1] for b in buffers):.0f} ms in the sink" if buffers else "")
    add(f"8. keys heard ({condition})", f"{result:.0f} ms", "≤ 300 ms", result <= 300,
        f"press to the change reaching the sink, `breathe 4-6 --no-voice` on a terminal: "
        f"space (pause) median {med['pause']:.0f} ms, worst {worst['pause']:.0f}; + (volume) "
        f"median {med['volume']:.0f}, worst {worst['volume']:.0f}; space (resume) median "
        f"{med['resume']:.0f}, worst {worst['resume']:.0f}; {len(every['pause'])} presses "
        f"of each over {runs} runs (per run, the larger median: {fmt_runs(per_run, ' ms')})"
        f"{server}; the first audible block reached the sink {median(handed):.0f} ms after "
        f"the program handed it over ({fmt_runs(handed, ' ms')}: near 0, as the stream starts "
        f"empty; below 0, the recording's times are that early); self-check {check:.2f} ms")
