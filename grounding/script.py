"""Exercise files (``scripts/*.toml``) loaded into frozen dataclasses with strict validation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Union

from grounding.breath import MAX_RATE, PHASE_NAMES, Pattern, Phase, parse_pattern
from grounding.datafile import DataFile, check_keys, did_you_mean
from grounding.errors import ExerciseError, UsageError
from grounding.printable import printable

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
    with_holds: bool = False
    """Said only while the holds are kept: about the holds, so left out with ``--no-holds``."""


@dataclass(frozen=True)
class Pause:
    """Silence (the pacer is quiet too)."""

    seconds: float


@dataclass(frozen=True)
class Bell:
    """One soft chime."""


@dataclass(frozen=True)
class Choice:
    """Say an offer the listener may take (for now: leaving the holds out from here on)."""

    text: str
    offers: str = "no-holds"
    after: float = 2.0
    """Silence after the offer, seconds: time to decide."""


@dataclass(frozen=True)
class Reflect:
    """One reflection prompt, a different one each day, then quiet time; always skippable."""

    prompts: tuple[str, ...]
    after: float = 20.0
    """Quiet time after the prompt, seconds."""

    def prompt_for(self, day: date) -> str:
        """Today's prompt: the list in turn, one per calendar day (nothing is stored)."""
        return self.prompts[day.toordinal() % len(self.prompts)]


RAMP_STEP = Fraction(1, 2)
"""A ramp slows by half a breath a minute every two cycles (CONTENT.md card B1)."""


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
    ramp: float | None = None
    """Breaths per minute at the start, slowing by half a breath a minute every two cycles
    until the pattern's own rate (starting near the listener's own pace: Leslie et al. 2019)."""
    ramp_cycles: int | None = None
    """With ``ramp``: glide evenly from the ramp's pace to the pattern's over this many
    cycles, a little slower every breath, instead of in steps."""
    line_delay: float = 0.0
    """Lines begin this many seconds after their out-breath does (at bedtime the voice never
    speaks over the start of an out-breath: CONTENT.md §5.2)."""
    pitch_range: float | None = None
    """The pacer's pitch range by the end of this step, as a fraction of the palette's (it
    narrows or widens gradually from where it was; the top comes down, the bottom stays)."""
    level_db: float | None = None
    """The whole session's level by the end of this step, dB (from where it was; a session
    starts at 0). ``-inf`` fades to silence with an equal-power curve."""
    tone_db: float = 0.0
    """The pacer sounds this much louder or quieter in this step, dB (the urge surfing's is
    low: card F1 step 5)."""
    spacing: str = "even"
    """How ``lines`` spread over the cycles after the cues: ``even``, or ``widening`` (close
    together at first, further and further apart: the voice speaks less and less)."""

    def rate_at(self, cycle: int) -> Fraction:
        """Breaths per minute during ``cycle`` (from 0), exactly."""
        target = 60 / exact(self.pattern.cycle_seconds)
        if self.ramp is None:
            return target
        start = exact(self.ramp)
        if self.ramp_cycles:
            return start - (start - target) * Fraction(min(cycle, self.ramp_cycles),
                                                       self.ramp_cycles)
        return max(target, start - RAMP_STEP * (cycle // 2))

    def phase_seconds(self, cycle: int) -> list[Fraction]:
        """The exact seconds of each phase in ``cycle``: the pattern, sped up during a ramp."""
        seconds = [exact(p.seconds) for p in self.pattern.phases]
        scale = (60 / self.rate_at(cycle)) / sum(seconds)
        return [s * scale for s in seconds]

    def seconds(self) -> Fraction:
        """The step's length in seconds, exactly."""
        return sum((sum(self.phase_seconds(k)) for k in range(self.cycles)), Fraction(0))


def exact(seconds: float) -> Fraction:
    """A float read as the decimal it prints (4.5 -> 9/2, 0.7 -> 7/10), so arithmetic on
    breath timings is exact."""
    return Fraction(repr(float(seconds)))


Step = Union[Speak, Pause, Bell, Breathe, Choice, Reflect]


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

    def without_holds(self) -> Script:
        """The same exercise with every hold turned into ordinary breathing (``--no-holds``):
        the in- and out-breaths keep their lengths; offers to leave holds out, and lines
        marked ``with_holds``, are gone."""
        steps = tuple(replace(s, pattern=s.pattern.without_holds()) if isinstance(s, Breathe)
                      else s for s in self.steps
                      if not (isinstance(s, Choice) and s.offers == "no-holds")
                      and not (isinstance(s, Speak) and s.with_holds))
        return replace(self, steps=steps, holds=False)

    def stretched(self, factor: float) -> Script:
        """The same words with every breathing part ``factor`` times as long, in whole cycles
        (at least one per cued cycle and per spoken line, so nothing said is lost)."""
        steps = tuple(replace(s, cycles=max(1, s.cue_cycles + len(s.lines),
                                            round(s.cycles * factor)))
                      if isinstance(s, Breathe) else s for s in self.steps)
        return replace(self, steps=steps)

    def on(self, day: date) -> Script:
        """The exercise as played on ``day``: each reflection becomes that day's prompt."""
        steps = tuple(Speak(s.prompt_for(day), s.after) if isinstance(s, Reflect) else s
                      for s in self.steps)
        return replace(self, steps=steps)

    def texts(self) -> list[str]:
        """Every distinct piece of text the voice will say, in order of first use."""
        seen: dict[str, None] = {}
        for step in self.steps:
            if isinstance(step, (Speak, Choice)):
                seen[step.text] = None
            elif isinstance(step, Reflect):
                for prompt in step.prompts:
                    seen[prompt] = None
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
    "speak": {"speak": str, "after": float, "with_holds": bool},
    "choice": {"choice": str, "offers": str, "after": float},
    "reflect": {"reflect": list, "after": float},
    "pause": {"pause": float},
    "bell": {"bell": bool},
    "breathe": {"breathe": str, "cycles": int, "minutes": float, "cues": str,
                "cue_cycles": int, "lines": list, "ramp": float, "ramp_cycles": int,
                "line_delay": float, "range": float, "level": float, "spacing": str,
                "tone_db": float},
}
OFFERS = ("no-holds",)
SPACINGS = ("even", "widening")


def load_script(path: Path, name: str | None = None) -> Script:
    """Read and validate one exercise file. Every mistake found is reported, one per line, as
    ``file:line: step N: what is wrong and what to write``, in one ExerciseError. Its texts
    (and its name) come without control characters, so none can reach the terminal."""
    doc = DataFile(path)
    data = doc.data
    problems: list[str] = []

    def attempt(check):
        try:
            return check()
        except ExerciseError as exc:
            problems.append(str(exc))
            return None

    attempt(lambda: _check_top(doc, data))
    raw_steps = data.get("step")
    steps: list[Step | None] = []
    if not isinstance(raw_steps, list) or not raw_steps or not all(
            isinstance(s, dict) for s in raw_steps):
        if "step" in data or not problems:
            problems.append(str(doc.fail("an exercise needs [[step]] tables, for example "
                                         '[[step]] then speak = "..." on the next line.',
                                         key="step")))
    else:
        steps = [attempt(lambda i=i, t=t: _step(doc, i, t)) for i, t in enumerate(raw_steps)]
    if not problems:
        attempt(lambda: _check_holds(doc, data, steps))
    if problems:
        raise ExerciseError("\n".join(problems))
    return Script(name=printable(name or path.stem), title=printable(data["title"]).strip(),
                  summary=printable(data["summary"]).strip(), minutes=float(data["minutes"]),
                  tags=tuple(data["tags"]), holds=bool(data["holds"]),
                  source=printable(data["source"]).strip(), steps=tuple(steps))


def _check_top(doc: DataFile, data: dict) -> None:
    check_keys(doc, data, _TOP, required=tuple(_TOP))
    if not 0.1 <= data["minutes"] <= 60:
        raise doc.fail("minutes should be from 0.1 to 60.", key="minutes")
    for key in ("title", "summary", "source"):
        if not printable(data[key]).strip():
            raise doc.fail(f"{key} is empty; write a few words.", key=key)
    for tag in data["tags"]:
        if tag not in TAGS:
            raise doc.fail(f"unknown tag {tag!r}; tags are {', '.join(TAGS)}.", key="tags")


def _check_holds(doc: DataFile, data: dict, steps: list[Step]) -> None:
    holds_anywhere = any(isinstance(s, Breathe) and s.pattern.has_holds for s in steps)
    for i, step in enumerate(steps):
        if isinstance(step, Choice) and step.offers == "no-holds" and not any(
                isinstance(s, Breathe) and s.pattern.has_holds for s in steps[i:]):
            raise doc.fail(f"step {i + 1}: this choice offers to leave out holds, but no "
                           "breathing after it holds the breath.", key="offers", table="step",
                           index=i)
        if isinstance(step, Speak) and step.with_holds and not holds_anywhere:
            raise doc.fail(f"step {i + 1}: with_holds = true, but nothing in the exercise "
                           "holds the breath.", key="with_holds", table="step", index=i)
    holds = holds_anywhere
    if holds != data["holds"]:
        truth = "does" if holds else "does not"
        raise doc.fail(f"holds = {str(data['holds']).lower()}, but the exercise {truth} hold "
                       f"the breath; write holds = {str(holds).lower()}.", key="holds")


def _step(doc: DataFile, index: int, table: dict) -> Step:
    prefix = f"step {index + 1}: "
    every = list(dict.fromkeys(k for keys in _KINDS.values() for k in keys))
    for key in table:
        if key not in every:
            raise doc.fail(f"{prefix}unknown key '{key}'.{did_you_mean(key, every)} A step "
                           "has one of speak, breathe, pause, bell, choice or reflect, and their "
                           "options.",
                           key=key, table="step", index=index)
    kinds = [k for k in _KINDS if k in table]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        raise doc.fail(f"{prefix}a step does exactly one thing: speak, breathe, pause, bell, "
                       f"choice or reflect "
                       f"(found {found}).", table="step", index=index)
    kind = kinds[0]
    check_keys(doc, table, _KINDS[kind], prefix=prefix, section="step", index=index)

    def fail(what: str, key: str) -> ExerciseError:
        return doc.fail(prefix + what, key=key, table="step", index=index)

    def text(value: str, key: str) -> str:
        value = " ".join(printable(value).split())
        if not value:
            raise fail(f"{key} is empty; write what the voice should say.", key)
        if value.startswith("<"):
            raise fail(f"{key} cannot start with '<' (some speech engines read it as markup).", key)
        return value

    if kind == "speak":
        after = table.get("after", 1.0)
        if not 0 <= after <= 60:
            raise fail("after is the silence after the line: 0 to 60 seconds.", "after")
        return Speak(text(table["speak"], "speak"), float(after), table.get("with_holds", False))
    if kind == "choice":
        after = table.get("after", 2.0)
        if not 0 <= after <= 60:
            raise fail("after is the time to decide after the offer: 0 to 60 seconds.", "after")
        offers = table.get("offers", "no-holds")
        if offers not in OFFERS:
            raise fail(f"offers is one of {', '.join(OFFERS)}.", "offers")
        return Choice(text(table["choice"], "choice"), offers, float(after))
    if kind == "reflect":
        after = table.get("after", 20.0)
        if not 0 <= after <= 300:
            raise fail("after is the quiet time after the prompt: 0 to 300 seconds.", "after")
        prompts = table["reflect"]
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise fail('reflect is a list of prompts in quotes, for example ["What do you '
                       'notice right now?"].', "reflect")
        return Reflect(tuple(text(p, "reflect") for p in prompts), float(after))
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
    ramp = table.get("ramp")
    if ramp is not None and not pattern.per_minute < ramp <= MAX_RATE:
        raise fail(f"ramp is the starting pace in breaths a minute: faster than the pattern's "
                   f"{pattern.per_minute:.3g} and at most {MAX_RATE:g}.", "ramp")
    ramp_cycles = table.get("ramp_cycles")
    if ramp_cycles is not None and (ramp is None or not 1 <= ramp_cycles <= 1000):
        raise fail("ramp_cycles is how many breaths the ramp glides over (1 to 1000); it "
                   "needs a ramp = N too.", "ramp_cycles")
    if "cycles" in table:
        cycles = table["cycles"]
        if not 1 <= cycles <= 1000:
            raise fail("cycles should be from 1 to 1000.", "cycles")
    else:
        if not 0.1 <= table["minutes"] <= 60:
            raise fail("minutes should be from 0.1 to 60.", "minutes")
        cycles = cycles_for(pattern, table["minutes"], ramp, ramp_cycles)
    line_delay = table.get("line_delay", 0.0)
    if not 0 <= line_delay <= 5:
        raise fail("line_delay is the wait after an out-breath begins before its line: 0 to 5 "
                   "seconds.", "line_delay")
    pitch_range = table.get("range")
    if pitch_range is not None and not 0.1 <= pitch_range <= 1:
        raise fail("range is the share of the pitch range left by the end of the step: 0.1 to "
                   "1.", "range")
    level = table.get("level")
    if level is not None and not (level == float("-inf") or -40 <= level <= 0):
        raise fail("level is the session's level in dB by the end of the step: -40 to 0, or "
                   "-inf to fade to silence.", "level")
    spacing = table.get("spacing", "even")
    if spacing not in SPACINGS:
        raise fail(f"spacing is one of {', '.join(SPACINGS)}.", "spacing")
    tone_db = table.get("tone_db", 0.0)
    if not -20 <= tone_db <= 0:
        raise fail("tone_db makes the pacer quieter in this step: -20 to 0 dB.", "tone_db")
    cues = table.get("cues", "words")
    if cues not in CUES:
        raise fail(f"cues is one of {', '.join(CUES)}.", "cues")
    cue_cycles = table.get("cue_cycles", min(3, cycles))
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
                   tuple(text(line, "lines") for line in lines),
                   float(ramp) if ramp is not None else None, ramp_cycles, float(line_delay),
                   None if pitch_range is None else float(pitch_range),
                   None if level is None else float(level), float(tone_db), spacing)


def cycles_for(pattern: Pattern, minutes: float, ramp: float | None = None,
               ramp_cycles: int | None = None) -> int:
    """Whole cycles closest to ``minutes`` (at least one), so breathing never ends mid-breath;
    a ramp's quicker first cycles are counted as they are."""
    probe = Breathe(pattern, 1, ramp=ramp, ramp_cycles=ramp_cycles)
    goal, total, count = exact(minutes) * 60, Fraction(0), 0
    while True:
        length = sum(probe.phase_seconds(count))
        if total + length / 2 > goal and count:
            return count
        total += length
        count += 1
