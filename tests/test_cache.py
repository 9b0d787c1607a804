"""The clip cache: clips stored whole, read back unchanged, and shared by sessions that run
at once (real processes, real espeak-ng, real files)."""

import json
import os
import stat
import subprocess
import sys
import time
from importlib import metadata

import numpy as np
import pytest

from grounding.cache import ClipCache, clip_key, samples_of
from grounding.speech import Pyttsx3Voice
from support import ROOT, require_espeak, run


def test_a_stored_clip_loads_back_unchanged(tmp_path):
    cache = ClipCache(tmp_path)
    clip = np.linspace(-16000, 16000, 1000).astype(np.int16)
    cache.store("ab" * 32, clip)
    assert np.array_equal(cache.load("ab" * 32), clip)
    assert not list(cache.path("ab" * 32).parent.glob(".part-*"))


def test_a_missing_clip_is_none(tmp_path):
    assert ClipCache(tmp_path).load("cd" * 32) is None


def test_a_truncated_clip_is_treated_as_missing_and_removed(tmp_path):
    cache = ClipCache(tmp_path)
    cache.store("ef" * 32, np.full(5000, 3000, dtype=np.int16))
    path = cache.path("ef" * 32)
    path.write_bytes(path.read_bytes()[:300])
    assert cache.load("ef" * 32) is None
    assert not path.exists()


def test_a_clip_of_the_wrong_kind_is_treated_as_missing(tmp_path):
    cache = ClipCache(tmp_path)
    path = cache.path("01" * 32)
    path.parent.mkdir(parents=True)
    np.save(path, np.ones((3, 3), dtype=np.int16))
    assert cache.load("01" * 32) is None
    np.save(path, np.ones(100, dtype=np.float32))  # an earlier version's clip
    assert cache.load("01" * 32) is None
    path.write_bytes(b"not numpy at all")
    assert cache.load("01" * 32) is None


def test_every_part_of_the_key_changes_it():
    base = dict(text="in", engine="e", voice="v", rate=150, samplerate=48000)
    keys = {clip_key(**base)}
    for name, other in [("text", "out"), ("engine", "f"), ("voice", "w"), ("rate", 151),
                        ("samplerate", 44100)]:
        keys.add(clip_key(**{**base, name: other}))
    assert len(keys) == 6
    assert clip_key(**base) == clip_key(**dict(reversed(list(base.items()))))


def test_a_stored_clip_is_read_only_when_it_plays(tmp_path):
    cache = ClipCache(tmp_path)
    clip = np.arange(-3000, 3000, 3, dtype=np.int16)
    cache.store("aa" * 32, clip)
    stored = cache.stored("aa" * 32)
    assert len(stored) == len(clip) and stored.path == cache.path("aa" * 32)
    assert np.array_equal(stored.read(), clip) and np.array_equal(samples_of(stored), clip)
    assert samples_of(clip) is clip  # a clip held in memory is its own samples


def test_a_clip_whose_file_goes_away_mid_session_plays_as_silence_of_its_length(tmp_path):
    cache = ClipCache(tmp_path)
    cache.store("bb" * 32, np.full(4000, 1234, dtype=np.int16))
    stored = cache.stored("bb" * 32)
    cache.path("bb" * 32).unlink()  # say, the user cleared the cache while it played
    silent = stored.read()
    assert len(silent) == 4000 and not silent.any()


def test_a_clip_shorter_or_longer_than_its_header_is_treated_as_missing(tmp_path):
    cache = ClipCache(tmp_path)
    for extra in (b"", b"\x00\x00"):
        cache.store("cc" * 32, np.full(5000, 3000, dtype=np.int16))
        path = cache.path("cc" * 32)
        data = path.read_bytes()
        path.write_bytes(data[:-2] if not extra else data + extra)
        assert cache.stored("cc" * 32) is None
        assert not path.exists()


# --- Two sessions, one cache: real processes, real espeak-ng, real files ---

SESSIONS = 5
HOLD_SECONDS = 1.5

_HOLD_THEN_STORE = """
import sys, time
import numpy as np
from pathlib import Path
from grounding.cache import ClipCache
cache, key = ClipCache(Path(sys.argv[1])), sys.argv[2]
with cache.rendering(wait=10):
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    cache.store(key, np.load(sys.argv[4]))
"""

_STORE = """
import sys
import numpy as np
from pathlib import Path
from grounding.cache import ClipCache
ClipCache(Path(sys.argv[1])).store(sys.argv[2], np.load(sys.argv[3]))
"""


def test_five_cold_sessions_on_one_cache_write_what_one_session_alone_writes(tmp_path):
    require_espeak()
    alone = run(["play", "senses", "--out", str(tmp_path / "alone.wav"), "--quiet"],
                tmp_path / "alone", timeout=120)
    assert alone.returncode == 0, alone.stderr
    shared = tmp_path / "shared"
    sessions = [subprocess.Popen(
        [sys.executable, "-m", "grounding", "play", "senses", "--out", str(tmp_path / f"{n}.wav"),
         "--quiet"], cwd=ROOT, env={**os.environ, "GROUNDING_HOME": str(shared)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(SESSIONS)]
    for session in sessions:
        _, err = session.communicate(timeout=300)
        assert session.returncode == 0, err
    expected = (tmp_path / "alone.wav").read_bytes()
    for n in range(SESSIONS):
        assert (tmp_path / f"{n}.wav").read_bytes() == expected, f"session {n} differs"
    assert not list((shared / "cache").rglob("*.lock"))  # the lock went with the last one


def test_a_session_waits_while_another_renders_into_the_cache_and_takes_its_clip(tmp_path):
    require_espeak()
    text = "Notice five things you can see."
    first = Pyttsx3Voice(cache=ClipCache(tmp_path))
    made = first.clips([text], 48000)[text]
    key, real = made.path.stem, made.read()
    made.path.unlink()
    theirs = np.ascontiguousarray(real[::-1])  # not what this voice would render
    np.save(tmp_path / "theirs.npy", theirs)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_THEN_STORE, str(tmp_path), key,
                               str(HOLD_SECONDS), str(tmp_path / "theirs.npy")],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        second = Pyttsx3Voice(cache=ClipCache(tmp_path))
        started = time.monotonic()
        got = samples_of(second.clips([text], 48000)[text])
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0
    assert np.array_equal(got, theirs), "the clip was made again rather than waited for"
    assert second.synthesised == 0 and waited > HOLD_SECONDS / 2


def test_a_clip_in_the_cache_is_never_replaced_under_a_reader(tmp_path):
    cache = ClipCache(tmp_path)
    ours = np.full(4000, 1234, dtype=np.int16)
    cache.store("dd" * 32, ours)
    stored = cache.stored("dd" * 32)
    np.save(tmp_path / "other.npy", np.full(10, -7, dtype=np.int16))
    other = subprocess.run([sys.executable, "-c", _STORE, str(tmp_path), "dd" * 32,
                            str(tmp_path / "other.npy")], cwd=ROOT, timeout=60)
    assert other.returncode == 0
    assert np.array_equal(stored.read(), ours)
    assert not list(cache.path("dd" * 32).parent.glob(".part-*"))


def test_a_clip_rendered_again_mid_session_plays_rather_than_falling_silent(tmp_path):
    cache = ClipCache(tmp_path)
    cache.store("ee" * 32, np.full(4000, 1234, dtype=np.int16))
    stored = cache.stored("ee" * 32)
    cache.path("ee" * 32).unlink()  # the cache cleared, and the line rendered again
    cache.store("ee" * 32, np.full(3000, 99, dtype=np.int16))
    played = stored.read()
    assert len(played) == 4000
    assert (played[:3000] == 99).all() and not played[3000:].any()
    cache.path("ee" * 32).unlink()
    cache.store("ee" * 32, np.full(5000, 98, dtype=np.int16))
    assert np.array_equal(stored.read(), np.full(4000, 98, dtype=np.int16))


@pytest.fixture
def played_once(tmp_path):
    """A home whose cache holds the clips of ``stop``, and the file that play wrote."""
    require_espeak()
    home = tmp_path / "home"
    first = run(["play", "stop", "--out", str(tmp_path / "first.wav"), "--quiet"], home)
    assert first.returncode == 0, first.stderr
    return home, (tmp_path / "first.wav").read_bytes()


def test_a_named_pipe_in_place_of_a_clip_is_a_missing_clip(tmp_path, played_once):
    home, first = played_once
    clip = sorted((home / "cache" / "clips").rglob("*.npy"))[0]
    clip.unlink()
    os.mkfifo(clip)
    again = run(["play", "stop", "--out", str(tmp_path / "again.wav"), "--quiet"], home,
                timeout=60)
    assert again.returncode == 0, again.stderr
    # rendered again, in its place (the engine's sound of a line depends on what it said
    # before, so the new clip may differ from the first by a few samples)
    assert stat.S_ISREG(clip.stat().st_mode) and ClipCache(home / "cache").load(clip.stem) is not None
    assert abs(len((tmp_path / "again.wav").read_bytes()) - len(first)) < 0.05 * 48000 * 4


def test_a_clip_is_known_by_the_versions_of_the_libraries_that_made_it(tmp_path, played_once):
    home, first = played_once
    memos_path = home / "cache" / "voices.json"
    installed = {name: metadata.version(name) for name in ("pyttsx3", "soxr")}
    memos = json.loads(memos_path.read_text())
    assert memos and all(memo["libraries"] == installed for memo in memos.values()), memos
    # as after an upgrade of pyttsx3: the remembered versions name no clip, so the engine is
    # asked again, which finds today's versions and with them the clips already made
    for memo in memos.values():
        memo["libraries"]["pyttsx3"] = "0.0"
    memos_path.write_text(json.dumps(memos))
    clips = sorted((home / "cache" / "clips").rglob("*.npy"))
    again = run(["play", "stop", "--out", str(tmp_path / "again.wav"), "--quiet"], home)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.wav").read_bytes() == first
    assert sorted((home / "cache" / "clips").rglob("*.npy")) == clips
    assert all(memo["libraries"] == installed
               for memo in json.loads(memos_path.read_text()).values())


def test_a_named_pipe_as_voices_json_or_settings_is_passed_over(tmp_path, played_once):
    home, first = played_once
    for path in (home / "cache" / "voices.json", home / "config" / "config.toml"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    again = run(["play", "stop", "--out", str(tmp_path / "again.wav"), "--quiet"], home,
                timeout=60)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.wav").read_bytes() == first
    settings = str(home / "config" / "config.toml")
    assert f"{settings} cannot be read (it is a pipe or a device, not a file); using the " \
           "default settings." in again.stderr + again.stdout


def test_a_named_pipe_among_the_exercises_is_one_that_cannot_be_read(tmp_path):
    home = tmp_path / "home"
    own = home / "config" / "exercises"
    own.mkdir(parents=True)
    os.mkfifo(own / "stuck.toml")
    listed = run(["list"], home, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert f"{own / 'stuck.toml'} cannot be read" in listed.stdout + listed.stderr
    assert "senses" in listed.stdout  # the rest are listed as ever
    played = run(["play", "stuck", "--out", str(tmp_path / "x.wav"), "--quiet"], home,
                 timeout=60)
    assert played.returncode != 0
    assert played.stderr.strip() == ("stuck.toml: cannot be read (it is a pipe or a device, "
                                     "not a file).")
