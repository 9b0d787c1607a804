"""The private log: real SQLite files, real permissions, a real process killed mid-write."""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from grounding import history
from grounding.history import PauseRecord
from support import ROOT, run


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    return tmp_path


def test_nothing_is_kept_or_created_until_something_is_recorded(home):
    assert history.pauses() == []
    assert not history.path().exists()
    assert "Nothing is kept" in run(["history"], home).stdout


def test_a_pause_is_kept_owner_only_under_a_neutral_name(home):
    history.record(PauseRecord("2026-11-24 21:05", 600, 8, 5, 6, 4, "finished", "wait longer"))
    file = history.path()
    assert file.name == "records.db"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert history.pauses() == [PauseRecord("2026-11-24 21:05", 600, 8, 5, 6, 4, "finished",
                                            "wait longer")]


def test_history_shows_a_table_a_chart_and_the_median_change(home):
    for before, after in ((8, 5), (7, 4), (9, 5), (6, 6)):
        history.record(PauseRecord("2026-11-24 21:05", 420, before, after))
    history.record(PauseRecord("2026-11-25 07:10", 300, None, None, ended="stopped"))
    result = run(["history"], home)
    assert result.returncode == 0
    assert "In 4 pauses with both ratings, the urge fell by 3 points on the median." in result.stdout
    assert result.stdout.count("▇") > 0 and "stopped" in result.stdout
    for word in ("streak", "score", "best"):
        assert word not in result.stdout.lower()


def test_export_writes_csv_and_json(home):
    history.record(PauseRecord("2026-11-24 21:05", 600, 8, 5, note="a kept message"))
    rows = json.loads(run(["history", "--export", "json"], home).stdout)
    assert rows[0]["note"] == "a kept message" and rows[0]["urge_before"] == 8
    text = run(["history", "--export", "csv"], home).stdout
    assert text.splitlines()[0].startswith("started,seconds,urge_before")
    assert run(["history", "--export", "xml"], home).returncode == 2


def test_forget_deletes_the_file_itself(home):
    history.record(PauseRecord("2026-11-24 21:05", 600))
    result = run(["history", "--forget"], home)
    assert "The log is deleted." in result.stderr
    assert not any(history.path().parent.iterdir())


WRITER = """
import sys
from grounding import history
n = 0
while True:
    history.record(history.PauseRecord("2026-11-24 21:05", n, note="x" * 2000))
    n += 1
    print(n, flush=True)
"""


def test_killing_the_program_mid_write_never_damages_the_log(home):
    env = {**os.environ, "GROUNDING_HOME": str(home)}
    for attempt in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, text=True)
        for _ in range(20 + 7 * attempt):
            writer.stdout.readline()
        time.sleep(0.003 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        db = sqlite3.connect(history.path())
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        db.close()
    kept = history.pauses()
    assert len(kept) >= 5 * 20
    assert all(p.note == "x" * 2000 for p in kept)
