"""Shell completion, for real: the program asked through the protocol bash's completion
script uses (``_GROUNDING_COMPLETE`` with COMP_WORDS and COMP_CWORD), its answers checked
against the exercise files, the settings ``grounding config`` shows and what the commands
accept; the script installed into a throwaway home; and a Tab pressed in a real bash."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib

import pytest

from support import ROOT, require, run
from terminal import Terminal


def complete(line: str, home, env: dict | None = None) -> list[str]:
    """What bash's completion for ``grounding`` offers for ``line`` (the word after its last
    space is the one being completed)."""
    words = line.split(" ")
    done = run([], home, env={"_GROUNDING_COMPLETE": "complete_bash", "COMP_WORDS": line,
                              "COMP_CWORD": str(len(words) - 1), **(env or {})})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [word for word in done.stdout.splitlines() if word]  # none: one empty line


def bundled() -> dict[str, dict]:
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted((ROOT / "scripts").glob("*.toml"))}


def test_play_completes_the_exercise_names_from_their_files(tmp_path):
    assert complete("grounding play ", tmp_path) == sorted(bundled())
    assert complete("grounding play qu", tmp_path) == sorted(
        name for name in bundled() if name.startswith("qu"))


def test_play_completes_the_users_own_exercises_too(tmp_path):
    own = tmp_path / "config" / "exercises"
    own.mkdir(parents=True)
    (own / "quiet-corner.toml").write_text("not even read", encoding="utf-8")
    assert "quiet-corner" in complete("grounding play qu", tmp_path)


def test_breathe_completes_names_the_command_accepts(tmp_path):
    names = complete("grounding breathe ", tmp_path)
    assert "resonance" in names and len(names) >= 4
    for name in names:
        done = run(["breathe", name, "--cycles", "1", "--no-voice", "--dry-run"], tmp_path)
        assert done.returncode == 0, (name, done.stderr)
    assert complete("grounding breathe bo", tmp_path) == ["box"]


def test_config_completes_its_actions_the_settings_and_on_or_off(tmp_path):
    assert complete("grounding config ", tmp_path) == ["set", "reset"]
    shown = run(["config"], tmp_path).stdout.splitlines()
    settings = [line.split()[0] for line in shown if not line.startswith("(")]
    assert complete("grounding config set ", tmp_path) == settings
    assert complete("grounding config reset ", tmp_path) == settings
    assert complete("grounding config reset vo", tmp_path) == ["voice", "volume"]
    assert complete("grounding config set log ", tmp_path) == ["on", "off"]
    assert complete("grounding config set rate ", tmp_path) == []
    assert complete("grounding config show ", tmp_path) == []


def test_tags_complete_to_those_list_accepts(tmp_path):
    tags = complete("grounding list --tag ", tmp_path)
    used = {tag for data in bundled().values() for tag in data["tags"]}
    assert used <= set(tags)
    for tag in tags:
        assert run(["list", "--tag", tag], tmp_path).returncode == 0


def test_countries_complete_in_the_case_begun_with_codes_help_now_knows(tmp_path):
    upper = complete("grounding help-now --country N", tmp_path)
    assert "NZ" in upper and all(len(c) == 2 and c[0] == "N" for c in upper)
    assert complete("grounding config set country n", tmp_path) == [c.lower() for c in upper]
    for code in upper[:3]:
        done = run(["help-now", "--country", code], tmp_path)
        assert done.returncode == 0 and "not a country" not in done.stderr


def test_an_unusable_home_completes_nothing_and_says_nothing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert complete("grounding play ", blocked) == []


def test_completing_loads_no_sound_library(tmp_path):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "grounding"], capture_output=True,
        text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "GROUNDING_HOME": str(tmp_path), "_GROUNDING_COMPLETE":
             "complete_bash", "COMP_WORDS": "grounding play qu", "COMP_CWORD": "2"})
    assert done.stdout.split() == ["quick-reset"]
    loaded = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert "grounding.library" in loaded  # the import times were read
    assert not loaded & {"numpy", "sounddevice", "soundfile", "soxr", "grounding.speech"}


@pytest.mark.parametrize("shell, written", [
    ("bash", {".bashrc", ".bash_completions/grounding.sh"}),
    ("zsh", {".zshrc", ".zfunc/_grounding"}),
    ("fish", {".config/fish/completions/grounding.fish"}),
])
def test_install_completion_writes_only_where_the_shell_reads(tmp_path, shell, written):
    found_shell = shutil.which(shell)
    require(found_shell is not None, shell)  # make test installs it; CI=true fails without
    home, data = tmp_path / "home", tmp_path / "grounding"
    home.mkdir()
    done = from_shell(found_shell, "--install-completion",
                      {"HOME": str(home), "GROUNDING_HOME": str(data)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{shell} completion installed" in done.stdout
    found = {str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()}
    assert found == written
    assert not data.exists()  # nothing of the program's own was made
    script = next(home / p for p in written if "grounding" in p)
    assert "_GROUNDING_COMPLETE" in script.read_text()
    assert not stat.S_IMODE(script.stat().st_mode) & 0o022  # no one else may change it


def test_show_completion_prints_the_script_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    done = from_shell("bash", "--show-completion",
                      {"HOME": str(home), "GROUNDING_HOME": str(tmp_path / "data")})
    assert done.returncode == 0
    assert "complete -o default -F _grounding_completion grounding" in done.stdout
    assert list(home.iterdir()) == []


def test_the_completion_options_leave_help_version_and_the_module_as_they_were(tmp_path):
    helped = run(["--help"], tmp_path)
    assert helped.returncode == 0 and "--install-completion" in helped.stdout
    version = run(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("grounding ")
    listed = run(["list"], tmp_path)
    assert listed.returncode == 0 and "quick-reset" in listed.stdout


def test_tab_in_a_real_bash_completes_an_exercise_name(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    command = bin_dir / "grounding"  # the installed command, running this tree's code
    command.write_text(f"#!/bin/sh\ncd {shlex.quote(str(ROOT))} && exec "
                       f"{shlex.quote(sys.executable)} -m grounding \"$@\"\n")
    command.chmod(0o755)
    script = tmp_path / "grounding.bash"
    shown = from_shell("bash", "--show-completion", {"GROUNDING_HOME": str(tmp_path / "home")})
    script.write_text(shown.stdout)
    term = Terminal({"GROUNDING_HOME": str(tmp_path / "home"), "TERM": "xterm"})
    try:
        term.send(f"export PATH={shlex.quote(str(bin_dir))}:\"$PATH\"; "
                  f"source {shlex.quote(str(script))}; clear", enter=True)
        term.send("grounding play quick-r")
        term.send("Tab", literal=False)
        term.wait_for("$ grounding play quick-reset")
        term.send("C-u", literal=False)
        term.send("grounding config reset vo")
        term.send("Tab", literal=False)
        term.send("Tab", literal=False)  # two choices: bash lists them on the second Tab
        screen = term.wait_for("volume")
        assert "voice" in screen
    finally:
        term.close()


def from_shell(shell: str, option: str, env: dict) -> subprocess.CompletedProcess:
    """``grounding OPTION`` run by ``shell``, as at its prompt: typer finds the shell to
    complete for among the program's parents (under make, the nearest would be sh). A command
    after it keeps the shell from replacing itself with the program."""
    status = "$status" if shell.endswith("fish") else "$?"
    command = f"{shlex.quote(sys.executable)} -m grounding {option}; exit {status}"
    return subprocess.run([shell, "-c", command], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={**os.environ, **env})
