"""The private log: real SQLite files, real permissions, a real process killed mid-write."""

import json
import os
import stat

import pytest

from grounding import history
from grounding.history import PauseRecord
from support import journals_left_beside, killed_writers, read_only, run


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDING_HOME", str(tmp_path))
    return tmp_path


def test_nothing_is_kept_or_created_until_something_is_recorded(home):
    assert history.pauses() == []
    assert not history.path().exists()
    assert "Nothing is kept" in run(["history"], home).stdout
    assert not history.path().parent.exists()


@pytest.mark.parametrize("setting, said", [
    (None, "Nothing is kept: the log is not on. At the end of your first pause, you are asked "
           "whether to keep one."),
    ("on", "Nothing is kept yet. The log is on: each pause is kept when it ends."),
    ("off", "Nothing is kept: the log is off. 'grounding config set log on' turns it on."),
])
def test_an_empty_history_says_what_the_log_setting_really_is(home, setting, said):
    if setting is not None:
        assert run(["config", "set", "log", setting], home).returncode == 0
    result = run(["history"], home)
    assert result.returncode == 0 and result.stdout.strip() == said


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


def test_forget_deletes_the_log_and_its_journals_and_turns_the_log_off(home):
    from grounding import config

    assert run(["config", "set", "log", "on"], home).returncode == 0
    history.record(PauseRecord("2026-11-24 21:05", 600, note="a kept message"))
    folder = history.path().parent
    journals_left_beside(folder / "records.db", history._SCHEMA,
                         "insert into pause (started, seconds, ended) values "
                         "('2026-12-01 10:00', 60, 'x')")
    assert sorted(f.name for f in folder.iterdir()) == [
        "records.db", "records.db-journal", "records.db-shm", "records.db-wal"]
    assert (folder / "records.db-journal").stat().st_size > 0
    assert (folder / "records.db-wal").stat().st_size > 0

    result = run(["history", "--forget"], home)
    assert result.returncode == 0
    assert result.stderr == ("The log is deleted and turned off; nothing more is kept unless "
                             "you turn it on again.\n")
    assert not folder.exists()  # the data folder held only the log
    assert config.load(print).log == "off"
    assert 'log = "off"' in config.path().read_text()
    again = run(["history", "--forget"], home)
    assert again.returncode == 0
    assert again.stderr == "There was no log to delete; the log is off.\n"
    assert run(["history"], home).stdout.strip() == (
        "Nothing is kept: the log is off. 'grounding config set log on' turns it on.")


def test_forget_with_nothing_kept_still_turns_the_log_off(home):
    from grounding import config

    run(["config", "set", "volume", "40"], home)
    result = run(["history", "--forget"], home)
    assert result.returncode == 0
    assert result.stderr == "There was no log to delete; the log is off.\n"
    assert config.load(print).log == "off" and config.load(print).volume == 40


def test_forget_on_a_read_only_data_folder_is_a_sentence_and_the_log_is_still_turned_off(home):
    from grounding import config

    run(["config", "set", "log", "on"], home)
    history.record(PauseRecord("2026-11-24 21:05", 600))
    result = run(["history", "--forget"], home, prefix=read_only(history.path().parent))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (
        f"The log is turned off, but it could not be deleted: {history.path()} cannot be "
        "removed (Read-only file system). Delete it by hand, or run 'grounding history "
        "--forget' again once that folder can be written to.\n")
    assert config.load(print).log == "off" and history.path().exists()


def test_forget_with_read_only_settings_says_the_log_could_not_be_turned_off(home):
    run(["config", "set", "log", "on"], home)
    history.record(PauseRecord("2026-11-24 21:05", 600))
    from grounding import config

    result = run(["history", "--forget"], home, prefix=read_only(config.path().parent))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("The log is deleted, but it could not be turned off: "
                                    f"{config.path()} cannot be written (Read-only file system)")
    assert not history.path().exists() and config.load(print).log == "on"


def test_history_marks_the_pauses_that_hold_a_note_and_shows_one_in_full(home):
    history.record(PauseRecord("2026-11-24 21:05", 600, 8, 5, 6, 4, "finished",
                               "Write the message here, without sending it",
                               "I wanted to say sorry.\nBut not tonight."))
    history.record(PauseRecord("2026-11-25 07:10", 300, 7, None, ended="stopped"))
    lines = run(["history"], home).stdout.splitlines()
    assert lines[0].split() == ["#", "when", "minutes", "urge", "distress", "ended", "note",
                                "next"]
    assert lines[1].split()[:8] == ["1", "2026-11-24", "21:05", "10.0", "8→5", "6→4",
                                    "finished", "note"]
    assert lines[2].split() == ["2", "2026-11-25", "07:10", "5.0", "7→-", "-→-", "stopped"]
    assert "I wanted" not in "\n".join(lines)  # the list never shows a note itself

    shown = run(["history", "--show", "1"], home)
    assert shown.returncode == 0
    assert shown.stdout == ("Pause 1, 2026-11-24 21:05, 10.0 minutes, finished\n"
                            "urge 8→5, distress 6→4\n"
                            "next: Write the message here, without sending it\n"
                            "\nI wanted to say sorry.\nBut not tonight.\n")
    without = run(["history", "--show", "2"], home)
    assert without.returncode == 2 and without.stdout == ""
    assert without.stderr == ("Pause 2 holds no note; 'grounding history' marks the ones that "
                              "do with 'note'.\n")
    missing = run(["history", "--show", "3"], home)
    assert missing.returncode == 2
    assert missing.stderr == "There is no pause 3: 'grounding history' numbers them 1 to 2.\n"
    assert run(["history", "--show", "x"], home).returncode == 2


def test_a_note_is_shown_without_the_terminal_codes_typed_along_with_it(home):
    history.record(PauseRecord("2026-11-24 21:05", 60, note="up\x1b[Aarrow\ttab"))
    assert run(["history", "--show", "1"], home).stdout.endswith("\nup?[Aarrow\ttab\n")


def test_show_with_nothing_kept_is_a_sentence(home):
    result = run(["history", "--show", "1"], home)
    assert result.returncode == 2 and result.stderr == "There is no pause 1: nothing is kept.\n"


WRITER = """
from grounding import history
n = 0
while True:
    history.record(history.PauseRecord("2026-11-24 21:05", n, note="x" * 2000))
    n += 1
    print(n, flush=True)
"""


def test_killing_the_program_mid_write_never_damages_the_log(home):
    for _ in killed_writers(WRITER, home, history.path()):
        pass
    kept = history.pauses()
    assert len(kept) >= 5 * 20
    assert all(p.note == "x" * 2000 for p in kept)
