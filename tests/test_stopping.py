"""Stopping early, every way there is: q and Ctrl-C end with exit code 130, SIGTERM from the
system with 143, wherever the stop comes (a file being written, the pause between its parts),
and what was stopped says so once and leaves nothing half-done behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from support import ROOT, run
from terminal import Terminal


def _default_sigint() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored, and so would the
    # program under test, which then keeps it ignored (as it should)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_writing_a_file_leaves_no_file_and_exits_with_its_code(tmp_path, signum,
                                                                               code):
    out = tmp_path / "long.wav"
    process = subprocess.Popen(
        [sys.executable, "-m", "grounding", "breathe", "--minutes", "60", "--no-voice",
         "--out", str(out)], cwd=ROOT, env={**os.environ, "GROUNDING_HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint)
    try:
        said = ""
        for line in process.stderr:  # the title comes once everything is ready to render
            said += line
            if f"· to {out}" in line:
                break
        process.send_signal(signum)
        _, rest = process.communicate(timeout=30)
    finally:
        process.kill()
    said += rest
    assert process.returncode == code, said
    assert said.count(f"Stopped; {out} was not written.") == 1, said
    assert "Traceback" not in said and "Wrote" not in said
    assert list(tmp_path.glob("*.wav")) == [] and list(tmp_path.glob(".grounding-*")) == []


STOPS = {"q": 130, "Ctrl-C": 130, "SIGTERM": 143}
"""Each way of stopping, and the exit code it ends with."""


def test_a_pause_stopped_at_a_question_between_its_parts_exits_with_the_code_of_the_stop(
        pulse_daemon, tmp_path):
    # The pauses run side by side, so the first part plays once in the test's time, not thrice
    terms: dict[str, Terminal] = {}
    homes = {way: tmp_path / way for way in STOPS}
    try:
        for way, home in homes.items():
            (home / "config").mkdir(parents=True)
            (home / "config" / "first-run-done").touch()
            assert run(["config", "set", "log", "on"], home).returncode == 0
            terms[way] = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home),
                                   "TERM": "xterm"})
            terms[way].grounding("pause --no-voice --rate 300")
        for way, term in terms.items():
            term.wait_for("How strong is the pull", timeout=120)  # the first part has ended
            if way == "q":
                term.send("q")
            elif way == "Ctrl-C":
                term.send("C-c", literal=False)
            else:
                os.kill(term.program_pid(), signal.SIGTERM)  # only the program this test started
        shown = {way: term.wait_for("[finished]", timeout=30) for way, term in terms.items()}
    finally:
        for term in terms.values():
            term.close()
    for way, screen in shown.items():
        after = screen.split("How strong is the pull")[-1]
        code = int(re.findall(r"exit=(\d+)", after)[-1])
        mode = after.split("exit=")[-1]
        assert code == STOPS[way], (way, screen)
        assert after.count("Stopped.") == 1 and "Traceback" not in after, (way, screen)
        assert "-icanon" not in mode and "-echo" not in mode, (way, screen)  # put back
        kept = json.loads(run(["history", "--export", "json"], homes[way]).stdout)
        assert [entry["ended"] for entry in kept] == ["stopped"], way
