"""Writing a session to a file (``--out``): every way it cannot be written is one sentence and
exit code 2, no partial file is left behind, and a file already there is replaced only when
the person says so."""

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grounding.errors import UsageError
from grounding.sinks import WavSink
from support import ROOT, read_wav, run
from terminal import Terminal

SHORT = ["breathe", "4-6", "--cycles", "1", "--no-voice"]
"""Ten seconds of breathing, no voice: quick to write."""


def refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2 and one sentence with ``words`` in it, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_full_disk_is_said_so():
    result = run([*SHORT, "--out", "/dev/full"], Path(os.environ["GROUNDING_HOME"]))
    refused(result, "The disk is full", "'/dev/full'")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written into, never replaced


def _on_a_small_disk(tmp_path: Path, mount_options: str, args: list[str]):
    """Run the program with ``tmp_path/disk`` a tmpfs of its own, mounted with
    ``mount_options`` in a private mount namespace; what the disk holds afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = f"mount -t tmpfs -o {mount_options} none {shlex.quote(str(disk))}"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", mount], capture_output=True)
    if probe.returncode:
        pytest.skip("a disk of the test's own needs mount namespaces (unshare -m), not "
                    "allowed here; /dev/full stands in for a full disk")
    shell = f'{mount} && "$@"; code=$?; ls -A {shlex.quote(str(disk))} >&2; exit $code'
    result = run(args, tmp_path, prefix=["unshare", "-m", "sh", "-c", shell, "sh"])
    return result, disk


def test_a_disk_that_fills_while_writing_leaves_nothing_behind(tmp_path):
    # 256 KiB takes under three seconds of 48 kHz samples; the session lasts ten
    out = "disk/x.wav"
    result, disk = _on_a_small_disk(tmp_path, "size=256k",
                                    [*SHORT, "--out", str(tmp_path / out)])
    refused(result, "The disk is full", str(tmp_path / out), "nothing was left behind")
    assert result.stderr.rstrip().endswith("left behind. Free some space, or choose another "
                                           "place with --out."), "the disk was not empty"


def test_a_read_only_disk_is_named(tmp_path):
    result, _ = _on_a_small_disk(tmp_path, "ro", [*SHORT, "--out", str(tmp_path / "disk/x.wav")])
    refused(result, "read-only", f"'{tmp_path / 'disk'}'")


@pytest.mark.parametrize("out, words", [
    ("/proc/x.wav", ["'/proc/x.wav'", "does not take new files"]),
    ("/sys/x.wav", ["'/sys/x.wav'", "cannot be written"]),
    ("/no/such/folder/x.wav", ["'/no/such/folder/x.wav'", "is not a folder"]),
    ("{tmp}", ["'{tmp}' is a folder", "{tmp}/session.wav"]),
    ("{tmp}/made.wav", ["'{tmp}/made.wav' is a folder"]),
])
def test_a_place_that_cannot_be_written_is_named(tmp_path, out, words):
    (tmp_path / "made.wav").mkdir()
    out = out.format(tmp=tmp_path)
    result = run([*SHORT, "--out", out], tmp_path)
    refused(result, *(w.format(tmp=tmp_path) for w in words))
    assert not list(tmp_path.glob(".grounding-*"))


def test_a_session_too_long_for_a_wav_file_is_refused_before_it_is_rendered(tmp_path):
    # 400 breaths of 30 s at 192 kHz, 16-bit mono: 400 * 30 * 192000 * 2 bytes, 4.3 GiB,
    # past the 4 GiB a WAV file's 32-bit sizes can tell
    out = tmp_path / "x.wav"
    result = run(["breathe", "15-15", "--cycles", "400", "--samplerate", "192000", "--no-voice",
                  "--out", str(out)], tmp_path, timeout=60)
    refused(result, f"'{out}' would be 4.3 GiB", "4 GiB", "--samplerate")
    assert not out.exists() and not list(tmp_path.glob(".grounding-*"))


def test_the_wav_limit_is_the_formats_own(tmp_path):
    sink = WavSink(tmp_path / "x.wav", 48000)
    most = (2**32 - 1 - 44) // 2  # the frames whose 44-byte header and samples fit 32 bits
    sink.check_size(most)
    with pytest.raises(UsageError):
        sink.check_size(most + 1)


def test_a_pipe_gets_a_whole_wav_file(tmp_path):
    out = tmp_path / "piped.wav"
    command = [sys.executable, "-m", "grounding", *SHORT, "--out", "/dev/stdout"]
    shell = f"{shlex.join(command)} | cat > {shlex.quote(str(out))}"
    done = subprocess.run(["sh", "-c", shell], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "GROUNDING_HOME": str(tmp_path)}, timeout=60)
    assert done.returncode == 0, done.stderr
    samples, rate = read_wav(out)
    assert len(samples) == 10 * 48000 and rate == 48000  # the header knew its length


def test_an_existing_file_is_kept_unless_forced_when_no_one_can_be_asked(tmp_path):
    out = tmp_path / "x.wav"
    out.write_bytes(b"mine")
    result = run([*SHORT, "--out", str(out)], tmp_path)
    refused(result, f"'{out}' exists already", "--force")
    assert out.read_bytes() == b"mine"
    result = run([*SHORT, "--out", str(out), "--force"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Replaced {out} (0:10, 48000 Hz)." in result.stderr
    assert len(read_wav(out)[0]) == 10 * 48000


@pytest.mark.parametrize("answer, code, said", [
    ("n", 0, "{out} is as it was; nothing was written."),
    ("", 0, "{out} is as it was; nothing was written."),
    ("C-c", 130, "Stopped; {out} is as it was."),
    ("y", 0, "Replaced {out}"),
])
def test_on_a_terminal_the_person_is_asked_before_a_file_is_replaced(tmp_path, answer, code,
                                                                      said):
    out = tmp_path / "x.wav"
    out.write_bytes(b"mine")
    terminal = Terminal({"GROUNDING_HOME": str(tmp_path), "TERM": "xterm"}, width=300)
    try:
        terminal.grounding(f"{shlex.join(SHORT)} --out {shlex.quote(str(out))}")
        terminal.wait_for(f"{out} exists. Replace it? [y/N]")
        if answer.startswith("C-"):
            terminal.send(answer, literal=False)
        else:
            terminal.send(answer, enter=True)
        screen = terminal.wait_for("[finished]")
    finally:
        terminal.close()
    assert f"exit={code}" in screen and said.format(out=out) in screen
    if answer == "y":
        assert len(read_wav(out)[0]) == 10 * 48000
    else:
        assert out.read_bytes() == b"mine"
