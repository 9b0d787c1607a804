"""Exercise files (``scripts/*.toml``) read strictly into :class:`grounding.script.Script`.

Every mistake names the file, the line and the step, and says what to write. What a step's
keys may hold is kept in tables of :class:`grounding.limits.Limit`, one per kind of step, in
the order they are checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from grounding import lengths
from grounding.breath import MAX_RATE, Pattern, parse_pattern
from grounding.datafile import DataFile, check_keys, did_you_mean
from grounding.defaults import RATE
from grounding.duration import LONGEST, script_seconds
from grounding.errors import ExerciseError, UsageError
from grounding.limits import Limit, check_limits
from grounding.printable import printable
from grounding.script import (CUES, HOLD_WORDS, LENGTH, OFFERS, SPACINGS, TAGS, Bell, Breathe,
                              Choice, Pause, Reflect, Script, Speak, Step, cycles_for)

Fail = Callable[[str, str], ExerciseError]
"""Makes the error for one step: ``fail(what is wrong, the key it is about)``."""

_TOP = {"title": str, "summary": str, "minutes": float, "tags": list, "holds": bool,
        "source": str, "step": list}
_KINDS = {
    "speak": {"speak": str, "after": float, "with_holds": bool, "no_holds": str},
    "choice": {"choice": str, "offers": str, "after": float},
    "reflect": {"reflect": list, "after": float},
    "pause": {"pause": float},
    "bell": {"bell": bool},
    "breathe": {"breathe": str, "cycles": int, "minutes": float, "cues": str,
                "cue_cycles": int, "lines": list, "ramp": float, "ramp_cycles": int,
                "line_delay": float, "range": float, "level": float, "spacing": str,
                "tone_db": float},
}
_STEP_KEYS = list(dict.fromkeys(k for keys in _KINDS.values() for k in keys))

_SPEAK = (Limit.range("after", 0, 60, "after is the silence after the line: 0 to 60 seconds."),)
_CHOICE = (
    Limit.range("after", 0, 60, "after is the time to decide after the offer: 0 to 60 seconds."),
    Limit.choice("offers", OFFERS, f"offers is one of {', '.join(OFFERS)}."),
)
_REFLECT = (
    Limit.range("after", 0, 300, "after is the quiet time after the prompt: 0 to 300 seconds."),
    Limit("reflect", 'reflect is a list of prompts in quotes, for example ["What do you notice '
          'right now?"].', lambda t: t["reflect"] and all(isinstance(p, str) for p in t["reflect"])),
)
_PAUSE = (Limit.range("pause", 0.1, 300, "pause is a silence from 0.1 to 300 seconds."),)
_BELL = (Limit("bell", "write bell = true, or leave the step out.", lambda t: t["bell"] is True),)
_LENGTH = (
    Limit("ramp_cycles", "ramp_cycles is how many breaths the ramp glides over (1 to 1000); it "
          "needs a ramp = N too.",
          lambda t: "ramp_cycles" not in t or ("ramp" in t and 1 <= t["ramp_cycles"] <= 1000)),
    Limit.range("cycles", 1, 1000, "cycles should be from 1 to 1000."),
    Limit.range("minutes", 0.1, 60, "minutes should be from 0.1 to 60."),
)
"""How long a breathing step is (after its ``ramp``, whose limit depends on the pattern)."""
_BREATHE = (
    Limit.range("line_delay", 0, 5, "line_delay is the wait after an out-breath begins before "
                "its line: 0 to 5 seconds."),
    Limit.range("range", 0.1, 1, "range is the share of the pitch range left by the end of the "
                "step: 0.1 to 1."),
    Limit("level", "level is the session's level in dB by the end of the step: -40 to 0, or "
          "-inf to fade to silence.",
          lambda t: "level" not in t or t["level"] == float("-inf") or -40 <= t["level"] <= 0),
    Limit.choice("spacing", SPACINGS, f"spacing is one of {', '.join(SPACINGS)}."),
    Limit.range("tone_db", -20, 0, "tone_db makes the pacer quieter in this step: -20 to 0 dB."),
    Limit.choice("cues", CUES, f"cues is one of {', '.join(CUES)}."),
)
"""The rest of a breathing step (before ``cue_cycles``, whose limit depends on its length)."""
_LINES = Limit("lines", 'lines is a list of texts in quotes; a line with a hold-free wording '
               'is written { say = "...", no_holds = "..." }.',
               lambda t: all(map(_is_line, t.get("lines", []))))


def _is_line(line: object) -> bool:
    """Whether a breathing step's line is a text, or a table of one with its hold-free
    wording."""
    if isinstance(line, str):
        return True
    return (isinstance(line, dict) and isinstance(line.get("say"), str)
            and isinstance(line.get("no_holds"), str) and set(line) == {"say", "no_holds"})


def load_script(path: Path, name: str | None = None) -> Script:
    """Read and validate one exercise file. Every mistake found is reported, one per line, as
    ``file:line: step N: what is wrong and what to write``, in one ExerciseError. Its texts
    (and its name) come without control characters, so none can reach the terminal."""
    doc = DataFile(path)
    data = doc.data
    problems = _Problems()
    problems.attempt(lambda: _check_top(doc, data))
    steps = _steps(doc, data, problems)
    if not problems:
        problems.extend(map(str, _hold_problems(doc, data, steps)))
    if problems:
        raise ExerciseError("\n".join(problems))
    _check_length(doc, data, steps)
    return Script(name=printable(name or path.stem), title=printable(data["title"]).strip(),
                  summary=printable(data["summary"]).strip(), minutes=float(data["minutes"]),
                  tags=tuple(data["tags"]), holds=bool(data["holds"]),
                  source=printable(data["source"]).strip(), steps=tuple(steps))


class _Problems(list):
    """The mistakes found in one file so far, one line each."""

    def attempt(self, check: Callable):
        """``check()``, or None with its mistake noted."""
        try:
            return check()
        except ExerciseError as exc:
            self.append(str(exc))
            return None


def _steps(doc: DataFile, data: dict, problems: _Problems) -> list[Step | None]:
    """Every step read (None where one has a mistake), or none if there are no steps."""
    raw = data.get("step")
    if isinstance(raw, list) and raw and all(isinstance(s, dict) for s in raw):
        return [problems.attempt(lambda i=i, t=t: _step(doc, i, t)) for i, t in enumerate(raw)]
    if "step" in data or not problems:
        problems.append(str(doc.fail("an exercise needs [[step]] tables, for example "
                                     '[[step]] then speak = "..." on the next line.',
                                     key="step")))
    return []


def _check_length(doc: DataFile, data: dict, steps: list[Step]) -> None:
    """Refuse an exercise whose steps add up to more than duration.LONGEST, whatever its
    ``minutes`` says: it would take hours to prepare and play."""
    script = Script(name="", title="", summary="", minutes=data["minutes"], tags=(),
                    holds=False, source="", steps=tuple(steps))
    if script_seconds(script, RATE, LONGEST) > LONGEST:
        hours = f"{LONGEST / 3600:g} hours"
        raise doc.fail(f"its steps add up to more than {hours}, though minutes = "
                       f"{data['minutes']:g} says {lengths.words(60 * data['minutes'])}; an "
                       f"exercise can last at most {hours}, so take steps out or make it "
                       "several exercises.", key="minutes")


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


def _holds(step: Step) -> bool:
    return isinstance(step, Breathe) and step.pattern.has_holds


def _hold_problems(doc: DataFile, data: dict, steps: list[Step]) -> list[ExerciseError]:
    """Offers to leave holds out, lines only said with holds and hold-free wordings need holds
    in the exercise; where there are holds, every line that mentions them (``hold``,
    ``held``) needs a hold-free wording or ``with_holds = true``, so ``--no-holds`` says
    nothing about holds; the file's ``holds`` says truly whether any step holds the breath.
    (Words such as "pause" can mean a hold too, but also the space bar's pause, so only
    ``hold`` and ``held`` are checked.)"""
    holds = any(map(_holds, steps))
    found: list[ExerciseError] = []

    def fail(i: int, what: str, key: str) -> None:
        found.append(doc.fail(f"step {i + 1}: {what}", key=key, table="step", index=i))

    for i, step in enumerate(steps):
        if isinstance(step, Choice) and step.offers == "no-holds" and not any(
                map(_holds, steps[i:])):
            fail(i, "this choice offers to leave out holds, but no breathing after it holds "
                 "the breath.", "offers")
        elif isinstance(step, Speak) and not holds and step.with_holds:
            fail(i, "with_holds = true, but nothing in the exercise holds the breath; remove "
                 "it.", "with_holds")
        elif isinstance(step, Speak) and not holds and step.no_holds is not None:
            fail(i, "no_holds is what is said when the holds are left out, but nothing in the "
                 "exercise holds the breath; remove it.", "no_holds")
        elif isinstance(step, Breathe) and not holds and any(step.lines_no_holds):
            fail(i, "a line has a no_holds wording, but nothing in the exercise holds the "
                 "breath; write the line as text only.", "lines")
        elif holds:
            _hold_words(i, step, fail)
    if holds != data["holds"]:
        truth = "does" if holds else "does not"
        found.append(doc.fail(f"holds = {str(data['holds']).lower()}, but the exercise {truth} "
                              f"hold the breath; write holds = {str(holds).lower()}.",
                              key="holds"))
    return found


def _hold_words(i: int, step: Step, fail: Callable[[int, str, str], None]) -> None:
    """In an exercise with holds: a line that mentions them needs a hold-free wording."""
    if isinstance(step, Speak) and not step.with_holds and step.no_holds is None \
            and HOLD_WORDS.search(step.text):
        fail(i, "this line mentions holding the breath, and would be said with --no-holds "
             'too; add no_holds = "..." with a wording without holds, or with_holds = true to '
             "leave it out then.", "speak")
    elif isinstance(step, Breathe):
        others = (*step.lines_no_holds, *[None] * len(step.lines))
        for n, (line, other) in enumerate(zip(step.lines, others)):
            if other is None and HOLD_WORDS.search(line):
                fail(i, f"line {n + 1} mentions holding the breath, and would be said with "
                     '--no-holds too; write it as { say = "...", no_holds = "..." } with a '
                     "wording without holds.", "lines")
    elif isinstance(step, Reflect) and any(HOLD_WORDS.search(p) for p in step.prompts):
        fail(i, "a prompt mentions holding the breath; prompts are said with --no-holds too, "
             "so word it without holds.", "reflect")


def _step(doc: DataFile, index: int, table: dict) -> Step:
    """One ``[[step]]`` table, checked and built by its kind's reader."""
    prefix = f"step {index + 1}: "
    kind = _kind(doc, index, table)
    check_keys(doc, table, _KINDS[kind], prefix=prefix, section="step", index=index)

    def fail(what: str, key: str) -> ExerciseError:
        return doc.fail(prefix + what, key=key, table="step", index=index)

    return _READERS[kind](table, fail)


def _kind(doc: DataFile, index: int, table: dict) -> str:
    """The one thing a step does; unknown keys, and none or several things, are mistakes."""
    prefix = f"step {index + 1}: "
    for key in table:
        if key not in _STEP_KEYS:
            raise doc.fail(f"{prefix}unknown key '{key}'.{did_you_mean(key, _STEP_KEYS)} A "
                           "step has one of speak, breathe, pause, bell, choice or reflect, and "
                           "their options.",
                           key=key, table="step", index=index)
    kinds = [k for k in _KINDS if k in table]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        raise doc.fail(f"{prefix}a step does exactly one thing: speak, breathe, pause, bell, "
                       f"choice or reflect "
                       f"(found {found}).", table="step", index=index)
    return kinds[0]


def _said(value: str, key: str, fail: Fail, length: bool = False) -> str:
    """A text to speak, on one line and without control characters; with ``length``, it may
    say the session's length as ``{length}``, and nothing else is written in braces."""
    value = " ".join(printable(value).split())
    if not value:
        raise fail(f"{key} is empty; write what the voice should say.", key)
    if value.startswith("<"):
        raise fail(f"{key} cannot start with '<' (some speech engines read it as markup).", key)
    if "{" in value.replace(LENGTH, "") or "}" in value.replace(LENGTH, ""):
        raise fail(f"{key} has braces that are not {LENGTH}: the only thing written in braces "
                   f"is {LENGTH}, in a speak line, said as the session's length (\"about five "
                   "minutes\").", key)
    if LENGTH in value and not length:
        raise fail(f"{LENGTH} can only be said in a speak line; write the words here.", key)
    return value


def _no_holds(value: str, key: str, fail: Fail, length: bool = False) -> str:
    """A hold-free wording: said only when there are no holds, so it never mentions them."""
    value = _said(value, key, fail, length)
    if HOLD_WORDS.search(value):
        raise fail(f"the {key} wording mentions holding the breath, but it is said only when "
                   "the holds are left out; write it without them.", key)
    return value


def _speak(table: dict, fail: Fail) -> Speak:
    check_limits(table, _SPEAK, fail)
    if table.get("with_holds") and "no_holds" in table:
        raise fail("with_holds = true leaves this line out when holds are left out, so its "
                   "no_holds wording would never be said; keep one of them.", "no_holds")
    other = table.get("no_holds")
    return Speak(_said(table["speak"], "speak", fail, length=True),
                 float(table.get("after", 1.0)), table.get("with_holds", False),
                 None if other is None else _no_holds(other, "no_holds", fail, length=True))


def _choice(table: dict, fail: Fail) -> Choice:
    check_limits(table, _CHOICE, fail)
    return Choice(_said(table["choice"], "choice", fail), table.get("offers", "no-holds"),
                  float(table.get("after", 2.0)))


def _reflect(table: dict, fail: Fail) -> Reflect:
    check_limits(table, _REFLECT, fail)
    return Reflect(tuple(_said(p, "reflect", fail) for p in table["reflect"]),
                   float(table.get("after", 20.0)))


def _pause(table: dict, fail: Fail) -> Pause:
    check_limits(table, _PAUSE, fail)
    return Pause(float(table["pause"]))


def _bell(table: dict, fail: Fail) -> Bell:
    check_limits(table, _BELL, fail)
    return Bell()


def _breathe(table: dict, fail: Fail) -> Breathe:
    """Checked in stages, as some limits depend on the pattern and on the length."""
    try:
        pattern = parse_pattern(table["breathe"])
    except UsageError as exc:
        raise fail(str(exc), "breathe") from None
    cycles = _cycles(table, pattern, fail)
    cue_cycles = table.get("cue_cycles", min(3, cycles))
    check_limits(table, (*_BREATHE, Limit.range(
        "cue_cycles", 0, cycles, f"cue_cycles should be from 0 to the number of cycles "
        f"({cycles})."), _LINES), fail)
    lines, lines_no_holds = _lines(table, fail)
    room = cycles - min(cue_cycles, cycles - 1)
    if len(lines) > room:
        raise fail(f"{len(lines)} lines do not fit: each is spoken on its own out-breath after "
                   f"the cued cycles, and there are {room}. Add cycles or remove lines.", "lines")
    return Breathe(pattern, int(cycles), cues=table.get("cues", "words"),
                   cue_cycles=int(cue_cycles), lines=lines, lines_no_holds=lines_no_holds,
                   ramp=_number(table.get("ramp")), ramp_cycles=table.get("ramp_cycles"),
                   line_delay=float(table.get("line_delay", 0.0)),
                   pitch_range=_number(table.get("range")), level_db=_number(table.get("level")),
                   tone_db=float(table.get("tone_db", 0.0)), spacing=table.get("spacing", "even"))


def _lines(table: dict, fail: Fail) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """A breathing step's lines, and their hold-free wordings (none at all if no line has
    one)."""
    lines = [(line, None) if isinstance(line, str) else (line["say"], line["no_holds"])
             for line in table.get("lines", [])]
    said = tuple(_said(line, "lines", fail) for line, _ in lines)
    others = tuple(None if other is None else _no_holds(other, "lines", fail)
                   for _, other in lines)
    return said, (others if any(others) else ())


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _cycles(table: dict, pattern: Pattern, fail: Fail) -> int:
    """A breathing step's length in whole cycles, given as cycles or as minutes."""
    if ("cycles" in table) == ("minutes" in table):
        raise fail("give the length as cycles = N or minutes = N (one of them).", "breathe")
    ramp = Limit("ramp", f"ramp is the starting pace in breaths a minute: faster than the "
                 f"pattern's {pattern.per_minute:.3g} and at most {MAX_RATE:g}.",
                 lambda t: "ramp" not in t or pattern.per_minute < t["ramp"] <= MAX_RATE)
    check_limits(table, (ramp, *_LENGTH), fail)
    if "cycles" in table:
        return table["cycles"]
    return cycles_for(pattern, table["minutes"], table.get("ramp"), table.get("ramp_cycles"))


_READERS: dict[str, Callable[[dict, Fail], Step]] = {
    "speak": _speak, "choice": _choice, "reflect": _reflect, "pause": _pause, "bell": _bell,
    "breathe": _breathe}
