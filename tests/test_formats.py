"""--out in the compressed formats (FLAC, Ogg Vorbis, Opus, MP3, through the formats extra), and
``grounding export``: real sessions with the real voice, written by the program and read back
with soundfile, an independent decoder.

The length read back is the timeline's (what ``--dry-run`` renders at the same rate) to the
frame: with libsndfile 1.2.2 all four came back exact, as Ogg's granule positions and the
LAME header of an MP3 file say where the padding starts; an MP3 frame (576 samples at 24 kHz)
is allowed for decoders that do not read that header. The loudness read back is within
0.3 LU of the WAV file's (measured: 0.1 at most, Opus the furthest)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # the formats extra, in the test extra too

from grounding.loudness import integrated_lufs
from support import ROOT, read_wav, require_espeak, run
from terminal import Terminal
from test_writing import _on_a_small_disk, refused

EXERCISE = "stop"
"""The shortest quick exercise (about two minutes), with the real voice."""
LOSSY_RATE = 24000
"""Hz a compressed file is written at unless --samplerate says otherwise (README.md)."""
PADDING = {"flac": 0, "ogg": 0, "opus": 0, "mp3": 576}
"""Frames a format's length may be off by when read back (see the module's docstring)."""
LOUDNESS_LU = 0.3


def title_of(name: str) -> str:
    """The exercise's title, from its file."""
    return tomllib.loads((ROOT / "scripts" / f"{name}.toml").read_text())["title"]


def rendered_frames(home: Path, rate: int) -> int:
    """The timeline's length in frames at ``rate``, from a dry run."""
    result = run(["play", EXERCISE, "--dry-run", "--samplerate", str(rate)], home)
    assert result.returncode == 0, result.stderr
    return int(re.search(r"\((\d+) frames", result.stderr).group(1))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """One home for the module: the voice is synthesised once, then taken from the cache."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def reference(home, tmp_path_factory) -> tuple[np.ndarray, int]:
    """The session as a WAV file, as it was written before the other formats."""
    require_espeak()
    out = tmp_path_factory.mktemp("wav") / "x.wav"
    result = run(["play", EXERCISE, "--out", str(out)], home, timeout=300)
    assert result.returncode == 0, result.stderr
    return read_wav(out)


@pytest.mark.tts
@pytest.mark.parametrize("ending, rate", [("flac", 48000), ("ogg", LOSSY_RATE),
                                          ("opus", LOSSY_RATE), ("mp3", LOSSY_RATE)])
def test_each_format_reads_back_at_its_rate_length_loudness_and_tags(home, reference, tmp_path,
                                                                     ending, rate):
    out = tmp_path / f"x.{ending}"
    result = run(["play", EXERCISE, "--out", str(out)], home, timeout=300)
    assert result.returncode == 0, result.stderr
    size = out.stat().st_size
    assert f"Wrote {out} (" in result.stderr and f"{rate} Hz, {size / 1e6:.1f} MB)." in \
        result.stderr
    samples, read_rate = sf.read(out, dtype="float64")
    assert read_rate == rate
    assert abs(len(samples) - rendered_frames(home, rate)) <= PADDING[ending]
    wav, wav_rate = reference
    assert abs(integrated_lufs(samples, rate) - integrated_lufs(wav, wav_rate)) <= LOUDNESS_LU
    with sf.SoundFile(out) as back:
        tags = back.copy_metadata()
    assert tags.get("title") == title_of(EXERCISE) and tags.get("artist") == "grounding"
    assert os.stat(out).st_mode & 0o777 == 0o644 & ~_umask()
    assert not list(tmp_path.glob(".grounding-*"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_lossy_files_are_far_smaller_than_wav(home, reference, tmp_path):
    """Two minutes of voice and tones: the MP3 file at most a tenth of the WAV's size."""
    wav, rate = reference
    out = tmp_path / "x.mp3"
    assert run(["play", EXERCISE, "--out", str(out)], home, timeout=300).returncode == 0
    assert out.stat().st_size < (44 + 2 * len(wav)) / 10


@pytest.mark.parametrize("args, words", [
    (["--out", "x.opus", "--samplerate", "44100"],
     ["Opus files are 8000, 12000, 16000, 24000 or 48000 Hz, not 44100", "--samplerate"]),
    (["--out", "x.mp3", "--samplerate", "96000"], ["MP3 files are", "not 96000"]),
    (["--out", "x.aiff"], ["'x.aiff'", ".wav, .flac, .ogg, .opus or .mp3"]),
    (["--out", "/proc/x.mp3"], ["'/proc/x.mp3'", "does not take new files"]),
])
def test_what_a_format_cannot_take_is_one_sentence(tmp_path, args, words):
    result = run(["breathe", "4-6", "--cycles", "1", "--no-voice", *args], tmp_path, cwd=tmp_path)
    refused(result, *words)
    assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob(".grounding-*"))


def test_a_compressed_file_filling_the_disk_leaves_nothing_behind(tmp_path):
    # five minutes of breathing as MP3 is about 300 KB; the disk holds 64 KB
    out = tmp_path / "disk" / "x.mp3"
    result, disk = _on_a_small_disk(tmp_path, "size=64k",
                                    ["breathe", "4-6", "--minutes", "5", "--no-voice",
                                     "--out", str(out)])
    refused(result, "The disk is full", f"'{out}'", "nothing was left behind")
    assert result.stderr.rstrip().endswith("choose another place with --out."), \
        "the disk was not empty"


def test_a_read_only_disk_is_named_for_a_compressed_file(tmp_path):
    result, _ = _on_a_small_disk(tmp_path, "ro", ["breathe", "4-6", "--cycles", "1", "--no-voice",
                                                  "--out", str(tmp_path / "disk/x.ogg")])
    refused(result, "read-only", f"'{tmp_path / 'disk'}'")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not ignored, as in a background job


def _started(args: list[str], home: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grounding", *args], cwd=ROOT,
                            env={**os.environ, "GROUNDING_HOME": str(home)},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


def test_ctrl_c_while_encoding_leaves_no_file(tmp_path):
    out = tmp_path / "long.mp3"
    process = _started(["breathe", "--minutes", "60", "--no-voice", "--out", str(out)], tmp_path)
    try:
        for line in process.stderr:  # the title comes once everything is ready to render
            if f"· to {out}" in line:
                break
        assert list(tmp_path.glob(".grounding-*")) or process.poll() is None
        process.send_signal(signal.SIGINT)
        said = process.stderr.read()
        assert process.wait(timeout=30) == 130
    finally:
        process.kill()
    assert f"Stopped; {out} was not written." in said and "Traceback" not in said
    assert not out.exists() and not list(tmp_path.glob(".grounding-*"))


@pytest.mark.tts
def test_export_writes_the_chosen_sessions_tagged_with_a_line_each_and_a_total(home, tmp_path):
    require_espeak()
    folder = tmp_path / "phone" / "grounding"  # made, with the folder it is in
    result = run(["export", str(folder), "--only", "stop", "--only", "quick-reset"], home,
                 timeout=300)
    assert result.returncode == 0, result.stderr
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["quick-reset.mp3", "stop.mp3"]
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    total = 0.0
    for line, name in zip(lines, ["quick-reset", "stop"]):
        path = folder / f"{name}.mp3"
        samples, rate = sf.read(path)
        minutes, seconds = re.search(r" (\d+):(\d\d) ", line).groups()
        assert line.startswith(path.name)
        assert abs(60 * int(minutes) + int(seconds) - len(samples) / rate) <= 1
        assert f"{path.stat().st_size / 1e6:.1f} MB" in line
        with sf.SoundFile(path) as back:
            assert back.title == title_of(name) and back.artist == "grounding"
        total += path.stat().st_size
    assert lines[2].startswith("2 files, ") and f"{total / 1e6:.1f} MB, in {folder}." in lines[2]

    # again, with no one to ask: what is there is kept; --force replaces it
    before = {f: f.stat().st_mtime_ns for f in files}
    again = run(["export", str(folder), "--only", "stop"], home, timeout=300)
    assert again.returncode == 0 and "Kept as it is: stop.mp3 (--force replaces it)." in \
        again.stderr and again.stdout == ""
    assert {f: f.stat().st_mtime_ns for f in files} == before
    forced = run(["export", str(folder), "--only", "stop", "--force"], home, timeout=300)
    assert forced.returncode == 0 and forced.stdout.startswith("stop.mp3 ")
    assert (folder / "stop.mp3").stat().st_mtime_ns != before[folder / "stop.mp3"]


@pytest.mark.tts
def test_ctrl_c_during_an_export_keeps_what_was_written_and_says_so(home, tmp_path):
    require_espeak()
    folder = tmp_path / "out"
    process = _started(["export", str(folder), "--only", "stop", "--only", "bedtime-45",
                        "--format", "ogg"], home)
    try:
        first = process.stdout.readline()
        assert first.startswith("stop.ogg "), first + process.stderr.read()
        process.send_signal(signal.SIGINT)
        said = process.stderr.read()
        assert process.wait(timeout=60) == 130
    finally:
        process.kill()
    assert ("Stopped; 1 file was written (stop.ogg); bedtime-45.ogg and any after it were not."
            in said), said
    assert sorted(p.name for p in folder.iterdir()) == ["stop.ogg"]


@pytest.mark.parametrize("args, words", [
    (["{tmp}/x", "--only", "nothing-like-it"],
     ["There is no 'nothing-like-it' in the set", "bedtime-45"]),
    (["{tmp}/x", "--format", "aiff"], ["--format is one of mp3, ogg, opus, flac, wav."]),
    (["{tmp}/a-file"], ["'{tmp}/a-file' is a file, not a folder"]),
    (["/proc/x"], ["The folder '/proc/x' cannot be made"]),
    (["/sys/kernel"], ["Files cannot be written in '/sys/kernel'"]),
])
def test_export_refuses_what_it_cannot_do_in_one_sentence(tmp_path, args, words):
    (tmp_path / "a-file").write_text("mine")
    result = run(["export", *(a.format(tmp=tmp_path) for a in args)], tmp_path)
    refused(result, *(w.format(tmp=tmp_path) for w in words))
    assert not (tmp_path / "x").exists()
    assert (tmp_path / "a-file").read_text() == "mine"


def test_export_to_a_read_only_disk_is_refused_before_anything_is_rendered(tmp_path):
    result, _ = _on_a_small_disk(tmp_path, "ro", ["export", str(tmp_path / "disk"), "--only",
                                                  "stop"])
    refused(result, f"Files cannot be written in '{tmp_path / 'disk'}' (read-only file system)")


@pytest.mark.tts
@pytest.mark.parametrize("answer", ["n", "y"])
def test_on_a_terminal_export_asks_before_replacing_files(tmp_path, answer):
    require_espeak()
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "stop.wav").write_bytes(b"mine")
    terminal = Terminal({"GROUNDING_HOME": str(tmp_path), "TERM": "xterm"}, width=300)
    try:
        terminal.grounding(f"export {shlex.quote(str(folder))} --only stop --format wav")
        terminal.wait_for(f"stop.wav is in {folder} already. Replace it? [y/N]")
        terminal.send(answer, enter=True)
        screen = terminal.wait_for("[finished]", timeout=120)
    finally:
        terminal.close()
    assert "exit=0" in screen
    if answer == "y":
        assert read_wav(folder / "stop.wav")[0].size > 60 * 48000
    else:
        assert "Kept as it is: stop.wav" in screen
        assert (folder / "stop.wav").read_bytes() == b"mine"
