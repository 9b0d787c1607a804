"""The exercise library: the bundled exercises and the user's own, found by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grounding import paths
from grounding.errors import UsageError

if TYPE_CHECKING:
    from grounding.script import Script

# the catalogue is read on each Tab of the shell's completion: reading an exercise file is
# imported only by what reads one


def script_dirs() -> list[Path]:
    """Where exercises are found, the user's own folder first."""
    return [own_dir(), paths.bundled("scripts")]


def own_dir() -> Path:
    """The folder for the user's own exercises."""
    return paths.config_dir() / "exercises"


@dataclass(frozen=True)
class Entry:
    """One exercise in the catalogue."""

    name: str
    path: Path
    own: bool
    """It is the user's own (from their config folder)."""
    replaces: bool
    """It is the user's own and a bundled exercise of the same name is set aside."""


def catalogue() -> list[Entry]:
    """Every exercise, one per name, sorted; the user's own win a name clash."""
    found: dict[str, Entry] = {}
    for folder in reversed(script_dirs()):
        own = folder == own_dir()
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem] = Entry(path.stem, path, own, own and path.stem in found)
    return [found[name] for name in sorted(found)]


def find_script(name: str) -> Script:
    """Load an exercise by name (the user's folder wins) or by path to a .toml file."""
    from grounding.datafile import did_you_mean
    from grounding.scriptfile import load_script

    candidate = Path(name)
    if candidate.suffix == ".toml":
        return load_script(candidate)
    for entry in catalogue():
        if entry.name == name:
            return load_script(entry.path)
    if name in COMMANDS:
        raise UsageError(f"'{name}' is a command of its own: grounding {name}")
    names = [e.name for e in catalogue()]
    raise UsageError(f"There is no exercise called '{name}'.{did_you_mean(name, names)} "
                     "'grounding list' shows them all.")


COMMANDS = ("pause", "bedtime")
"""Routines made of several parts, played by their own commands rather than by ``play``."""
