"""The sound-card path for real: grounding plays through PortAudio and ALSA's ``pulse`` device
into a private PulseAudio null sink, and ``parecord`` records the sink's monitor
(docs/audio-stack.md §7).

Two sessions are played and recorded once each and shared by the tests below: two breaths of
``breathe 4-6`` played to the end (20 s), and a tone-only exercise stopped with Ctrl-C (SIGINT)
2 s after it begins.

The recordings are compared with the same sessions written with ``--out``, sample by sample. A
busy machine may make the sound card run short of audio for a moment: it then plays silence,
inserted or in the place of some of the sound. The comparison steps over such silences (and
says where they were), as whether a session runs short under load is a measure of speed,
which ``bench/run.py`` reports, not of what is played.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import pulse  # tests/pulse.py
from grounding.palette import load_palette
from grounding.render import DEVICE_LOUDNESS
from grounding.sinks import BLOCKSIZE
from grounding.soundcard import FADE_SECONDS
from support import read_wav, seen_notice

pytestmark = pytest.mark.audio

SR = pulse.SAMPLERATE
BREATHE = ["breathe", "4-6", "--cycles", "2", "--no-voice", "--samplerate", str(SR)]
IN_SECONDS, OUT_SECONDS, CYCLES = 4, 6, 2
TONE_ONLY = """\
title = "Tone only"
summary = "Two breaths of the pacer and nothing said, for the Ctrl-C test."
minutes = 0.5
tags = ["breathing"]
holds = false
source = "tests/test_device.py"

[[step]]
breathe = "4-6"
cycles = 2
cues = "none"
cue_cycles = 0
"""
INTERRUPT_AFTER_SECONDS = 2.0
"""Ctrl-C lands inside the first in-breath, this long after the session's title is shown
(just before its first sound), well after the tone has become audible."""
TOLERANCE = 2 / 32768
"""How far a recorded sample may be from the render's: two steps of the 16-bit recording
(the sound card gets float samples, the file and the recording hold 16-bit ones)."""


@dataclass
class Session:
    """One session played into the null sink, and what the same command wrote to a file."""

    returncode: int
    stderr: str
    capture: np.ndarray
    """The sink's monitor, mono, 48 kHz, from before the program started to after it ended."""
    render: np.ndarray
    """The same session rendered with ``--out``."""
    exit_seconds: float = 0.0
    """From SIGINT to the process ending (interrupted sessions only)."""


@dataclass
class Gap:
    """A silence in a recording where the card ran short of audio."""

    at: float
    """Where in the render the recording fell silent, seconds."""
    silence: float
    """How long the recording was silent, seconds."""
    lost: float
    """How much of the render the silence stood in for, seconds (0: it was inserted)."""
    faded: bool = False
    """Whether the sound then faded back in (as after the program was stopped for a while
    or opened the device again), rather than coming back at once."""


@dataclass
class Heard:
    """A recording laid over the render it should hold (see :func:`follow`)."""

    samples: np.ndarray
    """The recording, sample ``k`` in line with the render's sample ``k``: silence up to
    where the render's sound begins, then what was heard of each of its samples (silence
    where the card ran short, any silence it inserted left out), then, from where the
    recording stopped holding the render, the rest of the recording."""
    followed_to: int
    """The render's sample at which the recording stopped holding it (its end if never)."""
    gaps: list[Gap] = field(default_factory=list)
    """Where the recording fell silent and took the render up again later."""

    def describe(self) -> str:
        return (f"followed to {self.followed_to / SR:.3f} s; silences: "
                + (", ".join(f"{g.silence * 1000:.0f} ms at {g.at:.3f} s in place of "
                             f"{g.lost * 1000:.0f} ms of the render"
                             + (", then a fade back in" if g.faded else "")
                             for g in self.gaps)
                   or "none"))


def grounding(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m grounding ARGS`` to the end."""
    return subprocess.run([sys.executable, "-m", "grounding", *args], env=env,
                          capture_output=True, text=True, **kwargs)


def render(args: list[str], env: dict[str, str], path: Path) -> np.ndarray:
    """What ``grounding ARGS --out PATH`` writes, as samples, at the sound card's loudness."""
    done = grounding([*args, "--out", str(path), "--loudness", str(DEVICE_LOUDNESS)], env,
                     timeout=60)
    assert done.returncode == 0, done.stderr
    samples, samplerate = read_wav(path)
    assert samplerate == SR
    return samples


def _default_sigint() -> None:
    # A non-interactive shell starts background jobs with SIGINT ignored; an ignored signal
    # stays ignored across exec, and Python only installs its KeyboardInterrupt handler over
    # the default disposition, so the Ctrl-C under test would do nothing.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def breathing(pulse_daemon, tmp_path_factory) -> Session:
    """``grounding breathe 4-6 --cycles 2 --no-voice`` played to the end and recorded."""
    folder = tmp_path_factory.mktemp("breathing")
    env = pulse_daemon.environ(GROUNDING_HOME=str(folder / "home"))
    expected = render(BREATHE, env, folder / "render.wav")
    with pulse.Recorder(pulse_daemon, folder / "capture.wav") as recorder:
        played = grounding([*BREATHE, "--device", "pulse"], env,
                           timeout=len(expected) / SR + 30)
        time.sleep(0.3)  # the monitor delivers the last blocks a little later
        capture = recorder.stop()
    return Session(played.returncode, played.stderr, capture, expected)


@pytest.fixture(scope="module")
def interrupted(pulse_daemon, tmp_path_factory) -> Session:
    """A tone-only exercise (sound from the first second) stopped with SIGINT after 3 s."""
    folder = tmp_path_factory.mktemp("interrupted")
    env = pulse_daemon.environ(GROUNDING_HOME=str(folder / "home"))
    exercise = folder / "tone-only.toml"
    exercise.write_text(TONE_ONLY, encoding="utf-8")
    args = ["play", str(exercise), "--no-voice", "--samplerate", str(SR)]
    expected = render(args, env, folder / "render.wav")
    with pulse.Recorder(pulse_daemon, folder / "capture.wav") as recorder:
        process = subprocess.Popen(
            [sys.executable, "-m", "grounding", *args, "--device", "pulse"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=_default_sigint)
        try:
            opened = ""
            for line in process.stderr:  # the title comes as the session opens, however slowly
                opened += line
                if line.startswith("Tone only ·"):
                    break
            time.sleep(INTERRUPT_AFTER_SECONDS)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=10)
            stderr = opened + stderr
            exit_seconds = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        time.sleep(0.3)  # record some of the silence after the end
        capture = recorder.stop()
    return Session(process.returncode, stderr, capture, expected, exit_seconds)


# -- analysis (numpy only) ------------------------------------------------------------------

def peak_hz(samples: np.ndarray, lo: float = 150.0, hi: float = 450.0) -> float:
    """Frequency of the strongest FFT peak between lo and hi Hz (Hann window, zero-padded,
    refined by a parabola through the log magnitudes around the peak)."""
    size = 1 << 16
    magnitude = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), size))
    freqs = np.fft.rfftfreq(size, 1 / SR)
    band = np.flatnonzero((freqs >= lo) & (freqs <= hi))
    k = band[np.argmax(magnitude[band])]
    a, b, c = np.log(magnitude[k - 1:k + 2] + 1e-30)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / size


def window_rms(samples: np.ndarray, frames: int) -> np.ndarray:
    """RMS of consecutive windows of ``frames`` (a partial last window is left out)."""
    count = len(samples) // frames
    return np.sqrt(np.mean(samples[:count * frames].reshape(count, frames) ** 2, axis=1))


def sound_span(samples: np.ndarray) -> tuple[int, int]:
    """First non-zero sample, and the sample after the last non-zero one."""
    nonzero = np.flatnonzero(samples)
    assert len(nonzero), "the recording is digital silence throughout"
    return int(nonzero[0]), int(nonzero[-1]) + 1


def follow(capture: np.ndarray, render: np.ndarray) -> Heard:
    """Follow the render through the recording from their first sounds: each of the render's
    samples must come next in the recording, within ``TOLERANCE``, but where the recording
    falls silent (the card ran short of audio for a moment, as it may on a busy machine; up
    to ``MAX_GAP`` at a time) and then takes the render up again further on, at once or
    fading back in over the program's own fade. Stops at the render's last sound, or where
    the recording holds anything else (a fade out, say); the rest of the recording
    follows."""
    first, end = sound_span(render)
    i, j = first, sound_span(capture)[0]
    heard, gaps = np.zeros(end), []
    while i < end:
        n = min(end - i, len(capture) - j)
        differs = np.abs(capture[j:j + n] - render[i:i + n]) > TOLERANCE
        same = int(np.argmax(differs)) if differs.any() else n
        heard[i:i + same] = capture[j:j + same]
        i, j = i + same, j + same
        if i == end or j == len(capture):
            break
        resumed = _resumes(capture, j, render[:end], i)
        faded = False
        if resumed is None:
            resumed, faded = _fades_back(capture, j, render[:end], i), True
        if resumed is None:
            break
        back, at = resumed
        gaps.append(Gap(i / SR, (back - j) / SR, max(0, at - i) / SR, faded))
        heard[i:at] = 0.0
        if faded:  # the fade itself, then the render exactly again
            heard[at:at + FADE] = capture[back:back + FADE]
            back, at = back + FADE, at + FADE
        j, i = back, at
    return Heard(np.concatenate([heard[:i], capture[j:]]), i, gaps)


MAX_GAP = 2 * SR
"""The longest silence :func:`follow` steps over: the program takes a sound card that has
taken nothing for two seconds for gone (and then goes on without it)."""
MATCH = 2048
"""Samples that must match for the recording to have taken up the render again (a block)."""
FADE = (math.ceil(FADE_SECONDS * SR / BLOCKSIZE) + 1) * BLOCKSIZE
"""Samples from where a fade back in becomes audible to where it has surely ended: the
program fades in block by block over ``FADE_SECONDS``, from the start of a block."""


def _resumes(capture: np.ndarray, j: int, render: np.ndarray, i: int) -> tuple[int, int] | None:
    """Where a recording that stopped holding the render at (capture ``j``, render ``i``)
    takes it up again after a silence, as (capture, render) samples; None if it is not
    silent there, or never does.

    The card either inserts the silence (the render then goes on where it stopped) or plays
    it in the place of as much of the render, which is lost; those two are tried first.
    Else, as where the render is itself near silence (a fade-in) and some of it was matched
    against the silence already, the recording's next sound is looked for anywhere from
    ``MAX_GAP`` before ``i`` to a little after the silence, the least lost first. A match
    must hold for ``MATCH`` samples past the render's next distinctly audible one (a quiet,
    steady tone matches itself a period later for a while)."""
    back = _sounds_again(capture, j)
    if back is None:
        return None
    k = min(len(capture) - back, _to_match(render, i))
    target = capture[back:back + k]

    def holds(at: int) -> bool:
        return 0 <= at <= len(render) - k and \
            bool(np.all(np.abs(render[at:at + k] - target) <= TOLERANCE))

    silence = back - j
    for at in (i, *range(i + silence - 16, i + silence + 17)):
        if holds(at):
            return back, at
    lo, hi = max(0, i - MAX_GAP), min(len(render) - k, i + silence + MATCH)
    return next(((back, at) for at in _near(render, target, lo, hi) if holds(at)), None)


def _fades_back(capture: np.ndarray, j: int, render: np.ndarray,
                i: int) -> tuple[int, int] | None:
    """Where a recording that stopped holding the render at (capture ``j``, render ``i``)
    fades back in after a silence, as (capture, render) samples at the fade's first audible
    one; None if it does not. From ``FADE`` samples on, the recording must hold the render
    exactly again for ``MATCH`` samples past its next distinctly audible one, and through
    the fade it must be the same sound made quieter, never louder."""
    back = _sounds_again(capture, j)
    if back is None:
        return None
    k = min(len(capture) - back - FADE, _to_match(render, i))
    if k < 64:
        return None
    target = capture[back + FADE:back + FADE + k]
    faded = np.abs(capture[back:back + FADE])

    def holds(at: int) -> bool:
        return 0 <= at <= len(render) - FADE - k \
            and bool(np.all(np.abs(render[at + FADE:at + FADE + k] - target) <= TOLERANCE)) \
            and bool(np.all(faded <= np.abs(render[at:at + FADE]) + TOLERANCE))

    lo, hi = max(0, i - MAX_GAP), min(len(render) - FADE - k, i + (back - j) + MATCH)
    near = sorted(_near(render, target, lo, hi, FADE), key=lambda at: abs(at - i))
    return next(((back, at) for at in near if holds(at)), None)


def _sounds_again(capture: np.ndarray, j: int) -> int | None:
    """Where a recording silent at ``j`` sounds again (within ``MAX_GAP``); None if it is
    not silent there, or stays silent."""
    quiet = np.abs(capture[j:j + MAX_GAP + 1]) <= TOLERANCE
    if not quiet[0] or quiet.all():
        return None
    return j + int(np.argmin(quiet))


def _to_match(render: np.ndarray, i: int) -> int:
    """How many samples must match from ``i``: ``MATCH`` past the render's next distinctly
    audible one."""
    audible = np.flatnonzero(np.abs(render[i:]) > 8 * TOLERANCE)
    return (int(audible[0]) if len(audible) else 0) + MATCH


def _near(render: np.ndarray, target: np.ndarray, lo: int, hi: int,
          shift: int = 0) -> list[int]:
    """The render's samples ``at`` from ``lo`` to ``hi`` where ``render[at + shift:]`` starts
    as ``target`` does, over 64 samples: a cheap first look, in slices, in order."""
    near: list[int] = []
    for start in range(lo, hi + 1, 4096):
        stop = min(hi + 1, start + 4096)
        windows = np.lib.stride_tricks.sliding_window_view(
            render[start + shift:stop + shift + 63], 64)
        near.extend(int(at) for at in start + np.flatnonzero(
            np.all(np.abs(windows - target[:64]) <= TOLERANCE, axis=1)))
    return near


# -- tests ----------------------------------------------------------------------------------

def test_the_tone_rises_through_each_in_breath_and_falls_through_each_out_breath(breathing):
    tone = load_palette("day").tone
    heard = follow(breathing.capture, breathing.render).samples
    onset, _ = sound_span(heard)
    cycle = IN_SECONDS + OUT_SECONDS
    for k in range(CYCLES):
        for kind, start, length in (("in", k * cycle, IN_SECONDS),
                                    ("out", k * cycle + IN_SECONDS, OUT_SECONDS)):
            # 0.2 s windows every 0.1 s, keeping 0.3 s away from the turns of the breath
            centres = np.arange(start + 0.3, start + length - 0.3 + 1e-9, 0.1)
            pitch = np.array([peak_hz(heard[at - 4800:at + 4800])
                              for at in (onset + np.round(centres * SR).astype(int))])
            slope = np.polyfit(centres, pitch, 1)[0]
            steps = np.sign(np.diff(pitch))
            where = f"cycle {k + 1}, {kind}-breath: {np.round(pitch).astype(int).tolist()} Hz"
            if kind == "in":
                assert slope > 20, where  # 110 Hz over 4 s: about 27 Hz/s on average
                assert np.mean(steps > 0) >= 0.95, where
                assert abs(pitch[0] - tone.low_hz) < 8 and abs(pitch[-1] - tone.high_hz) < 8, where
            else:
                assert slope < -12, where  # 110 Hz over 6 s: about 18 Hz/s on average
                assert np.mean(steps < 0) >= 0.95, where
                assert abs(pitch[0] - tone.high_hz) < 8 and abs(pitch[-1] - tone.low_hz) < 8, where


def test_the_sound_card_plays_exactly_what_the_file_render_holds(breathing):
    assert breathing.returncode == 0, breathing.stderr
    heard = follow(breathing.capture, breathing.render)
    _, end = sound_span(breathing.render)
    # every sample of the render, in order, to within two 16-bit steps, and nothing else but
    # silence where the card ran short; then silence after the last one
    assert heard.followed_to == end, heard.describe()
    assert not heard.samples[end:].any(), heard.describe()


def test_the_comparison_steps_over_silences_and_stops_at_anything_else():
    t = np.arange(3 * SR) / SR  # a tone that fades in, as a 16-bit recording holds it
    fade_in = np.minimum(1, t / 0.5) ** 3
    render = np.round(0.1 * np.sin(2 * np.pi * 220 * t) * fade_in * 32768) / 32768
    first, end = sound_span(render)
    faint, inserted, replaced = first + 300, SR, 2 * SR  # the render near silence, then loud
    recorded = np.concatenate([
        np.zeros(500), render[first:faint], np.zeros(700),  # silence inserted
        render[faint:inserted], np.zeros(BLOCKSIZE),  # and again
        render[inserted:replaced], np.zeros(BLOCKSIZE - 1),  # silence in place of a block
        render[replaced + BLOCKSIZE:]])
    heard = follow(recorded, render)
    assert heard.followed_to == end, heard.describe()
    found = [(g.at * SR, g.silence * SR, g.lost * SR) for g in heard.gaps]
    assert np.allclose([f[1:] for f in found], [(700, 0), (BLOCKSIZE, 0),
                                               (BLOCKSIZE - 1, BLOCKSIZE)], atol=3), found
    assert faint <= found[0][0] < faint + 1000  # noticed once the render is no longer faint
    assert np.allclose([f[0] for f in found[1:]], [inserted, replaced], atol=2), found
    kept = np.ones(end, dtype=bool)
    kept[replaced:replaced + BLOCKSIZE] = False
    assert np.allclose(heard.samples[:end][kept], render[:end][kept], rtol=0, atol=TOLERANCE)
    assert not heard.samples[replaced:replaced + BLOCKSIZE].any()
    plain = np.concatenate([np.zeros(500), render[first:]])
    changed = plain.copy()
    changed[inserted - first + 500] += 0.01
    assert follow(changed, render).followed_to == inserted
    lost = np.concatenate([plain[:inserted - first + 500], plain[inserted - first + 510:]])
    assert follow(lost, render).followed_to == inserted  # ten samples gone, without silence
    # a second of silence, then the render fading back in where it stopped (the program's
    # fade after it was stopped for a while), and once more but louder than the render
    resumed = int(1.5 * SR)
    gain = 0.5 - 0.5 * np.cos(np.pi * np.minimum(1, np.arange(end - resumed) / (0.25 * SR)))
    back = np.round(render[resumed:end] * gain * 32768) / 32768
    faded = np.concatenate([plain[:resumed - first + 500], np.zeros(SR), back])
    heard = follow(faded, render)
    assert heard.followed_to == end, heard.describe()
    (gap,) = heard.gaps
    # (the fade's first samples are as quiet as the silence, and taken for lost)
    assert gap.faded and gap.lost < 0.01 and abs(gap.at * SR - resumed) < 2, heard.describe()
    assert 1.0 <= gap.silence < 1.01, heard.describe()
    louder = np.concatenate([plain[:resumed - first + 500], np.zeros(SR), back * 1.5])
    assert abs(follow(louder, render).followed_to - resumed) < 2


def test_when_the_card_runs_short_of_audio_the_program_says_so_in_a_sentence(instant_device,
                                                                            tmp_path):
    # A device that takes sound faster than it can be made is always short of it; the
    # sentence is also what bench/run.py reads to count a session's underflows.
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    done = grounding(["breathe", "4-6", "--cycles", "1", "--no-voice", "--device", "instant"],
                     {**os.environ, **instant_device, "GROUNDING_HOME": str(home)}, timeout=60)
    assert done.returncode == 0, done.stderr
    said = done.stderr.splitlines()
    assert said[0] == "Paced breathing 4-6 · about 10 seconds", said
    assert re.fullmatch(r"The sound card ran short of audio \d+ times?; you may have heard "
                        r"small gaps\.", said[-1]), said
    assert len(said) == 2, said  # nothing from ALSA or PortAudio themselves
def test_ctrl_c_fades_to_digital_silence_within_300_ms(interrupted):
    heard = follow(interrupted.capture, interrupted.render).samples
    heard = heard[:len(interrupted.render)]
    expected = interrupted.render[:len(heard)]
    window = SR // 200  # 5 ms
    gain = window_rms(heard, window) / np.maximum(window_rms(expected, window), 1e-9)
    _, silent_from = sound_span(heard)
    full = np.flatnonzero(gain[:silent_from // window] >= 0.97)
    assert len(full), "the recording never matched the render at full level"
    fade_from = (full[-1] + 1) * window  # the envelope leaves the render's from here on
    fade_seconds = (silent_from - fade_from) / SR
    assert fade_from / SR > 1.0, "Ctrl-C came before a second of sound was recorded"
    assert np.median(gain[full[-1] - SR // window:full[-1]]) == pytest.approx(1, abs=0.01)
    assert 0.15 <= fade_seconds <= 0.3 + BLOCKSIZE / SR, f"fade took {fade_seconds:.3f} s"
    assert gain[silent_from // window - 1] < 0.1, "the sound stopped with a step, not a fade"
    assert len(heard) - silent_from > 0.1 * SR, "the recording ended before the silence"


def test_ctrl_c_exits_with_code_130_within_1_5_s_without_a_traceback(interrupted):
    assert interrupted.returncode == 130, interrupted.stderr
    assert interrupted.exit_seconds <= 1.5
    assert "Traceback" not in interrupted.stderr


# -- faults: this process stopped, the sound server restarted --------------------------------

FAULT = ["breathe", "4-6", "--minutes", "1", "--no-voice", "--samplerate", str(SR)]
"""A minute of paced breathing, played while a fault is made; stopped with SIGINT once the
fault is over (the breaths repeat sample for sample every ten seconds)."""


class Watched:
    """``grounding ARGS --device pulse`` running, its plain display lines read as they come,
    each with the ``time.monotonic()`` at which it arrived."""

    def __init__(self, args: list[str], env: dict[str, str]):
        import threading

        self.process = subprocess.Popen(
            [sys.executable, "-m", "grounding", *args, "--device", "pulse"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_default_sigint)
        self.lines: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """When the display line ``text`` arrived, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrived, line in list(self.lines):
                if line == text:
                    return arrived
            assert self.process.poll() is None, self.process.stderr.read()
            time.sleep(0.02)
        raise AssertionError(f"no line {text!r} within {timeout} s; lines: {self.lines}")

    def interrupt(self) -> str:
        """Stop the session with SIGINT; its standard error."""
        self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.reader.join(2)
        return stderr

    def phase_lines(self, after: float) -> list[tuple[float, float]]:
        """The phase lines (``0:10  breathe in``) that arrived after ``after``: when, and the
        session time they name, seconds."""
        found = []
        for arrived, line in self.lines:
            clock = re.match(r"(\d+):(\d\d)  breathe (in|out)$", line)
            if clock and arrived > after:
                found.append((arrived, 60 * int(clock[1]) + int(clock[2])))
        return found


def locate(capture: np.ndarray, at: int, render: np.ndarray, near: int,
           reach: int = 4 * SR) -> int:
    """Where in the render the recording's samples from ``at`` on are, nearest ``near``
    within ``reach``: the render's sample that the recording's sample ``at`` holds (the
    breaths repeat every ten seconds, so only the window is searched)."""
    length = SR // 10
    target = capture[at:at + length]
    assert len(target) == length and np.abs(target).max() > 100 * TOLERANCE, \
        f"the recording is not sounding at {at / SR:.2f} s"
    lo, hi = max(0, near - reach), min(len(render) - length, near + reach)
    windows = np.lib.stride_tricks.sliding_window_view(render[lo:hi + 64], 64)
    starts = lo + np.flatnonzero(np.all(np.abs(windows - target[:64]) <= TOLERANCE, axis=1))
    found = [int(s) for s in starts
             if np.all(np.abs(render[s:s + length] - target) <= TOLERANCE)]
    assert found, f"the recording at {at / SR:.2f} s holds nothing of the render near " \
                  f"{near / SR:.2f} s"
    return min(found, key=lambda s: abs(s - near))


def silences(capture: np.ndarray, longer_than: float) -> list[tuple[int, int]]:
    """The runs of digital silence in the recording, between its first and last sounds, longer
    than ``longer_than`` seconds: (first silent sample, first sounding sample after)."""
    first, end = sound_span(capture)
    quiet = np.abs(capture[first:end]) <= TOLERANCE
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    runs = zip(first + np.flatnonzero(edges == 1), first + np.flatnonzero(edges == -1))
    return [(int(a), int(b)) for a, b in runs if b - a > longer_than * SR]


def in_step(lines: list[tuple[float, float]], heard_at: float, frame: int) -> list[float]:
    """How far each phase line is from the sound: the render's ``frame`` was heard at the
    monotonic time ``heard_at``, so the line naming session time T should have arrived at
    ``heard_at + T - frame / SR``. Seconds, late positive."""
    return [round(arrived - (heard_at + named - frame / SR), 3) for arrived, named in lines]


def test_after_a_suspend_the_sound_resumes_within_a_second_from_where_it_was(pulse_daemon,
                                                                            tmp_path):
    env = pulse_daemon.environ(GROUNDING_HOME=str(seen_notice(tmp_path / "home")))
    expected = render(FAULT, env, tmp_path / "render.wav")
    with pulse.Recorder(pulse_daemon, tmp_path / "capture.wav") as recorder:
        recorded_from = time.monotonic()  # the recording's first sample, to within ~50 ms
        session = Watched(FAULT, env)
        try:
            session.wait_for("0:04  breathe out")
            time.sleep(2.0)  # the stop comes in the middle of an out-breath
            session.process.send_signal(signal.SIGSTOP)
            stopped = time.monotonic()
            time.sleep(5.0)
            session.process.send_signal(signal.SIGCONT)
            continued = time.monotonic()
            session.wait_for("0:14  breathe out", timeout=15)
            time.sleep(1.0)
        finally:
            session.process.send_signal(signal.SIGCONT)
            stderr = session.interrupt()
        capture = recorder.stop()
    assert np.abs(capture[round((continued - recorded_from) * SR):]).max() > TOLERANCE, \
        f"no sound after SIGCONT; the program said: {stderr}"
    gaps = silences(capture, 1.0)
    assert len(gaps) == 1, f"silences of over a second (s): {np.divide(gaps, SR).tolist()}"
    went, back = gaps[0]
    assert abs(recorded_from + went / SR - stopped) < 0.5, "the silence is not the stop"
    came_back = recorded_from + back / SR - continued
    assert came_back <= 1.0, f"the sound came back {came_back:.2f} s after SIGCONT"
    # the breath goes on from where it stopped, rather than five seconds further on
    before = went - SR // 2
    stop_frame = locate(capture, before, expected, round((stopped - session.wait_for(
        "0:04  breathe out") + 4) * SR)) + SR // 2
    after = back + SR // 2  # past the fade back in
    resume_frame = locate(capture, after, expected, stop_frame) - SR // 2
    assert abs(resume_frame - stop_frame) <= 0.2 * SR, \
        f"stopped at {stop_frame / SR:.2f} s of the session, resumed at {resume_frame / SR:.2f} s"
    # and the display follows the sound
    late = in_step(session.phase_lines(continued), recorded_from + after / SR,
                   resume_frame + SR // 2)
    assert late and all(abs(t) <= 0.4 for t in late), late
    assert "went away" not in stderr and "Traceback" not in stderr, stderr


def test_when_the_sound_server_comes_back_the_sound_returns_within_2_s_in_step(tmp_path):
    daemon = pulse.start_daemon("coming_back")
    try:
        env = daemon.environ(GROUNDING_HOME=str(seen_notice(tmp_path / "home")))
        expected = render(FAULT, env, tmp_path / "render.wav")
        session = Watched(FAULT, env)
        try:
            session.wait_for("0:04  breathe out")
            time.sleep(1.0)
            daemon.kill()
            time.sleep(3.0)
            daemon = pulse.start_daemon(daemon.sink, daemon.folder)
            restarted = time.monotonic()
            with pulse.Recorder(daemon, tmp_path / "capture.wav") as recorder:
                recorded_from = time.monotonic()
                session.wait_for("0:14  breathe out", timeout=15)
                time.sleep(1.0)
                capture = recorder.stop()
        finally:
            stderr = session.interrupt()
    finally:
        daemon.stop()
    assert capture.any(), f"no sound after the server came back; the program said: {stderr}"
    onset, _ = sound_span(capture)
    came_back = recorded_from + onset / SR - restarted
    assert came_back <= 2.0, f"the sound came back {came_back:.2f} s after the server did"
    # in step with the session's clock, which went on meanwhile: the phase lines, before
    # and after the sound came back, are where the sound says they should be
    heard = onset + SR // 2  # past the fade back in
    began = session.wait_for("0:00  breathe in")
    frame = locate(capture, heard, expected,
                   round((recorded_from + heard / SR - began) * SR), reach=3 * SR)
    late = in_step(session.phase_lines(began), recorded_from + heard / SR, frame)
    assert len(late) >= 3 and all(abs(t) <= 0.5 for t in late), late
    said = stderr.splitlines()
    assert [line for line in said if "went away" in line or "is back" in line] == [
        next(line for line in said if "went away" in line), "The sound is back."], stderr
    assert "Traceback" not in stderr and "Expression" not in stderr, stderr


def test_config_set_device_keeps_only_a_device_that_is_there(instant_device, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, **instant_device, "GROUNDING_HOME": str(home)}
    settings = home / "config" / "config.toml"
    for wanted, words in (("99", "No output device matches '99'."),
                          ("instnt", "No output device matches 'instnt'. Did you mean "
                                     "'instant'?")):
        done = grounding(["config", "set", "device", wanted], env, timeout=30)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "'grounding devices'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and not settings.exists()
    kept = grounding(["config", "set", "device", "instant"], env, timeout=30)
    assert kept.returncode == 0, kept.stderr
    assert 'device = "instant"' in settings.read_text()


def test_a_device_that_is_not_there_is_a_sentence_and_exit_2_before_anything_plays(
        instant_device, tmp_path):
    home = seen_notice(tmp_path / "home")
    env = {**os.environ, **instant_device, "GROUNDING_HOME": str(home)}
    done = grounding(["breathe", "4-6", "--cycles", "1", "--no-voice", "--device", "instnt"],
                     env, timeout=30)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("No output device matches 'instnt'. Did you mean 'instant'? "
                                   "'grounding devices' lists the ones you can use.")
    assert done.stdout == ""
