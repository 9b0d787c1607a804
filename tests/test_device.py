"""The sound-card path for real: grounding plays through PortAudio and ALSA's ``pulse`` device
into a private PulseAudio null sink, and ``parecord`` records the sink's monitor (TECH.md §7).

Two sessions are played and recorded once each and shared by the tests below: two breaths of
``breathe 4-6`` played to the end (20 s), and a tone-only exercise stopped with Ctrl-C (SIGINT)
2 s after it begins.

The recordings are compared with the same sessions written with ``--out``, sample by sample. A
busy machine may make the sound card run short of audio for a moment, which puts a stretch of
silence into the recording; the comparison steps over such stretches (and says where they
were), as whether a session runs short under load is a measure of speed, which ``bench/run.py``
reports, not of what is played.
"""

from __future__ import annotations

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
from grounding.sinks import BLOCKSIZE
from support import read_wav

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
class Heard:
    """A recording laid over the render it should hold (see :func:`follow`)."""

    samples: np.ndarray
    """The recording, sample ``k`` in line with the render's sample ``k``: from where the
    render's sound begins, with any silence the card inserted left out."""
    followed_to: int
    """The render's sample at which the recording stopped holding it (its end if never)."""
    gaps: list[tuple[float, float]] = field(default_factory=list)
    """Silences inserted into the recording: (where in the render, how long), seconds."""

    def describe(self) -> str:
        return (f"followed to {self.followed_to / SR:.3f} s, silences inserted: "
                + (", ".join(f"{g * 1000:.0f} ms at {at:.3f} s" for at, g in self.gaps)
                   or "none"))


def grounding(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m grounding ARGS`` to the end."""
    return subprocess.run([sys.executable, "-m", "grounding", *args], env=env,
                          capture_output=True, text=True, **kwargs)


def render(args: list[str], env: dict[str, str], path: Path) -> np.ndarray:
    """What ``grounding ARGS --out PATH`` writes, as samples."""
    done = grounding([*args, "--out", str(path)], env, timeout=60)
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
    samples must come next in the recording, within ``TOLERANCE``, and the only thing the
    recording may hold between two of them is silence (where the card ran short of audio
    for a moment, as it may on a busy machine), up to ``MAX_GAP`` at a time. Stops at the
    render's last sound, or where the recording holds something else (a fade, say); the
    rest of the recording follows."""
    first, end = sound_span(render)
    i, j = first, sound_span(capture)[0]
    parts, gaps = [np.zeros(first)], []
    while i < end:
        n = min(end - i, len(capture) - j)
        differs = np.abs(capture[j:j + n] - render[i:i + n]) > TOLERANCE
        same = int(np.argmax(differs)) if differs.any() else n
        parts.append(capture[j:j + same])
        i, j = i + same, j + same
        if i == end or j == len(capture):
            break
        gap = _silence_inserted(capture[j:], render[i:end])
        if not gap:
            break
        gaps.append((i / SR, gap / SR))
        j += gap
    parts.append(capture[j:])
    return Heard(np.concatenate(parts), i, gaps)


MAX_GAP = 2 * SR
"""The longest silence :func:`follow` steps over: the program takes a sound card that has
taken nothing for two seconds for gone (and then goes on without it)."""


def _silence_inserted(capture: np.ndarray, render: np.ndarray) -> int:
    """How much silence the recording holds before it takes the render up again (0: none).
    Where the render is itself near silence (a fade-in, a zero crossing), the recording may
    have matched a little of it with the inserted silence, so every length up to the end of
    the recording's quiet stretch is tried, longest first, on the render's samples up to a
    little past its next distinctly audible one."""
    quiet = np.abs(capture[:MAX_GAP]) <= TOLERANCE
    run = int(np.argmin(quiet)) if not quiet.all() else len(quiet)
    audible = np.flatnonzero(np.abs(render) > 8 * TOLERANCE)
    k = min(len(render), (int(audible[0]) if len(audible) else len(render)) + 64)
    for gap in range(run, 0, -1):
        if gap + k <= len(capture) and \
                np.all(np.abs(capture[gap:gap + k] - render[:k]) <= TOLERANCE):
            return gap
    return 0


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
    first, end = sound_span(breathing.render)
    assert heard.followed_to == end, heard.describe()  # every sample, in order, nothing else
    assert not heard.samples[end:].any(), heard.describe()  # and silence after the last one
    overlap = breathing.render[first:end]
    played = heard.samples[first:end]
    snr_db = 10 * np.log10(np.sum(overlap ** 2) / max(np.sum((played - overlap) ** 2), 1e-30))
    assert snr_db > 40, f"SNR {snr_db:.1f} dB; {heard.describe()}"


def test_the_comparison_steps_over_inserted_silence_and_stops_at_anything_else():
    t = np.arange(2 * SR) / SR  # a tone that fades in, as a 16-bit recording holds it
    fade_in = np.minimum(1, t / 0.5) ** 3
    render = np.round(0.1 * np.sin(2 * np.pi * 220 * t) * fade_in * 32768) / 32768
    first, end = sound_span(render)
    recorded = np.concatenate([np.zeros(500), render[first:]])
    middle, faint = SR, first + 300  # loud, and where the render is still near silence
    gapped = np.concatenate([recorded[:faint - first + 500], np.zeros(700),
                             recorded[faint - first + 500:middle - first + 500],
                             np.zeros(BLOCKSIZE), recorded[middle - first + 500:]])
    heard = follow(gapped, render)
    assert heard.followed_to == end, heard.describe()
    assert [round(g * SR) for _, g in heard.gaps] == [700, BLOCKSIZE], heard.describe()
    assert np.allclose(heard.samples[:end], render[:end], rtol=0, atol=TOLERANCE)
    changed = recorded.copy()
    changed[middle - first + 500] += 0.01
    assert follow(changed, render).followed_to == middle
    lost = np.concatenate([recorded[:middle - first + 500], recorded[middle - first + 510:]])
    assert follow(lost, render).followed_to < end  # ten samples missing


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
