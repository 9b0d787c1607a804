"""The sound-card path for real: grounding plays through PortAudio and ALSA's ``pulse`` device
into a private PulseAudio null sink, and ``parecord`` records the sink's monitor (TECH.md §7).

Two sessions are played and recorded once each and shared by the tests below: three breaths of
``breathe 4-6`` played to the end (56 s, most of it the silent voice of ``--no-voice``), and a
tone-only exercise stopped with Ctrl-C (SIGINT) after 3 s.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import pulse  # tests/pulse.py
from grounding.palette import load_palette
from grounding.sinks import BLOCKSIZE
from support import read_wav

pytestmark = pytest.mark.audio

SR = pulse.SAMPLERATE
BREATHE = ["breathe", "4-6", "--cycles", "3", "--no-voice", "--samplerate", str(SR)]
IN_SECONDS, OUT_SECONDS, CYCLES = 4, 6, 3
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
INTERRUPT_AFTER_SECONDS = 3.0
"""Ctrl-C lands inside the first in-breath, well after the tone has become audible."""


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
    """``grounding breathe 4-6 --cycles 3 --no-voice`` played to the end and recorded."""
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
            time.sleep(INTERRUPT_AFTER_SECONDS)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=10)
            exit_seconds = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        time.sleep(0.3)  # record some of the silence after the end
        capture = recorder.stop()
    return Session(process.returncode, stderr, capture, expected, exit_seconds)


# -- analysis (numpy only) ------------------------------------------------------------------

def lag_of(capture: np.ndarray, reference: np.ndarray) -> int:
    """The lag at which ``reference`` best matches ``capture`` (capture[lag + i] ~ reference[i]),
    from the peak of their cross-correlation, computed with FFTs."""
    size = 1 << int(np.ceil(np.log2(len(capture) + len(reference))))
    spectrum = np.fft.rfft(capture, size) * np.conj(np.fft.rfft(reference, size))
    correlation = np.fft.irfft(spectrum, size)
    return int(np.argmax(correlation[:len(capture)]))


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


# -- tests ----------------------------------------------------------------------------------

def test_the_tone_rises_through_each_in_breath_and_falls_through_each_out_breath(breathing):
    tone = load_palette("day").tone
    onset, _ = sound_span(breathing.capture)
    cycle = IN_SECONDS + OUT_SECONDS
    for k in range(CYCLES):
        for kind, start, length in (("in", k * cycle, IN_SECONDS),
                                    ("out", k * cycle + IN_SECONDS, OUT_SECONDS)):
            # 0.2 s windows every 0.1 s, keeping 0.3 s away from the turns of the breath
            centres = np.arange(start + 0.3, start + length - 0.3 + 1e-9, 0.1)
            pitch = np.array([peak_hz(breathing.capture[at - 4800:at + 4800])
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
    capture, expected = breathing.capture, breathing.render
    lag = lag_of(capture, expected)
    heard = capture[lag:lag + len(expected)]
    overlap = expected[:len(heard)]
    assert len(expected) - len(heard) <= 2 * BLOCKSIZE, "the recording stops before the render"
    snr_db = 10 * np.log10(np.sum(overlap ** 2) / np.sum((heard - overlap) ** 2))
    assert snr_db > 40, f"SNR {snr_db:.1f} dB over {len(heard) / SR:.2f} s"
    first, end = sound_span(capture)
    first_expected, end_expected = sound_span(expected)
    assert abs((end - first) - (end_expected - first_expected)) <= 2 * BLOCKSIZE
    assert first - lag == first_expected


def test_a_normal_run_reports_no_underflows(breathing):
    assert breathing.returncode == 0, breathing.stderr
    assert "ran short" not in breathing.stderr
    assert "Traceback" not in breathing.stderr


def test_ctrl_c_fades_to_digital_silence_within_300_ms(interrupted):
    capture = interrupted.capture
    heard = capture[lag_of(capture, interrupted.render):]
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
