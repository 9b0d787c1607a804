import os
import signal
import subprocess
import sys
import time

import pytest
from typer.main import get_command

from grounding.cli import app
from support import ROOT, read_wav, require_espeak, run, without_library

COMMANDS = sorted(get_command(app).commands)


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS])
def test_every_command_explains_itself(tmp_path, command):
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: grounding")
    assert len(result.stdout.splitlines()) >= 4


def test_no_arguments_shows_help(tmp_path):
    result = run([], tmp_path)
    assert result.returncode == 0
    assert "Commands:" in result.stdout
    assert "Traceback" not in result.stderr


def test_list_shows_each_bundled_exercise_with_minutes_and_summary(tmp_path):
    result = run(["list"], tmp_path)
    assert result.returncode == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert {"quick-reset", "resonance", "gentle-box"} <= set(rows)
    assert "2.75 min" in rows["quick-reset"] and "holds" not in rows["quick-reset"]
    assert "holds" in rows["gentle-box"]


def test_breathe_writes_whole_cycles_to_a_file(tmp_path):
    out = tmp_path / "b.wav"
    result = run(["breathe", "4-6", "--cycles", "3", "--no-voice", "--out", str(out),
                  "--samplerate", "44100"], tmp_path)
    assert result.returncode == 0, result.stderr
    samples, rate = read_wav(out)
    assert rate == 44100
    assert f"Wrote {out}" in result.stderr
    # Without a voice there is no spoken frame: exactly three cycles of ten seconds.
    assert len(samples) == 30 * 44100


def test_minutes_round_to_whole_breaths(tmp_path):
    result = run(["breathe", "4-7-8", "--minutes", "1", "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Rendered" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["breathe", "2-2"], "15.0 breaths a minute"),
    (["breathe", "4-6", "--minutes", "2", "--cycles", "3"], "either --minutes or --cycles"),
    (["play", "resonanse"], "Did you mean 'resonance'?"),
    (["breathe", "--volume", "120"], "less than or equal to 100"),
    (["breathe", "--out", "/no/such/folder/x.wav"], "is not a folder"),
    (["breathe", "--out", "x.mp3"], "only .wav files"),
])
def test_bad_input_gets_a_sentence_and_exit_code_2(tmp_path, args, words):
    result = run(args, tmp_path)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_sound_server_playing_says_so_in_one_line(tmp_path):
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    result = run(["breathe", "--cycles", "1", "--no-voice"], tmp_path, env=env)
    assert result.returncode == 69
    lines = [l for l in result.stderr.splitlines() if "sound output" in l]
    assert len(lines) == 1 and "--out" in lines[0]
    assert "Traceback" not in result.stderr


def test_without_portaudio_playing_says_how_to_install_it(tmp_path):
    result = run(["breathe", "--cycles", "1", "--no-voice"], tmp_path,
                 prefix=without_library("portaudio"))
    assert result.returncode == 69
    assert "PortAudio library is missing" in result.stderr
    assert "sudo apt install libportaudio2" in result.stderr and "--out" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_portaudio_a_file_can_still_be_written(tmp_path):
    out = tmp_path / "x.wav"
    result = run(["breathe", "--cycles", "1", "--no-voice", "--out", str(out)], tmp_path,
                 prefix=without_library("portaudio"))
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_devices_without_a_sound_server_says_so(tmp_path):
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    result = run(["devices"], tmp_path, env=env)
    assert result.returncode == 69
    assert "no sound output" in result.stderr and "Traceback" not in result.stderr


def test_voices_lists_english_voices(tmp_path):
    require_espeak()
    result = run(["voices", "en"], tmp_path)
    assert result.returncode == 0
    assert any(line.split()[0].endswith("en-us") for line in result.stdout.splitlines())


def test_ctrl_c_while_writing_a_file_leaves_no_file_and_exits_130(tmp_path):
    out = tmp_path / "long.wav"
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "breathe", "--minutes", "60", "--no-voice",
         "--out", str(out)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130
    assert "was not written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.glob("*.wav")) == [] and list(tmp_path.glob(".grounding-*")) == []


def test_an_unwritable_cache_costs_speed_but_not_the_session(tmp_path):
    require_espeak()
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder should be")
    out = tmp_path / "x.wav"
    result = run(["breathe", "--cycles", "1", "--out", str(out)], home)
    assert result.returncode == 0, result.stderr
    assert out.exists() and "Traceback" not in result.stderr


def test_an_unexpected_error_is_an_apology_with_a_log_path(tmp_path):
    code = ("import sys; from grounding.cli import _unexpected\n"
            "try:\n    {}[0]\nexcept KeyError as exc:\n    _unexpected(exc, debug=False)")
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=ROOT)
    assert result.returncode == 70
    log = tmp_path / "cache" / "error.log"
    assert result.stderr.strip() == (f"Sorry, something unexpected went wrong (KeyError). "
                                     f"The details are in {log}.")
    assert "Traceback" in log.read_text() and "Traceback" not in result.stderr
