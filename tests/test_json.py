"""``--json`` for scripts: the program run for real, its standard output read with
``json.loads`` (so nothing else may be on it), and its values checked against what is known
without it: the breathing pattern asked for, the exercise files themselves, the text the
same command prints without --json, and the log a real pause keeps."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib

import pytest

from support import ROOT, require_espeak, run, seen_notice, without_library
from terminal import stop_a_pause_with_q


def document(args: list[str], home, **kwargs) -> dict:
    """The one JSON document ``grounding ARGS`` prints, checked to succeed."""
    done = run(args, home, **kwargs)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def bundled() -> dict[str, dict]:
    """The bundled exercise files, read here with tomllib, by name."""
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted((ROOT / "scripts").glob("*.toml"))}


# --dry-run --json

def test_a_dry_run_gives_each_breath_phase_at_its_exact_sample(tmp_path):
    rate = 16000
    found = document(["breathe", "4-7-8", "--cycles", "2", "--no-voice", "--samplerate",
                      str(rate), "--dry-run", "--json"], tmp_path)
    assert found["version"] == 1 and found["kind"] == "dry-run"
    assert found["samplerate"] == rate
    phases = [e for e in found["events"] if e["kind"] == "breath"]
    assert [(e["phase"], e["breath"]) for e in phases] == [
        ("in", 1), ("hold", 1), ("out", 1), ("in", 2), ("hold", 2), ("out", 2)]
    start = phases[0]["start_samples"]
    for event, seconds in zip(phases, [4, 7, 8, 4, 7, 8]):  # the pattern asked for
        assert event["start_samples"] == start  # one phase after another, no gap
        assert event["duration_samples"] == seconds * rate
        assert event["duration_seconds"] == seconds
        start += seconds * rate
    # without a voice the session is the breathing alone: it ends where the last out-breath does
    assert found["total_samples"] == start
    assert found["total_seconds"] == round(start / rate, 3)


@pytest.fixture(scope="module")
def voiced(tmp_path_factory):
    """``breathe 4-6 --cycles 3`` with the voice, as text and as JSON, at the file rate."""
    require_espeak()
    home = tmp_path_factory.mktemp("home")
    args = ["breathe", "4-6", "--cycles", "3", "--dry-run"]
    text = run(args, home)
    assert text.returncode == 0, text.stderr
    as_json = run([*args, "--json"], home)
    assert as_json.returncode == 0, as_json.stderr
    return text, as_json


def test_a_dry_run_as_json_has_every_event_the_text_has_in_seconds_to_the_millisecond(voiced):
    text, as_json = voiced
    found = json.loads(as_json.stdout)
    rate = found["samplerate"]
    lines = text.stdout.splitlines()
    assert lines[-1].endswith("  end")
    assert len(found["events"]) == len(lines) - 1
    said = [line.split("  says  ", 1)[1] for line in lines if "  says  " in line]
    assert [e["text"] for e in found["events"] if e["kind"] == "speech"] == said
    for event, line in zip(found["events"], lines):
        assert event["start_seconds"] == round(event["start_samples"] / rate, 3)
        assert event["duration_seconds"] == round(event["duration_samples"] / rate, 3)
        minutes, seconds = line.split()[0].split(":")  # the text's clock, to a tenth
        assert abs(60 * int(minutes) + float(seconds) - event["start_seconds"]) <= 0.05
    starts = [e["start_samples"] for e in found["events"]]
    assert starts == sorted(starts)
    ends = [e["start_samples"] + e["duration_samples"] for e in found["events"]]
    assert max(ends) <= found["total_samples"]
    assert found["total_seconds"] == round(found["total_samples"] / rate, 3)
    assert found["title"] == "Paced breathing 4-6"


def test_a_dry_run_as_json_has_the_sha256_the_text_reports_and_notes_stay_on_stderr(voiced):
    text, as_json = voiced
    found = json.loads(as_json.stdout)
    short = re.search(r"sha256 ([0-9a-f]{16})\)", text.stderr).group(1)
    assert re.fullmatch(r"[0-9a-f]{64}", found["sha256"]) and found["sha256"].startswith(short)
    frames = re.search(r"\((\d+) frames", as_json.stderr).group(1)
    assert found["total_samples"] == int(frames)
    assert as_json.stderr == text.stderr  # the same lines, on standard error


@pytest.mark.parametrize("args", [
    ["pause", "--minutes", "3", "--no-voice"],
    ["bedtime", "--minutes", "10", "--no-voice"],
    ["play", "box", "--no-voice"],
])
def test_every_playing_command_gives_its_dry_run_as_json(tmp_path, args):
    found = document([*args, "--dry-run", "--json"], seen_notice(tmp_path))
    assert found["events"] and found["title"]
    last = max(e["start_samples"] + e["duration_samples"] for e in found["events"])
    assert last <= found["total_samples"]


def test_json_without_dry_run_is_one_sentence_and_plays_nothing(tmp_path):
    done = run(["breathe", "--json", "--no-voice"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--dry-run" in done.stderr


# list --json

def test_list_as_json_gives_every_bundled_exercise_as_its_file_says(tmp_path):
    found = document(["list", "--json"], tmp_path)
    files = bundled()
    assert [e["name"] for e in found["exercises"]] == sorted(files)
    for entry in found["exercises"]:
        data = files[entry["name"]]
        assert entry["title"] == data["title"] and entry["minutes"] == data["minutes"]
        assert entry["tags"] == data["tags"] and entry["holds"] == data.get("holds", False)
        assert entry["summary"] == " ".join(data["summary"].split())
        assert entry["own"] is False and entry["file"] is None
        assert entry["estimated_seconds"] > 0


def test_list_as_json_keeps_to_the_tag(tmp_path):
    found = document(["list", "--tag", "quick", "--json"], tmp_path)
    assert [e["name"] for e in found["exercises"]] == sorted(
        name for name, data in bundled().items() if "quick" in data["tags"])


def test_list_as_json_names_the_file_of_the_users_own_and_notes_the_broken_on_stderr(tmp_path):
    own = tmp_path / "config" / "exercises"
    own.mkdir(parents=True)
    mine = own / "my-breath.toml"
    mine.write_text((ROOT / "scripts" / "resonance.toml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    (own / "broken.toml").write_text("title = \n", encoding="utf-8")
    done = run(["list", "--json"], tmp_path)
    assert done.returncode == 0
    entries = {e["name"]: e for e in json.loads(done.stdout)["exercises"]}
    assert entries["my-breath"]["own"] is True
    assert entries["my-breath"]["file"] == str(mine)
    assert "broken" not in entries
    assert "broken.toml cannot be read" in done.stderr


# voices --json

def test_voices_as_json_are_those_the_text_lists(tmp_path):
    require_espeak()
    found = document(["voices", "en", "--json"], tmp_path)
    lines = run(["voices", "en"], tmp_path).stdout.splitlines()
    assert [v["id"] for v in found["voices"]] == [line.split()[0] for line in lines]
    for voice in found["voices"]:
        assert voice["name"] and any(lang.startswith("en") for lang in voice["languages"])
        assert not any(lang.startswith("\x05") for lang in voice["languages"])


def test_voices_as_json_for_no_language_is_an_empty_list_and_a_sentence(tmp_path):
    require_espeak()
    done = run(["voices", "zz-nowhere", "--json"], tmp_path)
    assert done.returncode == 1  # as without --json
    assert json.loads(done.stdout)["voices"] == []
    assert done.stderr == "No voices for 'zz-nowhere'.\n"


# devices --json

def test_devices_as_json_with_no_sound_output_is_an_empty_list_and_the_reason(tmp_path):
    nowhere = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    text = run(["devices"], tmp_path, env=nowhere)
    done = run(["devices", "--json"], tmp_path, env=nowhere)
    assert done.returncode == text.returncode == 69
    assert json.loads(done.stdout)["devices"] == []
    assert done.stderr == text.stderr and "no sound output" in done.stderr


def test_devices_as_json_without_portaudio_is_an_empty_list_and_the_reason(tmp_path):
    done = run(["devices", "--json"], tmp_path, prefix=without_library("portaudio"))
    assert done.returncode == 69
    assert json.loads(done.stdout)["devices"] == []
    assert "PortAudio library is missing" in done.stderr


@pytest.mark.audio
def test_devices_as_json_are_those_the_text_lists(pulse_daemon, tmp_path):
    text = run(["devices"], tmp_path, env=pulse_daemon.env)
    assert text.returncode == 0, text.stderr
    found = document(["devices", "--json"], tmp_path, env=pulse_daemon.env)["devices"]
    lines = text.stdout.splitlines()
    assert len(found) == len(lines) >= 1
    for device, line in zip(found, lines):
        assert line.startswith("*") == device["default"]
        assert int(line[1:].split()[0]) == device["index"]
        assert f"{device['channels']} ch, {device['samplerate']:g} Hz" in line
    assert sum(d["default"] for d in found) <= 1


# history --json

def test_history_as_json_with_nothing_kept_creates_nothing(tmp_path):
    found = document(["history", "--json"], tmp_path)
    assert found["pauses"] == [] and found["log"] is None
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.db"))


def test_history_as_json_refuses_export_alongside(tmp_path):
    done = run(["history", "--json", "--export", "json"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""


@pytest.mark.audio
def test_history_as_json_has_the_pause_a_real_session_kept(pulse_daemon, tmp_path):
    home = seen_notice(tmp_path / "home")
    run(["config", "set", "log", "on"], home)
    shown = stop_a_pause_with_q({**pulse_daemon.env, "GROUNDING_HOME": str(home),
                                 "TERM": "xterm"})
    assert "exit=130" in shown
    found = document(["history", "--json"], home)
    exported = json.loads(run(["history", "--export", "json"], home).stdout)
    assert found["log"] == "on" and len(found["pauses"]) == len(exported) == 1
    pause, kept = found["pauses"][0], exported[0]
    assert pause["number"] == 1 and pause["ended"] == "stopped" and pause["has_note"] is False
    assert {k: v for k, v in pause.items() if k not in ("number", "has_note")} == {
        k: v for k, v in kept.items() if k != "note"}
    logs = list(home.rglob("*.db"))
    assert len(logs) == 1 and stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    forgot = document(["history", "--forget", "--json"], home)
    assert forgot["deleted"] is True and forgot["log"] == "off"
    assert not logs[0].exists()
    assert document(["history", "--json"], home) == {
        "version": 1, "kind": "history", "log": "off", "pauses": []}


def test_history_show_as_json_gives_the_note_of_that_pause(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    from grounding import history

    history.record(history.PauseRecord("2026-12-01 20:00", 300, 7, 3))
    history.record(history.PauseRecord("2026-12-02 21:30", 420, 8, 4, note="not tonight"))
    listed = document(["history", "--json"], tmp_path)["pauses"]
    assert [(p["number"], p["seconds"], p["has_note"]) for p in listed] == [
        (1, 300, False), (2, 420, True)]
    assert "note" not in listed[1]  # the listing says there is one, as the text does
    found = document(["history", "--show", "2", "--json"], tmp_path)
    assert found["pause"]["note"] == "not tonight" and found["pause"]["number"] == 2
    missing = run(["history", "--show", "1", "--json"], tmp_path)
    assert missing.returncode == 2 and missing.stdout == ""


def test_json_escapes_what_a_terminal_would_act_on_and_keeps_it(tmp_path):
    own = tmp_path / "config" / "exercises"
    own.mkdir(parents=True)
    text = (ROOT / "scripts" / "resonance.toml").read_text(encoding="utf-8")
    odd = own / "odd\u009b31m\u202e.toml"  # a CSI and a right-to-left override in its name
    odd.write_text(text, encoding="utf-8")
    raw = os.path.join(os.fsencode(own), b"raw\xff.toml")  # a name that is not UTF-8
    with open(raw, "wb") as f:
        f.write(text.encode("utf-8"))
    done = run(["list", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    for shown in ("\x9b", "\u202e", "\udcff", "\ufffd"):
        assert shown not in done.stdout
    files = {e["file"] for e in json.loads(done.stdout)["exercises"] if e["own"]}
    assert files == {str(odd), os.fsdecode(raw)}  # the names as they are, escaped in JSON
