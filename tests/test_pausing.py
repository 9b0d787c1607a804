"""The interactive pause in a real terminal (tmux), playing into a private PulseAudio sink:
ratings by key, skipping, the high-rating branch, writing and letting go, the first-pause
question about the log, and what the log then holds."""

from __future__ import annotations

import json
import subprocess

from support import run
from terminal import Terminal


def test_a_whole_interactive_pause(pulse_daemon, tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "country", "GB"], home)
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home), "TERM": "xterm"},
                    height=45)
    try:
        term.grounding("pause --minutes 1 --no-voice --rate 300")
        assert "0808 2000 247" in term.wait_for("Pause: arrive")  # the abuse line, at once
        term.wait_for("How strong is the pull to reach out", timeout=90)
        term.send("9")
        term.wait_for("how stressed or upset do you feel")
        term.send("s")
        shown = term.wait_for("Would a minute or two with the room")
        assert "999" in shown
        term.send("c")
        term.wait_for("Where is the urge now", timeout=420)
        term.send("10")
        term.wait_for("Would a minute or two with the room", times=2)  # 10 is high: again
        term.send("c")
        term.wait_for("What would you like to do now?", timeout=240)
        term.send("2")
        term.wait_for("Write it here. Nothing is sent anywhere.")
        term.send("a message to let go of SECRETWORD", enter=True)
        term.send("", enter=True)
        term.send("", enter=True)
        term.wait_for("Keep it in your private log, or let it go?")
        term.send("l")
        term.wait_for("Let go. It was not written anywhere.")
        term.send("", enter=True)
        term.wait_for("Before you go: the pull to reach out")
        term.send("4")
        term.wait_for("And how stressed or upset, 0 to 10?")
        term.send("3")
        term.wait_for("It moved from 9 to 4.")
        term.wait_for("Would you like to keep a private log")
        term.send("y")
        shown = term.wait_for("[finished]", timeout=20)
        assert "exit=0" in shown
    finally:
        term.close()
    kept = json.loads(run(["history", "--export", "json"], home).stdout)
    assert len(kept) == 1
    assert kept[0]["urge_before"] == 9 and kept[0]["urge_after"] == 4
    assert kept[0]["distress_before"] is None and kept[0]["distress_after"] == 3
    assert kept[0]["next_step"] == "Write the message here, without sending it"
    assert kept[0]["note"] is None and kept[0]["ended"] == "finished"
    found = subprocess.run(["grep", "-r", "-l", "SECRETWORD", str(home)], capture_output=True)
    assert found.stdout == b""  # the discarded message is in no file
    assert "In 1 pause with both ratings, the urge fell by 5 points" in run(["history"], home).stdout


def test_q_ends_a_pause_gently_and_a_kept_log_says_it_stopped(pulse_daemon, tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "first-run-done").touch()
    run(["config", "set", "log", "on"], home)
    term = Terminal({**pulse_daemon.env, "GROUNDING_HOME": str(home), "TERM": "xterm"})
    try:
        term.grounding("pause --no-voice")
        term.wait_for("Pause: arrive")
        term.wait_for("left")
        term.send("q")
        shown = term.wait_for("[finished]", timeout=15)
        assert "exit=130" in shown and "-icanon" not in shown.split("exit=")[-1]
    finally:
        term.close()
    kept = json.loads(run(["history", "--export", "json"], home).stdout)
    assert [(k["ended"], k["urge_before"], k["note"]) for k in kept] == [("stopped", None, None)]
