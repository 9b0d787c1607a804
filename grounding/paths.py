"""Where grounding keeps its files: the user's folders, the bundled data, and files written
whole (:func:`write_atomically`).

``GROUNDING_HOME`` moves every user folder below one directory, which the tests use so they
never touch the real home (the same idea as ``LLM_USER_PATH`` in simonw/llm).

Temporary files live in the cache too, never in the system's temp folder: whoever looks through
``/tmp`` should not find that grounding ran (see :func:`temp_dir`).
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import BinaryIO

APP = "grounding"
HOME_ENV = "GROUNDING_HOME"
TEMP_ENV = "GROUNDING_TEMP"
"""Set for grounding's own helper processes (the speech worker, doctor's checks): the temporary
folder of the process that started them, which they write in and leave to it to remove."""
STALE_SECONDS = 24 * 3600
"""A temporary folder unused for this long is removed even if its process seems to run (the
number may belong to another program by now; on Windows this is the only test)."""


class HomeUnusable(Exception):
    """``GROUNDING_HOME`` names something that cannot hold grounding's folders: a file, or a
    ``~user`` for no user here. Its message is one sentence for the person."""


def _home() -> Path | None:
    """The folder ``GROUNDING_HOME`` names, if it is set; HomeUnusable if it cannot be one."""
    value = os.environ.get(HOME_ENV)
    if not value:
        return None
    try:
        home = Path(value).expanduser()
    except RuntimeError:  # ~name for no such user, or ~ with no home known
        raise HomeUnusable(f"{HOME_ENV} is {value}, but there is no home folder for its '~' "
                           "here; write the folder's full path, or unset it.") from None
    if home.exists() and not home.is_dir():
        raise HomeUnusable(f"{HOME_ENV} is {value}, which is a file, not a folder; set it to "
                           "a folder, or unset it.")
    return home


def cache_dir() -> Path:
    """The folder for rendered speech clips (safe to delete)."""
    home = _home()
    if home:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def config_dir() -> Path:
    """The folder for settings and the user's own exercises."""
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """The folder for the private log (opt-in)."""
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def bundled(name: str) -> Path:
    """A bundled data folder (``scripts`` or ``audio``) in a wheel or in a source checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "_data" / name
    if installed.is_dir():
        return installed
    return package.parent / name


_temp: Path | None = None
"""This process's temporary folder, once made; None again once removed at exit."""
_closed = False
_lock = threading.Lock()  # the session and the voice's background thread may both ask first


def temp_dir() -> Path:
    """This process's folder for temporary files: ``cache_dir()/tmp/PID-XXXX``, owner-only.

    Made on first use (what killed processes left is swept once, as the program starts:
    :func:`sweep_temp`). Removed when the process exits (a normal end, an error, Ctrl-C and
    SIGTERM all go through ``atexit``). A helper started with :func:`helper_environ` uses its
    parent's folder instead. Raises OSError if the cache cannot hold it."""
    inherited = os.environ.get(TEMP_ENV)
    if inherited and Path(inherited).parent == temp_root():
        return Path(inherited)
    with _lock:
        return _own_temp()


def _own_temp() -> Path:
    global _temp
    if _closed:
        raise FileNotFoundError("the temporary folder has been removed: the program is ending")
    if _temp is not None and _temp.is_dir():
        os.utime(_temp)  # in use: not stale, whatever its age
        return _temp
    root = temp_root()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    first = _temp is None
    _temp = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))  # mode 0700
    if first:
        atexit.register(_remove_temp, os.getpid())
    return _temp


def temp_root() -> Path:
    """The folder holding every process's temporary folder."""
    return cache_dir() / "tmp"


def helper_environ() -> dict[str, str]:
    """The environment for a helper process: this process's temporary folder is its own, and
    the one that libraries find through ``TMPDIR`` (``TEMP``, ``TMP`` on Windows)."""
    folder = str(temp_dir())
    return {**os.environ, TEMP_ENV: folder, "TMPDIR": folder, "TEMP": folder, "TMP": folder}


def sweep_temp() -> None:
    """Remove the temporary folders of processes that no longer run, or unused for long: what
    a killed process (SIGKILL, a power cut) could not tidy. Never raises."""
    try:
        entries = list(temp_root().iterdir())
    except (OSError, HomeUnusable):
        return  # none (the usual case), or not readable: nothing to do
    now = time.time()
    for entry in entries:
        if entry == _temp:
            continue
        number = entry.name.partition("-")[0]
        pid = int(number) if number.isdigit() else None
        try:
            idle = now - entry.lstat().st_mtime
        except OSError:
            continue  # removed meanwhile by another process's sweep
        if pid is None or pid == os.getpid() or not _running(pid) or idle > STALE_SECONDS:
            _delete(entry)


def _running(pid: int) -> bool:
    """Whether a process with this number runs (on Windows: assumed, left to the age rule)."""
    if os.name != "posix":
        return True  # os.kill there would end the process, not test it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True


LEFTOVER_PREFIX = ".grounding-"
"""How a file this program writes next to its destination begins (a ``--out`` file being
written): only such files are ever removed for a killed run (see :func:`leave_note_of`)."""


def leave_note_of(partial: Path) -> None:
    """Note, in this process's temporary folder, a file being written outside it (``--out``
    writes beside its destination, to move it there whole): if the process is killed before
    it is done, the sweep at the next start removes it with the folder. Never raises."""
    try:
        note = temp_dir() / f"leftover-{uuid.uuid4().hex[:12]}"
        note.symlink_to(Path(partial).resolve())
    except (OSError, NotImplementedError):
        pass  # no note: a killed run may leave a hidden partial file, as it always could


def _delete(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        if entry != _temp:  # a killed run's folder: its partial files outside go too
            for note in entry.glob("leftover-*"):
                try:
                    target = Path(os.readlink(note))
                    if target.name.startswith(LEFTOVER_PREFIX):
                        target.unlink(missing_ok=True)
                except OSError:
                    pass
        shutil.rmtree(entry, ignore_errors=True)
    else:
        try:
            entry.unlink()
        except OSError:
            pass


def _remove_temp(owner: int) -> None:
    """At exit: remove this process's temporary folder. (The root stays, empty: removing it
    could pull it from under a session that is just making its own folder in it.)"""
    global _temp, _closed
    if os.getpid() != owner:
        return  # a forked child: the folder is its parent's
    with _lock:
        _closed = True  # a thread still rendering may not make it again
        if _temp is not None:
            _delete(_temp)
            _temp = None


class NotAFile(OSError):
    """A path to read holds something other than an ordinary file: a folder, a named pipe
    (FIFO), a device or a socket, which could block the program forever if it were read."""

    def __str__(self) -> str:
        return self.strerror


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading in binary, only if it is an ordinary file: anything else
    raises :class:`NotAFile` at once (it is opened without blocking and looked at before a
    byte is read, so a named pipe with no writer cannot hang the program)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise NotAFile(errno.EISDIR, "it is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise NotAFile(errno.EINVAL, "it is a pipe or a device, not a file")
        return os.fdopen(fd, "rb")  # O_NONBLOCK changes nothing for an ordinary file
    except BaseException:
        os.close(fd)
        raise


def read_regular_text(path: Path) -> str:
    """The UTF-8 text of an ordinary file (see :func:`open_regular`): OSError if it is not
    one or cannot be read, UnicodeDecodeError if it is not UTF-8 text."""
    import io

    with io.TextIOWrapper(open_regular(path), encoding="utf-8") as handle:
        return handle.read()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    tmp = _written_beside(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_once(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` whole, unless something is there already: then leave that
    be and return False. A file written so is never replaced under a reader, who may have
    taken its length and will read its contents later (the clip cache). Where the file system
    cannot link files, the new file replaces the old one, as :func:`write_atomically`."""
    tmp = _written_beside(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network or FAT file systems)
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _written_beside(path: Path, data: bytes) -> Path:
    """A hidden file next to ``path`` holding ``data``, flushed to the disk."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
