import os
from dataclasses import fields

import pytest

from support import run

from grounding import config


def test_settings_can_be_set_and_shown(tmp_path):
    assert run(["config", "set", "volume", "40"], tmp_path).returncode == 0
    assert run(["config", "set", "tones", "off"], tmp_path).returncode == 0
    shown = run(["config"], tmp_path).stdout
    assert "volume  40" in shown and "tones   off" in shown and "rate    150" in shown
    text = (tmp_path / "config" / "config.toml").read_text()
    assert "volume = 40" in text and "tones = false" in text and "rate" not in text


def test_a_wrong_setting_is_a_sentence(tmp_path):
    for args, words in ((["config", "set", "volum", "40"], "Did you mean 'volume'?"),
                        (["config", "set", "volume", "400"], "volume is from 0 to 100."),
                        (["config", "set", "rate", "fast"], "rate is a whole number."),
                        (["config", "set", "holds", "maybe"], "holds is true or false."),
                        (["config", "volume"], "grounding config set KEY VALUE")):
        result = run(args, tmp_path)
        assert result.returncode == 2 and words in result.stderr, args


def test_settings_are_used_and_the_command_line_wins(tmp_path):
    run(["config", "set", "holds", "false"], tmp_path)
    result = run(["play", "gentle-box", "--dry-run", "--no-voice"], tmp_path)
    assert result.returncode == 0
    assert all(line.split()[1] != "hold" for line in result.stdout.splitlines())
    assert any(line.split()[1] == "in" for line in result.stdout.splitlines())
    run(["config", "set", "volume", "20"], tmp_path)
    quiet = run(["breathe", "--cycles", "1", "--no-voice", "--dry-run"], tmp_path)
    loud = run(["breathe", "--cycles", "1", "--no-voice", "--dry-run", "--volume", "80"], tmp_path)
    assert quiet.stderr.split("sha256 ")[1] != loud.stderr.split("sha256 ")[1]


def test_a_broken_settings_file_is_reported_with_its_line_and_defaults_are_used(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "config.toml").write_text('rate = 150\nvolume = "loud"\ntones = true\n')
    result = run(["breathe", "--cycles", "1", "--no-voice", "--dry-run"], tmp_path)
    assert result.returncode == 0
    assert f"{folder / 'config.toml'}:2: volume is a whole number. Using the default for it." in result.stderr
    (folder / "config.toml").write_text("volume = = 3\n")
    result = run(["breathe", "--cycles", "1", "--no-voice", "--dry-run"], tmp_path)
    assert result.returncode == 0 and "using the default settings" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_file_keeps_only_what_differs_from_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    path = config.save(config.Config(voice='en "quoted"', rate=150))
    assert path.read_text().splitlines()[1:] == ['voice = "en \\"quoted\\""']
    assert config.load(print).voice == 'en "quoted"'


def test_the_first_run_notice_is_shown_once_and_about_shows_it_again(tmp_path):
    out = tmp_path / "x.wav"
    first = run(["breathe", "--cycles", "1", "--no-voice", "--out", str(out)], tmp_path)
    second = run(["breathe", "--cycles", "1", "--no-voice", "--out", str(out), "--force"],
                 tmp_path)
    assert "It is not therapy, medical care or a crisis service" in " ".join(first.stderr.split())
    assert "not therapy" not in second.stderr and second.returncode == 0
    about = run(["about"], tmp_path)
    assert "not therapy" in about.stdout and "helpline" in about.stdout


def test_help_now_lists_lines_at_once_without_sound(tmp_path):
    result = run(["help-now"], tmp_path, env={"PULSE_SERVER": "unix:/nowhere", "LC_ALL": "",
                                              "LC_MESSAGES": "", "LANG": "C.UTF-8"})
    assert result.returncode == 0
    for words in ("findahelpline.com", "988", "116 123", "0808 2000 247", "13 11 14",
                  "1800 737 732", "0800 733 843", "emergency number"):
        assert words in result.stdout


def test_the_country_setting_takes_any_country_and_refuses_what_is_not_one(tmp_path):
    for written, stored in (("nz", "NZ"), ("UK", "GB"), ("France", "FR")):
        assert run(["config", "set", "country", written], tmp_path).returncode == 0
        assert f"country {stored}" in run(["config"], tmp_path).stdout
    refused = run(["config", "set", "country", "XX"], tmp_path)
    assert refused.returncode == 2 and "'XX' is not a country code we know." in refused.stderr
    folder = tmp_path / "config"
    (folder / "config.toml").write_text('country = "Atlantis"\n')
    result = run(["help-now"], tmp_path, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C"})
    assert result.returncode == 0 and "config.toml:1: 'Atlantis' is not a country" in result.stderr
    assert "findahelpline.com" in result.stdout


DEEP = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"
"""A settings file nested far too deeply to read (tomllib alone runs out of stack on it)."""


def settings_file(home, text: str | bytes):
    """``home``'s config.toml, holding ``text``."""
    folder = home / "config"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "config.toml"
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    return file


def test_a_settings_file_too_deep_to_read_leaves_every_command_working(tmp_path):
    file = settings_file(tmp_path, DEEP)
    warning = (f"{file}:1: the settings cannot be read: it nests more than 100 levels deep "
               "(lists or tables inside each other, or the parts of a dotted key); using the "
               "default settings ('grounding config' shows them).")
    for args in (["breathe", "--cycles", "1", "--no-voice", "--dry-run"], ["config"],
                 ["history"], ["help-now"]):
        result = run(args, tmp_path, timeout=30)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stderr.count(warning) == 1, (args, result.stderr)
    listed = run(["list"], tmp_path, timeout=30)
    assert listed.returncode == 0 and "quick-reset" in listed.stdout


def test_set_refuses_a_file_it_cannot_read_and_leaves_it_as_it_is(tmp_path):
    for text, line in ((DEEP, 1), ("tones = false\nvolume = = 3\n", 2),
                       (b"tones = false\nvoice = \"\xff\"\n", None)):
        file = settings_file(tmp_path, text)
        before = file.read_bytes()
        for args in (["config", "set", "volume", "30"], ["config", "reset", "tones"]):
            result = run(args, tmp_path, timeout=30)
            assert result.returncode == 2, (args, result.stderr)
            where = f"{file}:{line}" if line else f"{file}"
            assert result.stderr.startswith(f"{where}: the settings cannot be read: "), \
                result.stderr
            assert "So that nothing in it is lost, it is left as it is" in result.stderr
            assert len(result.stderr.splitlines()) == 1 and file.read_bytes() == before


def test_reset_starts_afresh_and_keeps_the_old_file_beside_it(tmp_path):
    file = settings_file(tmp_path, DEEP)
    result = run(["config", "reset"], tmp_path, timeout=30)
    old = file.with_name("config.toml.old")
    assert result.returncode == 0
    assert result.stdout.strip() == ("Every setting is back to its default; what the file said "
                                     f"is kept in {old}.")
    assert old.read_text() == DEEP and not file.exists()
    assert run(["config", "set", "volume", "30"], tmp_path).returncode == 0
    assert "volume  30" in run(["config"], tmp_path).stdout
    again = run(["config", "reset"], tmp_path)
    assert again.returncode == 0 and "volume = 30" in old.read_text()
    assert "volume  30" not in run(["config"], tmp_path).stdout
    nothing = run(["config", "reset"], tmp_path)
    assert nothing.stdout.strip() == "Every setting is back to its default."


def test_set_and_reset_change_only_their_own_line(tmp_path):
    mine = ('# my settings\nvolume = "loud"  # to fix later\ncolour = "blue"\n\n'
            '[later]\nrate = 90\n')
    file = settings_file(tmp_path, mine)
    assert run(["config", "set", "rate", "120"], tmp_path).returncode == 0
    assert file.read_text() == mine.replace("\n\n[later]", "\nrate = 120\n\n[later]")
    assert run(["config", "set", "volume", "30"], tmp_path).returncode == 0
    assert file.read_text() == mine.replace('"loud"  # to fix later', "30").replace(
        "\n\n[later]", "\nrate = 120\n\n[later]")
    reset = run(["config", "reset", "rate"], tmp_path)
    assert reset.stdout == "rate is back to its default, 150.\n"
    assert run(["config", "reset", "volume"], tmp_path).returncode == 0
    assert file.read_text() == mine.replace('volume = "loud"  # to fix later\n', "")


def test_set_answers_in_the_words_config_shows(tmp_path):
    shown = {}
    for key, value in (("tones", "false"), ("holds", "no"), ("volume", "30"),
                       ("country", "new zealand"), ("log", "on"), ("rate", "120")):
        said = run(["config", "set", key, value], tmp_path)
        assert said.returncode == 0, said.stderr
        shown[key] = said.stdout.split(" is now ")[1].split(" (in ")[0]
    listing = run(["config"], tmp_path).stdout
    for key, value in shown.items():
        assert f"{key:<7} {value}\n" in listing
    assert shown["tones"] == "off" and shown["country"] == "NZ"
    cleared = run(["config", "set", "country", ""], tmp_path)
    assert cleared.stdout.startswith("country is now back to its default (in ")
    assert "country (default)" in run(["config"], tmp_path).stdout


def test_config_help_names_every_setting_and_reset(tmp_path):
    text = " ".join(run(["config", "--help"], tmp_path).stdout.split())
    for f in fields(config.Config):
        assert f" {f.name}" in text.split("Arguments:")[0], f.name
    assert "grounding config reset" in text
    wrong = run(["config", "reset", "volum"], tmp_path)
    assert wrong.returncode == 2 and "Did you mean 'volume'?" in wrong.stderr
    odd = run(["config", "reset", "volume", "3"], tmp_path)
    assert odd.returncode == 2 and "grounding config reset [KEY]" in odd.stderr


@pytest.mark.parametrize("kind", ["folder", "named pipe"])
def test_a_settings_file_that_is_not_a_file_is_said_and_never_waited_on(tmp_path, kind):
    file = tmp_path / "config" / "config.toml"
    file.parent.mkdir()
    os.mkdir(file) if kind == "folder" else os.mkfifo(file)
    result = run(["breathe", "--cycles", "1", "--no-voice", "--dry-run"], tmp_path, timeout=20)
    assert result.returncode == 0 and f"{file} cannot be read (it is a" in result.stderr
    refused = run(["config", "set", "volume", "30"], tmp_path, timeout=20)
    assert refused.returncode == 2 and "it is left as it is" in refused.stderr
    reset = run(["config", "reset"], tmp_path, timeout=20)
    assert reset.returncode == 0 and file.with_name("config.toml.old").exists()
    assert run(["config", "set", "volume", "30"], tmp_path).returncode == 0


def test_huge_values_and_control_characters_in_the_file_are_each_told(tmp_path):
    file = settings_file(tmp_path, 'volume = 1e400\nvoice = "' + "e" * 10_000_000 + '"\n'
                                   'device = "\\u001b[31mred\\u0007"\ntones = false\n')
    result = run(["config"], tmp_path, timeout=60)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"{file}:1: volume is a whole number. Using the default for it.",
        f"{file}:2: voice is at most 200 characters long. Using the default for it."]
    assert "device  red\n" in result.stdout and "tones   off" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    refused = run(["config", "set", "device", "\x1b[2Jx"], tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == "device is plain text, without control characters.\n"


def test_what_a_pause_or_the_volume_keys_remember_never_overwrites_an_unreadable_file(
        tmp_path, monkeypatch):
    """The log's setting chosen at the end of a pause, and the volume the + and - keys leave,
    are saved on the side: with a settings file that cannot be read, the file stays as the
    user wrote it, the pause says why, and the session goes on."""
    import io

    from grounding.pause_flow import Pausing
    from grounding.terminal import _remember_volume

    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    file = settings_file(tmp_path, "tones = false\nvolume = = 3\n")
    pausing = Pausing(None, 3, "", lambda script: None, print, None)
    pausing.out = io.StringIO()
    pausing._set_log("on")
    _remember_volume(20)
    assert file.read_text() == "tones = false\nvolume = = 3\n"
    shown = pausing.out.getvalue()
    assert shown.startswith("\n")  # on a line of its own, after the question
    assert " ".join(shown.split()).startswith(f"{file}:2: the settings cannot be read: ")


def test_a_setting_that_is_not_utf8_text_is_refused_and_others_are_kept_as_written(tmp_path):
    refused = run(["config", "set", "device", "\udcff"], tmp_path)  # the byte 0xff
    assert refused.returncode == 2
    assert refused.stderr == "device has characters that cannot be written as UTF-8 text.\n"
    assert run(["config", "set", "device", "Écran 2"], tmp_path).returncode == 0
    assert 'device = "Écran 2"' in (tmp_path / "config" / "config.toml").read_text()
    assert "device  Écran 2\n" in run(["config"], tmp_path).stdout


AWKWARD_NAMES = [
    "🎧 Kopfhörer (USB) 🔊",
    'Say "hi" to the \'speakers\'',
    "C:\\Audio\\out\\\\",
    'ends with a backslash \\',
    '""" and \'\'\' and # not a comment = [table]',
    "x" * config.TEXT_LONGEST,
]


def test_awkward_device_names_are_written_as_toml_and_read_back_as_they_were(tmp_path):
    import tomllib

    file = tmp_path / "config" / "config.toml"
    for name in AWKWARD_NAMES:
        said = run(["config", "set", "device", name], tmp_path)
        assert said.returncode == 0, (name, said.stderr)
        text = file.read_text(encoding="utf-8")
        assert tomllib.loads(text)["device"] == name  # Python's own TOML reader
        assert len(text.splitlines()) == 2  # the header and the setting, on one line
    assert run(["config", "set", "volume", "35"], tmp_path).returncode == 0
    assert tomllib.loads(file.read_text(encoding="utf-8")) == {
        "device": AWKWARD_NAMES[-1], "volume": 35}


def test_a_device_name_with_a_line_break_or_too_long_is_refused_and_nothing_written(tmp_path):
    file = tmp_path / "config" / "config.toml"
    for name, words in (("one\ntwo", "device is plain text, without control characters."),
                        ("tab\there", "device is plain text, without control characters."),
                        ("bell\a", "device is plain text, without control characters."),
                        ("\u202eright to left", "device is plain text, without control "
                                                "characters."),
                        ("x" * (config.TEXT_LONGEST + 1),
                         f"device is at most {config.TEXT_LONGEST} characters long.")):
        refused = run(["config", "set", "device", name], tmp_path)
        assert refused.returncode == 2 and refused.stderr == words + "\n", name
        assert not file.exists()


@pytest.mark.parametrize("value", ["one\ntwo", "a\tb", "del\x7f", "nul\x00", "\x1b[31mred",
                                   "\\u0041 stays as written", "é\r\n"])
def test_what_the_file_is_given_is_escaped_so_it_reads_back_the_same(tmp_path, monkeypatch,
                                                                     value):
    # config.change is also what the volume keys and the log's question write through; a
    # value that reached it unchecked must still make one valid line
    import tomllib

    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    written = config.change({"device": value})
    lines = written.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[1].startswith("device = ")
    assert tomllib.loads(written.read_text(encoding="utf-8"))["device"] == value
