"""Exercise files (``scripts/*.toml``) loaded into frozen dataclasses with strict validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

from grounding import paths
from grounding.breath import PHASE_NAMES, Pattern, Phase, parse_pattern
from grounding.datafile import DataFile, check_keys, did_you_mean
from grounding.errors import ExerciseError, UsageError

TAGS = ("breathing", "grounding", "sleep", "urge", "quick")
CUES = ("words", "counts", "none")
COUNTS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen")
"""Counted cues after the phase word: "in, two, three, four"."""


@dataclass(frozen=True)
class Speak:
    """Say a line, then leave a silence."""

    text: str
    after: float = 1.0
    """Silence after the line, seconds."""


@dataclass(frozen=True)
class Pause:
    """Silence (the pacer is quiet too)."""

    seconds: float


@dataclass(frozen=True)
class Bell:
    """One soft chime."""


@dataclass(frozen=True)
class Breathe:
    """Paced breathing with the tone, optionally with spoken cues and lines."""

    pattern: Pattern
    cycles: int
    cues: str = "words"
    """Spoken on each phase of the first cycles: ``words`` (in, out), ``counts`` or ``none``."""
    cue_cycles: int = 3
    """How many cycles get spoken cues."""
    lines: tuple[str, ...] = ()
    """Spoken one at a time at out-breath onsets, spread over the cycles after the cues."""


Step = Union[Speak, Pause, Bell, Breathe]


@dataclass(frozen=True)
class Script:
    """A whole exercise."""

    name: str
    title: str
    summary: str
    minutes: float
    """Stated length in minutes."""
    tags: tuple[str, ...]
    holds: bool
    """Whether any breathing step holds the breath."""
    source: str
    steps: tuple[Step, ...]

    def texts(self) -> list[str]:
        """Every distinct piece of text the voice will say, in order of first use."""
        seen: dict[str, None] = {}
        for step in self.steps:
            if isinstance(step, Speak):
                seen[step.text] = None
            elif isinstance(step, Breathe):
                for word in cue_words(step):
                    seen[word] = None
                for line in step.lines:
                    seen[line] = None
        return list(seen)


def phase_cues(step: Breathe, phase: Phase) -> list[str]:
    """What is said in one phase of a cued cycle, one word a second from its onset:
    ``["in"]``, or counted, ``["in", "two", "three", "four"]``."""
    if step.cues == "none":
        return []
    counts = COUNTS[: max(0, int(phase.seconds) - 1)] if step.cues == "counts" else ()
    return [PHASE_NAMES[phase.kind], *counts]


def cue_words(step: Breathe) -> list[str]:
    """Every distinct word spoken on the cued cycles of a breathing step."""
    if step.cue_cycles == 0:
        return []
    return list(dict.fromkeys(w for p in step.pattern.phases for w in phase_cues(step, p)))


_TOP = {"title": str, "summary": str, "minutes": float, "tags": list, "holds": bool,
        "source": str, "step": list}
_KINDS = {
    "speak": {"speak": str, "after": float},
    "pause": {"pause": float},
    "bell": {"bell": bool},
    "breathe": {"breathe": str, "cycles": int, "minutes": float, "cues": str,
                "cue_cycles": int, "lines": list},
}


def load_script(path: Path, name: str | None = None) -> Script:
    """Read and validate one exercise file; raise ExerciseError naming file, line and step."""
    doc = DataFile(path)
    data = doc.data
    check_keys(doc, data, _TOP, required=tuple(k for k in _TOP))
    if not 0.5 <= data["minutes"] <= 60:
        raise doc.fail("minutes should be from 0.5 to 60.", key="minutes")
    for key in ("title", "summary", "source"):
        if not data[key].strip():
            raise doc.fail(f"{key} is empty; write a few words.", key=key)
    for tag in data["tags"]:
        if tag not in TAGS:
            raise doc.fail(f"unknown tag {tag!r}; tags are {', '.join(TAGS)}.", key="tags")
    raw_steps = data["step"]
    if not raw_steps or not all(isinstance(s, dict) for s in raw_steps):
        raise doc.fail("an exercise needs [[step]] tables, for example [[step]] then "
                       'speak = "..." on the next line.', key="step")
    steps = tuple(_step(doc, i, s) for i, s in enumerate(raw_steps))
    holds = any(isinstance(s, Breathe) and s.pattern.has_holds for s in steps)
    if holds != data["holds"]:
        truth = "does" if holds else "does not"
        raise doc.fail(f"holds = {str(data['holds']).lower()}, but the exercise {truth} hold "
                       f"the breath; write holds = {str(holds).lower()}.", key="holds")
    return Script(name=name or path.stem, title=data["title"].strip(),
                  summary=data["summary"].strip(), minutes=float(data["minutes"]),
                  tags=tuple(data["tags"]), holds=holds, source=data["source"].strip(),
                  steps=steps)


def _step(doc: DataFile, index: int, table: dict) -> Step:
    prefix = f"step {index + 1}: "
    every = list(dict.fromkeys(k for keys in _KINDS.values() for k in keys))
    for key in table:
        if key not in every:
            raise doc.fail(f"{prefix}unknown key '{key}'.{did_you_mean(key, every)} A step "
                           "has one of speak, breathe, pause or bell, and their options.",
                           key=key, table="step", index=index)
    kinds = [k for k in _KINDS if k in table]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        raise doc.fail(f"{prefix}a step does exactly one thing: speak, breathe, pause or bell "
                       f"(found {found}).", table="step", index=index)
    kind = kinds[0]
    check_keys(doc, table, _KINDS[kind], prefix=prefix, section="step", index=index)

    def fail(what: str, key: str) -> ExerciseError:
        return doc.fail(prefix + what, key=key, table="step", index=index)

    def text(value: str, key: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise fail(f"{key} is empty; write what the voice should say.", key)
        if value.startswith("<"):
            raise fail(f"{key} cannot start with '<' (some speech engines read it as markup).", key)
        return value

    if kind == "speak":
        after = table.get("after", 1.0)
        if not 0 <= after <= 60:
            raise fail("after is the silence after the line: 0 to 60 seconds.", "after")
        return Speak(text(table["speak"], "speak"), float(after))
    if kind == "pause":
        if not 0.1 <= table["pause"] <= 300:
            raise fail("pause is a silence from 0.1 to 300 seconds.", "pause")
        return Pause(float(table["pause"]))
    if kind == "bell":
        if table["bell"] is not True:
            raise fail("write bell = true, or leave the step out.", "bell")
        return Bell()
    try:
        pattern = parse_pattern(table["breathe"])
    except UsageError as exc:
        raise fail(str(exc), "breathe") from None
    if ("cycles" in table) == ("minutes" in table):
        raise fail("give the length as cycles = N or minutes = N (one of them).", "breathe")
    if "cycles" in table:
        cycles = table["cycles"]
        if not 1 <= cycles <= 1000:
            raise fail("cycles should be from 1 to 1000.", "cycles")
    else:
        if not 0.1 <= table["minutes"] <= 60:
            raise fail("minutes should be from 0.1 to 60.", "minutes")
        cycles = cycles_for(pattern, table["minutes"])
    cues = table.get("cues", "words")
    if cues not in CUES:
        raise fail(f"cues is one of {', '.join(CUES)}.", "cues")
    cue_cycles = table.get("cue_cycles", 3)
    if not 0 <= cue_cycles <= cycles:
        raise fail(f"cue_cycles should be from 0 to the number of cycles ({cycles}).", "cue_cycles")
    lines = table.get("lines", [])
    if not all(isinstance(line, str) for line in lines):
        raise fail("lines is a list of texts in quotes.", "lines")
    room = cycles - min(cue_cycles, cycles - 1)
    if len(lines) > room:
        raise fail(f"{len(lines)} lines do not fit: each is spoken on its own out-breath after "
                   f"the cued cycles, and there are {room}. Add cycles or remove lines.", "lines")
    return Breathe(pattern, int(cycles), cues, int(cue_cycles),
                   tuple(text(line, "lines") for line in lines))


def cycles_for(pattern: Pattern, minutes: float) -> int:
    """Whole cycles closest to ``minutes`` (at least one), so breathing never ends mid-breath."""
    return max(1, round(minutes * 60 / pattern.cycle_seconds))


def script_dirs() -> list[Path]:
    """Where exercises are found, the user's own folder first."""
    return [paths.config_dir() / "exercises", paths.bundled("scripts")]


def find_script(name: str) -> Script:
    """Load an exercise by name (the user's folder wins) or by path to a .toml file."""
    candidate = Path(name)
    if candidate.suffix == ".toml":
        return load_script(candidate)
    for folder in script_dirs():
        path = folder / f"{name}.toml"
        if path.is_file():
            return load_script(path)
    names = [p.stem for p in list_script_paths()]
    raise UsageError(f"There is no exercise called '{name}'.{did_you_mean(name, names)} "
                         "'grounding list' shows them all.") from None


def list_script_paths() -> list[Path]:
    """Every exercise file, one per name, the user's own winning a clash."""
    found: dict[str, Path] = {}
    for folder in reversed(script_dirs()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem] = path
    return [found[name] for name in sorted(found)]
