"""The program without the modules Windows lacks: every module imports, and the commands that
need no terminal give what they give with them (a voiced session to a file included, whose
clip cache then goes without its file lock, as on Windows). Python is told the modules are
missing by a ``sitecustomize`` that every process of the run loads, the speech worker's too."""

import pkgutil
import subprocess
import sys

import pytest

import grounding
from support import ROOT, require_espeak

WINDOWS_LACKS = ("termios", "tty", "fcntl", "pwd", "grp", "resource", "pty")
"""Standard modules that exist on Unix only (the program may use them on Unix, behind a
check, but never on a path Windows takes)."""


@pytest.fixture
def lacking(tmp_path) -> dict[str, str]:
    """An environment whose Python processes cannot import WINDOWS_LACKS."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        f"import sys\nfor name in {WINDOWS_LACKS!r}:\n    sys.modules[name] = None\n")
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
            "GROUNDING_HOME": str(tmp_path / "home")}


def run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL, **kw)


def test_the_modules_are_missing_in_that_environment(lacking):
    for name in WINDOWS_LACKS:
        found = run(["-c", f"import {name}"], lacking)
        assert found.returncode == 1 and "ModuleNotFoundError" in found.stderr, name


def test_every_module_imports_without_them(lacking):
    names = [f"grounding.{m.name}" for m in pkgutil.iter_modules(grounding.__path__)
             if m.name != "__main__"]
    assert len(names) > 30
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = run(["-c", code, *names], lacking)
    assert done.returncode == 0, done.stderr


COMMANDS = [
    ["--version"], ["--help"], ["list"], ["config", "set", "volume", "40"], ["config"],
    ["config", "reset"], ["help-now"], ["history"], ["breathe", "4-6", "--dry-run"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_says_the_same_without_them(tmp_path, lacking, args):
    import shutil

    usual = {**lacking, "PYTHONPATH": str(ROOT)}  # the same home, emptied between the two
    there = run(["-m", "grounding", *args], usual)
    shutil.rmtree(lacking["GROUNDING_HOME"], ignore_errors=True)
    without = run(["-m", "grounding", *args], lacking)
    assert (without.returncode, without.stdout) == (there.returncode, there.stdout), \
        without.stderr
    assert "Traceback" not in without.stderr


def test_a_voiced_session_to_a_file_is_the_same_without_them(tmp_path, lacking):
    require_espeak()
    import os

    usual = {**os.environ, "PYTHONPATH": str(ROOT), "GROUNDING_HOME": str(tmp_path / "usual")}
    session = ["-m", "grounding", "breathe", "4-6", "--cycles", "2", "--out"]
    there = run([*session, str(tmp_path / "usual.wav")], usual)
    without = run([*session, str(tmp_path / "without.wav")], lacking)
    assert there.returncode == without.returncode == 0, without.stderr
    assert "without a voice" not in without.stderr
    assert (tmp_path / "without.wav").read_bytes() == (tmp_path / "usual.wav").read_bytes()
