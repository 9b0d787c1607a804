"""The safety texts: the first-run notice, when to seek help, and where help is.

Wording from docs/safety.md §3.2 and §3.6. The help lines are data, in helplines.toml
beside this file (each with the page it was checked against and the day), and the countries
in countries.toml (every ISO 3166-1 alpha-2 code, named in English). Any country is accepted:
where there are no lines yet, help-now gives its emergency number if known and
findahelpline.com. Crisis numbers change: check them before each release (docs/safety.md §7).
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grounding import paths
from grounding.errors import UsageError
from grounding.printable import text_width, wrap_line

NOTICE = """\
This program offers breathing, grounding and relaxation exercises for everyday stress and for
winding down at night. It is not therapy, medical care or a crisis service, and it can't
assess your safety.

You are in charge: every exercise is optional, and you can pause (space) or stop (q) at any
moment.

Slow breathing can occasionally cause light-headedness or tingling. If that happens, let your
breath return to normal. Practise sitting or lying down, never while driving or in water.
If you are pregnant, or have a heart, lung or seizure condition, low blood pressure or a
history of fainting, choose the gentle patterns without breath-holds (--no-holds), and ask
your clinician if unsure.

Focusing on the body or breath can sometimes bring up difficult memories or feelings. If it
does, open your eyes, look around the room and switch to a different exercise, or stop.

If you might harm yourself, or someone is hurting or threatening you, please contact the
resources that 'grounding help-now' lists."""

WHEN_TO_SEEK_HELP = """\
It may help to reach out to a doctor, a licensed therapist or a helpline if:
- urges to return to or contact someone feel unmanageable most days, or you keep acting
  against your own wishes;
- you feel afraid of someone, or they monitor, threaten or control you (leaving can be a
  risky time; domestic-abuse advocates can help plan);
- anxiety, low mood, sleep problems, flashbacks, nightmares or numbness last more than a
  couple of weeks or get in the way of daily life;
- you are using alcohol, drugs, self-harm or other risky behaviour to cope;
- you have thoughts of suicide: use 'grounding help-now' now.
If you think your device is being monitored, consider using a safer device to look up support."""

HELPLINES = Path(__file__).resolve().with_name("helplines.toml")
COUNTRIES = Path(__file__).resolve().with_name("countries.toml")

DANGER = "If you are in danger right now, call your local emergency number."
ANYWHERE = ("findahelpline.com lists free, confidential helplines in about 130 countries, "
            "for crisis support and for domestic abuse.")
"""What is shown even if the data file could not be read."""

ALIASES = {"UK": "GB", "U.K.": "GB", "GREAT BRITAIN": "GB", "BRITAIN": "GB", "ENGLAND": "GB",
           "SCOTLAND": "GB", "WALES": "GB", "NORTHERN IRELAND": "GB", "USA": "US",
           "U.S.": "US", "UNITED STATES OF AMERICA": "US", "RUSSIA": "RU", "TURKEY": "TR",
           "CZECH REPUBLIC": "CZ", "IVORY COAST": "CI", "HOLLAND": "NL"}
"""Other ways people write some countries (compared in capitals)."""


@dataclass(frozen=True)
class Line:
    """One way to reach help, as the data file describes it."""

    say: str
    number: str
    source: str
    checked: str
    verified: bool
    short: str = ""
    region: str = ""
    note: str = ""
    for_: str = ""

    def text(self) -> str:
        return f"{self.region}: {self.say}" if self.region else self.say


@dataclass(frozen=True)
class Country:
    """A country with its own lines, in the order they are shown."""

    code: str
    name: str
    crisis: tuple[Line, ...]
    abuse: tuple[Line, ...]
    quiet: tuple[Line, ...]
    """Texting and chat, for when a call could be overheard."""


@dataclass(frozen=True)
class Helplines:
    anywhere: Line
    emergency: dict[str, Line]
    """Emergency numbers by country code, where an official page confirmed them."""
    countries: dict[str, Country]


_LINE = {"say": str, "number": str, "short": str, "region": str, "source": str, "checked": str,
         "verified": bool, "note": str}
_REQUIRED = ("say", "number", "source", "checked", "verified")


def _line(doc, data: object, section: str, index: int | None = None,
          extra: dict | None = None) -> Line:
    from grounding.datafile import check_keys

    if not isinstance(data, dict):
        raise doc.fail(f"[[{section}]] should be a table.", table=section, index=index)
    spec = {**_LINE, **(extra or {})}
    check_keys(doc, data, spec, section=section, index=index,
               required=_REQUIRED + tuple(extra or ()))

    def fail(what: str, key: str):
        return doc.fail(what, key=key, table=section, index=index)

    if data["number"] not in data["say"]:
        raise fail(f"say should contain the number {data['number']!r}.", "say")
    if "short" in data and data["number"] not in data["short"]:
        raise fail(f"short should contain the number {data['number']!r}.", "short")
    if not data["source"].startswith("https://") or " " in data["source"]:
        raise fail("source should be an https:// address.", "source")
    try:
        datetime.date.fromisoformat(data["checked"])
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["checked"]):
            raise ValueError
    except ValueError:
        raise fail("checked should be a day written YYYY-MM-DD.", "checked") from None
    if not data["verified"] and not data.get("note"):
        raise fail("a line with verified = false needs a note saying what was not confirmed.",
                   "verified")
    if "for" in data and data["for"] not in ("crisis", "abuse"):
        raise fail("for should be \"crisis\" or \"abuse\".", "for")
    fields = {k: v for k, v in data.items() if k != "for"}
    return Line(**fields, for_=data.get("for", ""))


def _lines(doc, data: dict, key: str, section: str, extra: dict | None = None) -> tuple[Line, ...]:
    return tuple(_line(doc, item, section, i, extra) for i, item in enumerate(data.get(key, [])))


@cache
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """The ISO names and the everyday names by code, from countries.toml (read strictly)."""
    from grounding.datafile import DataFile, check_keys

    doc = DataFile(COUNTRIES, "grounding/countries.toml")
    check_keys(doc, doc.data, {"names": dict, "common": dict}, required=("names", "common"))
    for section in ("names", "common"):
        for code, name in doc.data[section].items():
            if not re.fullmatch(r"[A-Z]{2}", code) or not isinstance(name, str) or not name:
                raise doc.fail(f"{code} should be two capital letters = a name in quotes.",
                               key=code, table=section)
    for code in doc.data["common"]:
        if code not in doc.data["names"]:
            raise doc.fail(f"{code} has a common name but is not in [names].", key=code,
                           table="common")
    return doc.data["names"], doc.data["common"]


@cache
def helplines() -> Helplines:
    """The lines from helplines.toml, read once and strictly (a mistake names its line)."""
    from grounding.datafile import DataFile, check_keys

    doc = DataFile(HELPLINES, "grounding/helplines.toml")
    names, _ = _countries()
    check_keys(doc, doc.data, {"anywhere": dict, "emergency": list, "countries": dict},
               required=("anywhere", "emergency", "countries"))
    anywhere = _line(doc, doc.data["anywhere"], "anywhere")
    emergency: dict[str, Line] = {}
    for i, group in enumerate(doc.data["emergency"]):
        if not isinstance(group, dict) or not isinstance(group.get("countries"), list):
            raise doc.fail("each [[emergency]] needs countries = [\"XX\", ...].",
                           table="emergency", index=i)
        codes = group["countries"]
        line = _line(doc, {k: v for k, v in group.items() if k != "countries"}, "emergency", i)
        for code in codes:
            if code not in names:
                raise doc.fail(f"{code!r} is not an ISO 3166-1 alpha-2 code.", key="countries",
                               table="emergency", index=i)
            if code in emergency:
                raise doc.fail(f"{code} is in more than one [[emergency]].", key="countries",
                               table="emergency", index=i)
            emergency[code] = line
    countries: dict[str, Country] = {}
    for code, data in doc.data["countries"].items():
        section = f"countries.{code}"
        if code not in names:
            raise doc.fail(f"{code!r} is not an ISO 3166-1 alpha-2 code.", table=section)
        if not isinstance(data, dict):
            raise doc.fail(f"[{section}] should be a table.", table=section)
        check_keys(doc, data, {"name": str, "crisis": list, "abuse": list, "quiet": list},
                   section=section, required=("name",))
        if code not in emergency:
            raise doc.fail(f"{code} has lines but no [[emergency]] number.", table=section)
        countries[code] = Country(
            code, data["name"],
            _lines(doc, data, "crisis", f"{section}.crisis"),
            _lines(doc, data, "abuse", f"{section}.abuse"),
            _lines(doc, data, "quiet", f"{section}.quiet", {"for": str}))
    return Helplines(anywhere, emergency, countries)


def country_codes() -> dict[str, str]:
    """Every country that can be set, by its two-letter code: its everyday English name."""
    names, common = _countries()
    return {code: common.get(code, name) for code, name in sorted(names.items())}


def _by_name() -> dict[str, str]:
    names, common = _countries()
    found = {name.lower(): code for code, name in names.items()}
    found.update({name.lower(): code for code, name in common.items()})
    found.update({alias.lower(): code for alias, code in ALIASES.items()})
    return found


def _suggestion(text: str) -> str:
    """`` (did you mean 'France', FR?)`` for a near miss of a country's name, else empty."""
    words = " ".join(text.split()).lower()
    if len(words) < 4:
        return ""
    close = difflib.get_close_matches(words, list(_by_name()), n=1, cutoff=0.8)
    if not close:
        return ""
    code = _by_name()[close[0]]
    return f" (did you mean '{country_name(code)}', {code}?)"


def _lookup(text: str) -> str | None:
    words = " ".join(text.split())
    key = words.upper()
    if re.fullmatch(r"[A-Z]{2}", key) and key in _countries()[0]:
        return key
    return ALIASES.get(key) or _by_name().get(words.lower())


def country_code(text: str) -> str:
    """The ISO code for a country code or English name (``gb``, ``UK``, ``New Zealand``), or
    UsageError with a sentence saying what to write."""
    code = _lookup(text)
    if code is None:
        raise UsageError(f"'{text.strip()}' is not a country code we know{_suggestion(text)}. "
                         "Write a two-letter code such as FR or NZ (UK works too), "
                         "or the country's English name.")
    return code


def not_a_country(text: str) -> str:
    """The one sentence help-now says on stderr for a --country it does not know."""
    return (f"'{text.strip()}' is not a country code we know{_suggestion(text)}, "
            "so here is the usual help.")


def country_name(code: str) -> str:
    """The country's English name (``FR`` -> ``France``); the code itself if unknown."""
    code = code.strip().upper()
    if code in helplines().countries:
        return helplines().countries[code].name
    names, common = _countries()
    return common.get(code) or names.get(code) or code


def abuse_line(country: str) -> str | None:
    """The one most relevant domestic-abuse line for a country, or None if it has none."""
    found = helplines().countries.get(_lookup(country) or "")
    if found is None or not found.abuse:
        return None
    return f"Domestic abuse: {found.abuse[0].say}"


def locale_country(environ: dict | None = None) -> tuple[str, str] | None:
    """The country of the system's language setting (LC_ALL, else LC_MESSAGES, else LANG, as
    POSIX reads them) and that setting, when it names one: ``en_NZ.UTF-8`` -> NZ."""
    env = os.environ if environ is None else environ
    value = next((env[var] for var in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(var)), "")
    found = re.match(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?:[.@]|$)", value)
    code = _lookup(found.group(1)) if found else None
    return (code, value) if code else None


_WIDTH: ContextVar[int | None] = ContextVar("width", default=None)
"""The columns the help lines being made are wrapped to (None: standard output's)."""


def _wrap(text: str, indent: str = "") -> list[str]:
    """``text`` in lines as wide as the screen allows, its later lines indented two more
    than its first, never breaking inside a number (``0800 733 843``) or between a number
    and what follows it in brackets."""
    return wrap_line(text, _WIDTH.get() or text_width(), indent, indent + "  ")


def _group(label: str, lines: list[Line]) -> list[str]:
    if len(lines) == 1:
        return _wrap(f"{label}: {lines[0].text()}", "  ")
    out = _wrap(f"{label}:", "  ") if lines else []
    for line in lines:
        text = line.text()
        out += _wrap(text[0].upper() + text[1:], "    ")
    return out


def _block(code: str, abuse_only: bool, heading: str = "") -> list[str]:
    """Everything there is for one country; ``heading`` replaces its name as the title."""
    data = helplines()
    title = heading or country_name(code)
    emergency = data.emergency.get(code)
    country = data.countries.get(code)
    if country is None:
        name = country_name(code)
        if emergency is None:
            return _wrap(f"{title}: there are no lines for {name} here yet.")
        return _wrap(f"{title}: emergency {emergency.say}. There are no other lines for "
                     f"{name} here yet.")
    out = [f"{title}:"] + _group("Emergency", [emergency])
    if not abuse_only:
        out += _group("Crisis", list(country.crisis))
    out += _group("Domestic abuse", list(country.abuse))
    quiet = [q for q in country.quiet if not abuse_only or q.for_ == "abuse"]
    return out + _group("If a call could be overheard", quiet)


def _summary(country: Country, abuse_only: bool) -> list[str]:
    """A country with lines in one or two lines: emergency, crisis, domestic abuse."""
    emergency = helplines().emergency[country.code]
    parts = [f"emergency {emergency.short or emergency.number}"]
    for label, lines in (("crisis", () if abuse_only else country.crisis),
                         ("domestic abuse", country.abuse)):
        shorts = [line.short for line in lines if line.short]
        if shorts:
            parts.append(f"{label} {', '.join(shorts)}")
    return _wrap(f"{country.name}: {'; '.join(parts)}.")


HOW_TO_CHOOSE = ("For all there is for one country: grounding help-now --country CODE "
                 "(such as FR or NZ); to keep it: grounding config set country CODE.")


def help_now(country: str = "", abuse_only: bool = False, width: int | None = None) -> str:
    """The help lines: for ``country`` (any code; unknown ones get the emergency number where
    known), else for the country of the system's language setting, else a short summary of
    every country with lines; always findahelpline.com, and never an error. They are
    wrapped to ``width`` columns (by default, standard output's)."""
    token = _WIDTH.set(width)
    try:
        return _help_now(country, abuse_only)
    except Exception:  # a broken data file must not take the help away: what needs no data
        return "\n".join([*_wrap(DANGER), "", *_wrap(f"Anywhere: {ANYWHERE}")])
    finally:
        _WIDTH.reset(token)


def _help_now(country: str, abuse_only: bool) -> str:
    data = helplines()
    code = _lookup(country) if country else None
    out = [*_wrap(DANGER), ""]
    tail = [""] + _wrap(f"Anywhere: {data.anywhere.say}")
    if code:
        out += _block(code, abuse_only)
    elif (found := locale_country()) is not None:
        code, value = found
        out += _block(code, abuse_only,
                      f"{country_name(code)} (from your system's language setting, {value})")
        others = [c.name for c in data.countries.values() if c.code != code]
        tail += _wrap(f"Also here: {', '.join(others)}.") + _wrap(HOW_TO_CHOOSE)
    else:
        for each in data.countries.values():
            out += _summary(each, abuse_only)
        tail += _wrap(HOW_TO_CHOOSE)
    return "\n".join(out + tail)


def _marker():
    return paths.config_dir() / "first-run-done"


def first_run() -> bool:
    """Whether the notice has not been shown yet."""
    return not _marker().exists()


def mark_shown() -> None:
    """Remember that the notice was shown (a failure to remember only means seeing it again)."""
    try:
        marker = _marker()
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.touch()
    except OSError:
        pass
