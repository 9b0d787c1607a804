"""The user's private stores: SQLite files in the data folder, readable by the owner alone.

Each store (the log of pauses, the reasons) is one file under a neutral name, mode 0600, in a
folder of mode 0700. The rollback journal (``journal_mode = delete``) sits beside a file only
while a transaction is being written, and every write is one transaction, so killing the
program or losing power at any moment never damages a store. Deleting a store removes the
file itself and any journal, not only its rows.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from grounding import paths

JOURNALS = ("-journal", "-wal", "-shm")
"""What SQLite may keep beside a store: a rollback journal, or a write-ahead log and its
shared memory (a store another program opened in WAL mode)."""


def path(name: str) -> Path:
    """Where the store ``name`` lives."""
    return paths.data_dir() / name


def connect(name: str, schema: str) -> sqlite3.Connection:
    """The store ``name``, made owner-only (created empty if it is not there, with its folder)
    and holding ``schema``; each statement commits on its own unless a transaction is begun."""
    file = path(name)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(file.parent, 0o700)
    if not file.exists():
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
    _owner_only(file, 0o600)
    db = sqlite3.connect(file, isolation_level=None)
    try:
        db.execute("pragma journal_mode = delete")  # the journal sits beside it only mid-write
        db.execute("pragma synchronous = full")
        db.execute(schema)
    except BaseException:  # a damaged file, a folder that cannot be written
        db.close()
        raise
    return db


def _owner_only(target: Path, mode: int) -> None:
    """Give ``target`` exactly ``mode`` (changed only when it differs, so a store on a
    read-only disk can still be read)."""
    if stat.S_IMODE(target.stat().st_mode) != mode:
        os.chmod(target, mode)


def delete(name: str) -> tuple[bool, list[str]]:
    """Delete the store ``name`` for good: the file and any journal, then the data folder if
    that leaves it empty. Each is tried whatever happens to the others. Whether anything was
    removed, and a sentence for each file that could not be."""
    removed, stuck = False, []
    for suffix in ("", *JOURNALS):
        target = Path(str(path(name)) + suffix)
        try:
            target.lstat()  # first: on a read-only disk, removing what is not there fails too
        except FileNotFoundError:
            continue
        except OSError:
            pass  # cannot even look; trying to remove it says why
        try:
            target.unlink()
            removed = True
        except FileNotFoundError:
            pass
        except OSError as exc:
            stuck.append(f"{target} cannot be removed ({exc.strerror or exc})")
    try:
        path(name).parent.rmdir()
    except OSError:
        pass  # not there, or something else is in it
    return removed, stuck
