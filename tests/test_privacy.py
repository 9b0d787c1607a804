"""Privacy that is exactly true, with real runs: temporary files only below the cache and only
while a run lasts; nothing in the system's temporary folder, the home folder or the working
folder (a voiced session with a cold cache, doctor, a run killed with SIGKILL mid-synthesis and
the run after it, two runs at once, the reasons written, read aloud and removed); a forgotten
log stays off, so the next pause keeps nothing; and forgotten reasons leave no trace.

The runs see a /tmp of their own (a private mount namespace, as root), so whatever they would
leave in the system's temporary folder is found exactly, whatever else on the machine uses /tmp
meanwhile."""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ROOT, espeak_available, require, run
from terminal import Terminal, stop_a_pause_with_q

SYSTEM_TMP = Path("/tmp")


class Sandbox:
    """The folders of one test's runs, each run given a /tmp of its own.

    ``home`` is GROUNDING_HOME, ``work`` the working folder, ``user`` HOME, ``tmpdir`` TMPDIR,
    and ``system_tmp`` what the runs see as /tmp: empty but for the way to ``keep`` (this test's
    folders, and for instance a PulseAudio daemon's), which are bound in at their own paths."""

    def __init__(self, tmp_path: Path, keep: tuple[Path, ...] = ()):
        usable = (os.geteuid() == 0 and subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode == 0)
        require(usable, "root and unshare, to give a test run a /tmp of its own")
        require(espeak_available(), "espeak-ng (libespeak-ng1)")
        root = Path(os.path.realpath(tmp_path))
        self.home, self.work, self.user, self.tmpdir, self.system_tmp = (
            root / name for name in ("home", "work", "user", "tmpdir", "system-tmp"))
        for folder in (self.home, self.work, self.user, self.tmpdir, self.system_tmp):
            folder.mkdir()
        (self.home / "config").mkdir()
        (self.home / "config" / "first-run-done").touch()  # the notice has been shown
        self.skeleton: set[str] = set()
        """What ``system_tmp`` holds from the start: the folders leading to each bound one."""
        binds = []
        kept: list[Path] = []
        # The project and its interpreter too: a clone may itself live under /tmp
        for folder in (root, ROOT, Path(sys.prefix), *keep):
            real = Path(os.path.realpath(folder))
            if SYSTEM_TMP not in real.parents:
                continue  # not hidden by the private /tmp
            if any(real == k or k in real.parents for k in kept):
                continue  # bound in already, with a folder that holds it
            kept.append(real)
            inside = real.relative_to(SYSTEM_TMP)
            (self.system_tmp / inside).mkdir(parents=True)
            self.skeleton |= {str(inside), *(str(p) for p in inside.parents if str(p) != ".")}
            binds.append(f"mount --bind {shlex.quote(str(real))} "
                         f"{shlex.quote(str(self.system_tmp / inside))}")
        script = " && ".join([*binds, f"mount --rbind {shlex.quote(str(self.system_tmp))} /tmp",
                              f"cd {shlex.quote(str(self.work))}",  # through the new mounts
                              'exec "$@"'])
        self.prefix = ["unshare", "-m", "sh", "-c", script, "sh"]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a run: every folder it could use by default points here."""
        return {**os.environ, "GROUNDING_HOME": str(self.home), "HOME": str(self.user),
                "TMPDIR": str(self.tmpdir), "PYTHONDONTWRITEBYTECODE": "1", **extra}

    def command(self, args: list[str]) -> list[str]:
        return [*self.prefix, sys.executable, "-m", "grounding", *args]

    def run(self, args: list[str], **extra: str) -> subprocess.CompletedProcess:
        """Run grounding to its end, in the working folder."""
        return subprocess.run(self.command(args), cwd=self.work, env=self.env(**extra),
                              capture_output=True, text=True, timeout=300)

    def start(self, args: list[str]) -> subprocess.Popen:
        """Start grounding as the leader of a process group of its own (its speech worker
        joins it), so the whole run can be killed at once."""
        return subprocess.Popen(self.command(args), cwd=self.work, env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def temp_folders(self) -> list[Path]:
        """The per-process temporary folders in the cache now."""
        root = self.home / "cache" / "tmp"
        return sorted(root.iterdir()) if root.exists() else []

    def folder_of(self, process: subprocess.Popen, timeout: float = 60,
                  synthesising: bool = False) -> Path:
        """The temporary folder of a running process, once it has one (``synthesising``:
        once its speech worker has started and some clips are made)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            for folder in self.temp_folders():
                if not folder.name.startswith(f"{process.pid}-"):
                    continue
                if not synthesising or (any(folder.glob("speech-*")) and clips(self.home) >= 3):
                    return folder
            time.sleep(0.005)
        raise AssertionError("the run never made its temporary folder")

    def written_outside(self, expected_in_work: set[str] = frozenset()) -> list[str]:
        """Everything the runs left outside GROUNDING_HOME: in their /tmp, TMPDIR, HOME and
        working folder (but the files they were asked to write)."""
        found = [str(p) for p in self.system_tmp.rglob("*")
                 if str(p.relative_to(self.system_tmp)) not in self.skeleton]
        found += [str(p) for folder in (self.tmpdir, self.user) for p in folder.rglob("*")]
        found += [str(p) for p in self.work.rglob("*") if p.name not in expected_in_work]
        return found


def clips(home: Path) -> int:
    return sum(1 for _ in (home / "cache" / "clips").rglob("*.npy"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_voiced_session_and_doctor_leave_nothing_outside_the_user_folders(pulse_daemon,
                                                                            tmp_path):
    box = Sandbox(tmp_path, keep=(pulse_daemon.folder,))
    played = box.run(["play", "quick-reset", "--quiet", "--out", "x.wav"])
    assert played.returncode == 0, played.stderr
    assert clips(box.home) >= 10 and played.stderr == ""  # voiced, from a cold cache
    assert (box.work / "x.wav").stat().st_size > 1_000_000
    doctor = box.run(["doctor"], **pulse_daemon.env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "ok    speech: a test phrase was synthesised" in doctor.stdout
    assert box.written_outside({"x.wav"}) == []
    assert box.temp_folders() == []  # each run removed its own at exit
    assert sorted(p.name for p in box.home.iterdir()) == ["cache", "config"]


def test_a_run_killed_mid_synthesis_leaves_its_folder_only_until_the_next_run(tmp_path):
    box = Sandbox(tmp_path)
    killed = box.start(["play", "body-scan", "--quiet", "--out", "body.wav"])
    try:
        folder = box.folder_of(killed, synthesising=True)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # the run and its speech worker: nothing tidies
        killed.wait()
    assert killed.returncode == -signal.SIGKILL
    assert folder.is_dir()  # left behind, in the cache: nothing reached the system's /tmp
    assert box.written_outside() == []

    after = box.run(["play", "quick-reset", "--quiet", "--out", "after.wav"])
    assert after.returncode == 0, after.stderr
    assert not folder.exists()  # swept: its process no longer runs
    assert box.temp_folders() == []
    assert box.written_outside({"after.wav"}) == []


def test_two_runs_at_once_leave_each_other_s_folder_alone(tmp_path):
    box = Sandbox(tmp_path)
    long = box.start(["bedtime", "--minutes", "45", "--quiet", "--out", "long.wav"])
    try:
        folder = box.folder_of(long)
        short = box.run(["play", "quick-reset", "--quiet", "--out", "short.wav"])
        assert short.returncode == 0, short.stderr
        assert long.poll() is None, "the long run ended first, so nothing was tested"
        assert folder.is_dir()  # the short run swept at its start and at its first clip
        _, err = long.communicate(timeout=300)
    finally:
        if long.poll() is None:
            os.killpg(long.pid, signal.SIGKILL)
            long.wait()
    assert long.returncode == 0, err
    assert not folder.exists() and box.temp_folders() == []
    again = box.run(["bedtime", "--minutes", "45", "--quiet", "--out", "again.wav"])
    assert again.returncode == 0, again.stderr
    assert sha256(box.work / "long.wav") == sha256(box.work / "again.wav")  # whole and right
    assert box.written_outside({"long.wav", "short.wav", "again.wav"}) == []


@pytest.mark.parametrize("forgotten", [True, False])
def test_a_pause_after_forget_keeps_nothing(pulse_daemon, tmp_path, monkeypatch, forgotten):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "log", "on"], home)
    monkeypatch.setenv("GROUNDING_HOME", str(home))
    from grounding import history

    history.record(history.PauseRecord("2026-12-01 21:10", 300, 7, 4))
    if forgotten:
        assert run(["history", "--forget"], home).returncode == 0
        assert not history.path().exists()
    shown = stop_a_pause_with_q({**pulse_daemon.env, "GROUNDING_HOME": str(home),
                                 "TERM": "xterm"})
    assert "exit=130" in shown
    if forgotten:
        assert not history.path().parent.exists()  # no records.db, nor its folder
    else:  # the same stopped pause is kept when the log is on
        assert [p.ended for p in history.pauses()] == ["finished", "stopped"]


def test_reasons_written_read_aloud_and_forgotten_leave_nothing_anywhere(
        pulse_daemon, instant_device, tmp_path):
    # a sound server to find, as on a desktop (without one, and without XDG_RUNTIME_DIR,
    # libpulse in ALSA's device list makes $TMPDIR/pulse-* for any session on the sound card)
    box = Sandbox(tmp_path, keep=(pulse_daemon.folder, Path(instant_device["XDG_CONFIG_HOME"])))
    # the device is looked for among the outputs before it is kept
    assert box.run(["config", "set", "device", "instant"], **pulse_daemon.env,
                   **instant_device).returncode == 0
    term = Terminal({"TERM": "xterm"})  # its shell outside the sandbox, the program inside
    try:
        folders = [f"{name}={value}" for name, value in box.env().items()
                   if name in ("GROUNDING_HOME", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE")]
        term.send(shlex.join(["env", *folders, *box.command(["reasons", "--add"])])
                  + "; echo \"[fini\"\"shed]\"", enter=True)
        term.wait_for("Write it here. Nothing is sent anywhere.", timeout=30)
        for line in ("SECRETWORD one", "SECRETWORD two", "", ""):
            term.send(line, enter=True)
        term.wait_for("Keep them, or let them go?")
        term.send("k")
        shown = term.wait_for("[finished]")
    finally:
        term.close()
    assert "Kept 2 reasons" in shown
    assert box.run(["reasons"]).stdout.startswith("1  SECRETWORD one\n2  SECRETWORD two\n")
    said = box.run(["reasons", "--say"], **pulse_daemon.env, **instant_device)  # cold cache
    assert said.returncode == 0 and "without a voice" not in said.stderr, said.stderr
    assert box.run(["reasons", "--remove", "2"]).returncode == 0
    assert box.written_outside() == [] and box.temp_folders() == []
    assert not list((box.home / "cache").rglob("*.npy"))  # their sound was never stored
    forgot = box.run(["reasons", "--forget"])
    assert forgot.returncode == 0, forgot.stderr
    assert sorted(p.name for p in box.home.iterdir()) == ["cache", "config"]
    found = subprocess.run(["grep", "-r", "-l", "SECRETWORD", str(tmp_path)],
                           capture_output=True)
    assert found.stdout == b""  # in no file, in any folder the runs could reach


def test_a_grounding_home_that_cannot_be_a_folder_is_one_sentence(tmp_path):
    """GROUNDING_HOME naming a file, or a ~user there is no such user for: every command that
    needs the folders says so in one sentence and exits 2; help-now still answers."""
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    for home, why in ((str(afile), "which is a file, not a folder"),
                      ("~nosuchuser-grounding/x", "but there is no home folder for its '~' here")):
        for args in (["config", "set", "volume", "30"], ["list"], ["config"],
                     ["breathe", "--cycles", "1", "--no-voice", "--dry-run"]):
            result = run(args, tmp_path, env={"GROUNDING_HOME": home}, cwd=tmp_path)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.startswith(f"GROUNDING_HOME is {home}, {why};"), result.stderr
            assert len(result.stderr.splitlines()) == 1
        helped = run(["help-now"], tmp_path, env={"GROUNDING_HOME": home}, cwd=tmp_path)
        assert helped.returncode == 0 and "findahelpline.com" in helped.stdout
    assert afile.read_text() == "mine\n" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
