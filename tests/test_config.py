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
    assert "It is not therapy, medical care or a crisis service" in first.stderr
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
