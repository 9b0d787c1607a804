"""The bedtime routine, checked on its audio: renders of the whole routine (at 16 kHz, which
keeps the analysis light and holds everything up to the voice's 3.5 kHz), compared with its
own plan (``--dry-run``) and with what docs/protocols.md card F2 and docs/sound.md §5.3 ask
for. One test plays it for real, into a private PulseAudio sink, with standard input closed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest

from grounding.bedtime import bedtime_script
from grounding.script import Breathe, Speak
from support import ROOT, read_wav, require_espeak, run

RATE = 16000


def clock(text: str) -> float:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + float(seconds)


class Render:
    """A bedtime render and its plan, made by the program from the same options."""

    def __init__(self, home, path, *args: str):
        common = ["bedtime", "--samplerate", str(RATE), *args]
        made = run([*common, "--out", str(path)], home)
        assert made.returncode == 0, made.stderr
        self.plan = run([*common, "--dry-run"], home).stdout.splitlines()
        self.samples, rate = read_wav(path)
        assert rate == RATE
        self.seconds = len(self.samples) / RATE

    def starts(self, kind: str) -> list[tuple[float, float, int]]:
        """(start, seconds, breath number) of every planned phase of ``kind`` (in, out)."""
        found = []
        for line in self.plan:
            match = re.match(rf"^(\d+:\d+\.\d)  {kind}\s+([\d.]+) s\s+\(breath (\d+)\)", line)
            if match:
                found.append((clock(match[1]), float(match[2]), int(match[3])))
        return found

    def said(self) -> list[tuple[float, str]]:
        return [(clock(line.split()[0]), line.split("  says  ", 1)[1]) for line in self.plan
                if "  says  " in line]

    def parts(self) -> tuple[float, float]:
        """When the drift and the fade begin: each breathing step counts its breaths from 1,
        and the guided breathing, the drift and the fade are three steps in a row."""
        firsts = [start for start, _, breath in self.starts("in") if breath == 1]
        assert len(firsts) == 3, firsts
        return firsts[1], firsts[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("home")
    (folder / "config").mkdir()
    (folder / "config" / "first-run-done").touch()
    return folder


@pytest.fixture(scope="module")
def voiced(home, tmp_path_factory):
    require_espeak()
    return Render(home, tmp_path_factory.mktemp("voiced") / "bedtime.wav")


@pytest.fixture(scope="module")
def tones_only(home, tmp_path_factory):
    return Render(home, tmp_path_factory.mktemp("tones") / "bedtime.wav", "--no-voice")


def pitch_track(samples: np.ndarray, lo: float = 140, hi: float = 230):
    """The pacer's pitch every 25 ms: the strongest frequency in [lo, hi] Hz of a 250 ms
    Hann window, zero-padded to 1 Hz bins. Returns (times, hz)."""
    window, hop = round(0.25 * RATE), round(0.025 * RATE)
    frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop]
    freqs = np.fft.rfftfreq(RATE, 1 / RATE)
    band = (freqs >= lo) & (freqs <= hi)
    hz = np.empty(len(frames))
    for i in range(0, len(frames), 4096):  # in slices, to keep memory small
        spectrum = np.abs(np.fft.rfft(frames[i:i + 4096] * np.hanning(window), RATE, axis=1))
        hz[i:i + 4096] = freqs[band][np.argmax(spectrum[:, band], axis=1)]
    return np.arange(len(frames)) * hop / RATE + 0.125, hz


def heard_onsets(render: Render) -> np.ndarray:
    """When each planned in-breath begins in the audio: the moment its rising pitch crosses
    the middle of that breath's range, less half the in-breath (the glide is symmetric)."""
    times, hz = pitch_track(render.samples)
    found = []
    ins = render.starts("in")
    for (start, length, _), (end, _, _) in zip(ins, ins[1:]):
        here = (times >= start) & (times < end)
        t, f = times[here], hz[here]
        middle = (f.max() + f.min()) / 2
        i = np.nonzero((f[:-1] < middle) & (f[1:] >= middle))[0][0]
        found.append(t[i] + (middle - f[i]) / (f[i + 1] - f[i]) * (t[i + 1] - t[i]) - length / 2)
    return np.array(found)


def band_levels(samples: np.ndarray, lo: float, hi: float, seconds: float = 0.25):
    """Power in [lo, hi] Hz per ``seconds``-long frame, dB. Returns (frame starts, dB)."""
    hop = round(seconds * RATE)
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(hop), axis=1)) ** 2
    freqs = np.fft.rfftfreq(hop, 1 / RATE)
    power = spectrum[:, (freqs >= lo) & (freqs <= hi)].sum(axis=1) / np.sum(np.hanning(hop)) ** 2
    return np.arange(len(frames)) * seconds, 10 * np.log10(power + 1e-20)


def speaking(render: Render):
    """Frames (250 ms) with the voice: energy from 1 to 3.5 kHz, where the night pacer (165 to
    412 Hz with its harmonic) has none. Returns (frame starts, bool)."""
    times, level = band_levels(render.samples, 1000, 3500)
    return times, level > -75


def test_the_plan_glides_from_the_easy_pace_down_to_five_and_a_half_a_minute():
    script = bedtime_script(20, pace=8.0)
    guided = next(s for s in script.steps if isinstance(s, Breathe))
    rates = [float(guided.rate_at(k)) for k in range(guided.cycles)]
    assert rates[0] == pytest.approx(8.0)
    assert rates[-1] == pytest.approx(60 / 11)  # 4.5 in, 6.5 out: a longer out-breath
    assert all(b <= a for a, b in zip(rates, rates[1:]))
    assert len({round(b - a, 9) for a, b in zip(rates, rates[1:]) if b != a}) == 1  # a glide


def test_the_breath_rate_falls_over_the_session_as_planned(tones_only):
    planned = np.array([start for start, _, _ in tones_only.starts("in")])
    heard = heard_onsets(tones_only)
    assert np.max(np.abs(heard - planned[:-1])) < 0.15  # every in-breath where it belongs
    per_minute = 5 * 60 / (heard[5:] - heard[:-5])  # over five breaths at a time
    assert per_minute[0] == pytest.approx(7.75, abs=0.3)  # near the easy pace of 8
    assert per_minute[-1] == pytest.approx(60 / 11, abs=0.05)
    assert np.all(np.diff(per_minute) < 0.05)  # never faster again


def test_the_voice_stops_before_the_drift_and_speaks_less_and_less(voiced):
    drift, _ = voiced.parts()
    times, voice = speaking(voiced)
    last = times[voice][-1] + 0.25
    assert last < drift  # the drift is tones only
    assert voiced.seconds - last > 0.4 * voiced.seconds  # and it stops well before the end
    thirds = [voice[(times >= last * k / 3) & (times < last * (k + 1) / 3)].mean()
              for k in range(3)]
    assert thirds[1] < 0.75 * thirds[0] and thirds[2] < 0.75 * thirds[1], thirds


def test_the_voice_is_never_heard_as_an_out_breath_begins(voiced):
    # "in" and "out" on the first four breaths are the cues; after them no line may sound
    # over the start of an out-breath (docs/sound.md §5.2)
    times, voice = speaking(voiced)
    outs = [start for start, _, breath in voiced.starts("out") if breath > 4]
    assert len(outs) > 50
    for start in outs:
        assert not voice[(times >= start - 0.25) & (times < start + 0.5)].any(), start


def test_without_a_voice_the_tone_begins_at_once_and_the_length_holds(tones_only):
    # the opening words would only be 79 s of silence without the voice: they are left out
    sound = np.nonzero(np.abs(tones_only.samples) > 1e-4)[0]  # above -80 dBFS
    assert sound[0] / RATE < 2.0
    assert not any("wind-down" in text for _, text in tones_only.said())
    assert tones_only.seconds / 60 == pytest.approx(20, abs=0.5)


def test_the_last_minutes_fall_steadily_to_digital_silence(tones_only):
    drift, fade = tones_only.parts()
    ins = [start for start, _, _ in tones_only.starts("in")]
    cycles = [(a, b) for a, b in zip(ins, ins[1:]) if a >= drift]
    levels = [np.sqrt(np.mean(tones_only.samples[round(a * RATE): round(b * RATE)] ** 2))
              for a, b in cycles]
    in_fade = [lv for (a, _), lv in zip(cycles, levels) if a >= fade]
    assert len(in_fade) >= 5 and all(b < a for a, b in zip(in_fade, in_fade[1:]))
    assert all(b < a * 1.001 for a, b in zip(levels, levels[1:]))  # the drift never rises
    assert 60 <= tones_only.seconds - fade <= 3 * 60 + 10  # a fade of one to three minutes
    tail = tones_only.samples[-2 * RATE:]
    assert not tail.any()  # the end is digital silence


def short_term_jumps(samples: np.ndarray, rate: int, around: float = 20.0) -> np.ndarray:
    """How far the short-term loudness (EBU R128: 3 s, K-weighted with pyloudnorm's own
    filters) stands above the loudness of the ``around`` seconds centred on it, dB, every
    100 ms wherever there is sound."""
    weighted = samples.astype(np.float64)
    for stage in pyloudnorm.Meter(rate).__dict__["_filters"].values():
        weighted = stage.apply_filter(weighted)
    energy = np.concatenate([[0.0], np.cumsum(weighted ** 2)])

    def loudness(seconds: float) -> np.ndarray:
        centres = np.arange(round(1.5 * rate), len(weighted) - round(1.5 * rate), rate // 10)
        a = np.clip(centres - round(seconds * rate / 2), 0, len(weighted))
        b = np.clip(centres + round(seconds * rate / 2), 0, len(weighted))
        return -0.691 + 10 * np.log10((energy[b] - energy[a]) / (b - a) + 1e-20)

    short, context = loudness(3.0), loudness(around)
    return (short - context)[context > -70]


def test_the_jump_measure_finds_a_sound_that_jumps():
    t = np.arange(60 * RATE) / RATE
    bed = 0.01 * np.sin(2 * np.pi * 180 * t)
    bump = bed + 0.05 * np.sin(2 * np.pi * 392 * t) * ((t > 30) & (t < 31.5))
    assert short_term_jumps(bed, RATE).max() < 0.5
    assert short_term_jumps(bump, RATE).max() > 6


def test_nothing_in_the_sound_jumps(voiced):
    assert short_term_jumps(voiced.samples, RATE).max() < 4.0  # dB: "a few" at most


def line_jumps(render: Render) -> list[float]:
    """For each line spoken over the pacer (not a cue word), how far the loudest 400 ms of
    its first three seconds stands above the short-term loudness (3 s) just before it, LU
    (K-weighted with pyloudnorm's own filters). The opening lines, before the first breath,
    have only silence and each other around them."""
    weighted = render.samples.astype(np.float64)
    for stage in pyloudnorm.Meter(RATE).__dict__["_filters"].values():
        weighted = stage.apply_filter(weighted)
    energy = np.concatenate([[0.0], np.cumsum(weighted ** 2)])

    def lufs(a: int, b: int) -> float:
        return -0.691 + 10 * np.log10((energy[b] - energy[a]) / (b - a) + 1e-20)

    jumps, block = [], round(0.4 * RATE)
    first_breath = render.starts("in")[0][0]
    for start, text in render.said():
        a = round(start * RATE)
        if len(text.split()) < 3 or start < first_breath + 3 or a + 3 * RATE > len(weighted):
            continue
        loudest = max(lufs(b, b + block) for b in range(a, a + 3 * RATE - block, RATE // 10))
        jumps.append(loudest - lufs(a - 3 * RATE, a))
    return jumps


def test_the_night_is_quieter_than_the_day_and_no_line_stands_out(voiced):
    # a file's programme loudness is a phone's, -18 LUFS; the night sits well below it
    assert pyloudnorm.Meter(RATE).integrated_loudness(voiced.samples) < -18 - 5
    jumps = line_jumps(voiced)
    assert len(jumps) >= 12
    assert max(jumps) <= 5.0, jumps  # LU above the sound around each line


def test_no_bell_rings_and_nothing_bright_sounds_once_the_voice_has_rested(voiced):
    assert not any(line.split()[1] == "bell" for line in voiced.plan[:-1])
    times, voice = speaking(voiced)
    after = times > times[voice][-1] + 1
    _, bright = band_levels(voiced.samples, 500, 6000)
    assert bright[after].max() < -90  # a chime's partials would sound up here


def segment(samples: np.ndarray) -> np.ndarray:
    """The first stretch of sound (until 0.7 s of silence)."""
    loud = np.abs(samples) > 1e-4
    start = int(np.argmax(loud))
    window = round(0.7 * RATE)
    silent = np.concatenate([[0], np.cumsum(~loud[start:])])
    quiet = silent[window:] - silent[:-window]  # silent samples in each 0.7 s from here
    end = start + int(np.argmax(quiet >= window))
    return samples[start:end]


def median_f0(clip: np.ndarray) -> float:
    frame, found = round(0.04 * RATE), []
    for start in range(0, len(clip) - frame, frame):
        x = clip[start:start + frame]
        if np.sqrt(np.mean(x * x)) < 0.004:
            continue
        ac = np.correlate(x, x, "full")[frame - 1:]
        lag = RATE // 300 + int(np.argmax(ac[RATE // 300: RATE // 60]))
        if ac[lag] > 0.4 * ac[0]:
            found.append(RATE / lag)
    return float(np.median(found))


def test_the_night_voice_is_slower_softer_and_lower_than_the_day_voice(voiced, home, tmp_path):
    first = voiced.said()[0][1]
    day = tmp_path / "day.toml"
    day.write_text(f'title = "Day"\nsummary = "The same line by day."\nminutes = 0.5\n'
                   f'tags = ["sleep"]\nholds = false\nsource = "test"\n\n[[step]]\n'
                   f'speak = "{first}"\nafter = 1.0\n')
    out = tmp_path / "day.wav"
    assert run(["play", str(day), "--samplerate", str(RATE), "--out", str(out)],
               home).returncode == 0
    by_day = segment(read_wav(out)[0])
    at_night = segment(voiced.samples)
    meter = pyloudnorm.Meter(RATE)
    assert len(at_night) > 1.1 * len(by_day)
    assert meter.integrated_loudness(at_night) < meter.integrated_loudness(by_day) - 4
    assert median_f0(at_night) < 0.95 * median_f0(by_day)


def test_the_night_tone_is_lower_narrower_darker_and_quieter_than_by_day(tones_only, home,
                                                                        tmp_path):
    out = tmp_path / "day.wav"
    assert run(["breathe", "4.5-6.5", "--cycles", "12", "--no-voice", "--samplerate",
                str(RATE), "--out", str(out)], home).returncode == 0
    day = read_wav(out)[0]
    drift, _ = tones_only.parts()
    night = tones_only.samples[round(drift * RATE): round((drift + 132) * RATE)]

    def described(samples):
        _, hz = pitch_track(samples, 100, 450)
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
        freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
        low, high = np.percentile(hz, 5), np.percentile(hz, 95)
        first = spectrum[(freqs >= low - 5) & (freqs <= high + 5)].sum()
        second = spectrum[(freqs >= 2 * low - 10) & (freqs <= 2 * high + 10)].sum()
        return low, high / low, second / first, np.sqrt(np.mean(samples ** 2))

    n_low, n_span, n_second, n_rms = described(night)
    d_low, d_span, d_second, d_rms = described(day)
    assert n_low < 0.8 * d_low  # lower
    assert n_span < d_span  # a narrower range of pitch
    assert n_second < 0.5 * d_second  # darker: less of the second harmonic
    assert n_rms < 0.5 * d_rms  # quieter


def test_the_words_ask_nothing_and_promise_nothing():
    script = bedtime_script(45)
    texts = [s.text for s in script.steps if isinstance(s, Speak)] + [
        line for s in script.steps if isinstance(s, Breathe) for line in s.lines]
    assert any("stop" in t for t in texts[:5])
    for text in texts:
        for banned in (r"\?", r"open your eyes", r"\bwake\b", r"goodbye", r"\bbell\b",
                       r"\bnow\b.*\bquick", r"\bhurry\b", r"\bright now\b", r"\{", r"\bname\b",
                       r"that person", r"\breach out\b", r"relationship", r"\btext\b",
                       r"\bfall asleep now\b", r"\byou will (sleep|fall)\b", r"\btry to sleep\b"):
            assert not re.search(banned, text, re.IGNORECASE), (text, banned)


def test_tones_until_keeps_the_quiet_pacer_going_without_the_voice(home):
    plain = run(["bedtime", "--minutes", "10", "--no-voice", "--dry-run"], home).stdout
    longer = run(["bedtime", "--minutes", "10", "--tones-until", "30", "--no-voice",
                  "--dry-run"], home).stdout
    said = [line.split("  says  ")[1] for line in plain.splitlines() if "  says  " in line]
    assert said == [line.split("  says  ")[1] for line in longer.splitlines()
                    if "  says  " in line]
    assert clock(longer.splitlines()[-1].split()[0]) / 60 == pytest.approx(30, abs=0.5)
    assert run(["bedtime", "--minutes", "20", "--tones-until", "15"], home).returncode == 2


@pytest.mark.parametrize("color, slope", [("brown", -6.0), ("pink", -3.0)])
def test_the_noise_bed_has_its_colour_breathes_with_the_pacer_and_fades(home, tmp_path,
                                                                         color, slope):
    render = Render(home, tmp_path / f"{color}.wav", "--minutes", "10", "--no-voice",
                    "--noise", color)
    drift, fade = render.parts()
    middle = render.samples[round(drift * RATE): round(fade * RATE)]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)))) ** 2
    freqs = np.fft.rfftfreq(len(middle), 1 / RATE)
    octave = [10 * np.log10(spectrum[(freqs >= f) & (freqs < 2 * f)].mean()) for f in (500, 1000)]
    assert octave[1] - octave[0] == pytest.approx(slope, abs=1.5)
    # louder at the top of each in-breath than at the bottom of each out-breath
    times, noise = band_levels(render.samples, 450, 1800, seconds=0.5)
    tops, bottoms = [], []
    for start, length, _ in render.starts("in"):
        if drift <= start < fade:
            tops.append(noise[np.argmin(np.abs(times - (start + length - 0.5)))])
            bottoms.append(noise[np.argmin(np.abs(times - (start - 0.5)))])
    assert np.median(tops) - np.median(bottoms) == pytest.approx(4.0, abs=2.0)
    assert not render.samples[-RATE:].any()  # and it fades with the tones


LAUNCHER = r"""
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "kib": usage.ru_maxrss}))
"""


def peak_mib(home, out, minutes: int) -> float:
    """The most memory a render of ``minutes`` held (ru_maxrss of the program itself: a tiny
    launcher forks and execs it, so nothing of the test process is counted)."""
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, sys.executable, "-m",
                           "grounding", "bedtime", "--minutes", str(minutes), "--noise", "brown",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "GROUNDING_HOME": str(home)})
    report = json.loads(done.stdout)
    assert report["code"] == 0, done.stderr
    return report["kib"] / 1024


def test_a_45_minute_render_stays_within_the_memory_bound(home, tmp_path):
    require_espeak()
    peak_mib(home, tmp_path / "warm.wav", 10)  # voices the lines once, outside the measure
    short = peak_mib(home, tmp_path / "short.wav", 10)
    long = peak_mib(home, tmp_path / "long.wav", 45)
    assert long <= 80  # MiB, docs/design.md §4
    assert long - short <= 5


def test_bedtime_reads_no_input_plays_to_the_end_and_leaves_in_silence(pulse_daemon, home):
    """Played for real with standard input closed: nothing is asked, no key is needed, it
    fades to silence into the sound card and ends by itself, exit code 0."""
    import pulse

    with pulse.Recorder(pulse_daemon, home / "bedtime-capture.wav") as recorder:
        done = subprocess.run(  # standard input closed in the child, before it starts
            [sys.executable, "-m", "grounding", "bedtime", "--minutes", "10", "--plain"],
            capture_output=True, text=True, cwd=ROOT, timeout=15 * 60,
            env=pulse_daemon.environ(GROUNDING_HOME=str(home)), preexec_fn=lambda: os.close(0))
        captured = recorder.stop()
    assert done.returncode == 0, done.stderr
    assert "?" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    # (whether a busy machine makes it run short of audio is bench/run.py's measure)
    sound = np.nonzero(np.abs(captured) > 1e-4)[0]
    assert len(sound) and len(captured) - sound[-1] > pulse.SAMPLERATE  # silence at the end
    assert (sound[-1] - sound[0]) / pulse.SAMPLERATE / 60 == pytest.approx(10, abs=0.5)
