"""The safety texts: the first-run notice, when to seek help, and where help is.

Wording from research/CONTENT.md §3.2, §3.4 and §3.6. Crisis numbers change: check them
against the official sites before each release (CONTENT.md §7).
"""

from __future__ import annotations

from grounding import paths

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

ANYWHERE = ("Anywhere: findahelpline.com lists free, confidential helplines in about 130 "
            "countries, for crisis support and for domestic abuse.")

LINES = {
    "US": ("United States",
           "Crisis: 988 Suicide and Crisis Lifeline, call or text 988 (24/7); "
           "Crisis Text Line, text HOME to 741741.",
           "Domestic abuse: National Domestic Violence Hotline 1-800-799-7233, "
           "or text START to 88788 (24/7).",
           "Emergency: 911."),
    "CA": ("Canada",
           "Crisis: 9-8-8 Suicide Crisis Helpline, call or text 988 (24/7).",
           "Domestic abuse: provincial lines at findahelpline.com.",
           "Emergency: 911."),
    "GB": ("United Kingdom",
           "Crisis: Samaritans 116 123 (free, 24/7); text SHOUT to 85258; "
           "in England, NHS 111, option 2.",
           "Domestic abuse: National Domestic Abuse Helpline 0808 2000 247 (Refuge, free, "
           "24/7); Men's Advice Line 0808 801 0327.",
           "Emergency: 999 (if you can't speak, dial 999, then press 55)."),
    "IE": ("Ireland",
           "Crisis: Samaritans 116 123 (free, 24/7); text 50808.",
           "Domestic abuse: Women's Aid 1800 341 900 (24/7).",
           "Emergency: 112 or 999."),
    "AU": ("Australia",
           "Crisis: Lifeline 13 11 14, or text 0477 13 11 14 (24/7).",
           "Domestic abuse: 1800RESPECT, 1800 737 732 (24/7).",
           "Emergency: 000."),
}
"""Crisis, domestic-abuse and emergency lines by country (CONTENT.md §3.4)."""

ALIASES = {"UK": "GB"}


def country_code(text: str) -> str:
    """A country code grounding has lines for (``gb``, ``UK`` -> ``GB``), or UsageError."""
    from grounding.errors import UsageError

    code = ALIASES.get(text.strip().upper(), text.strip().upper())
    if code not in LINES:
        raise UsageError(f"There are no lines for '{text}' here yet; the countries are "
                         f"{', '.join(LINES)}. findahelpline.com covers the rest.")
    return code


def help_now(country: str = "", abuse_only: bool = False) -> str:
    """The help lines: for ``country`` if set (else every country), and findahelpline.com."""
    codes = [country] if country else list(LINES)
    out = ["If you are in danger right now, call your local emergency number.", ""]
    for code in codes:
        name, crisis, abuse, emergency = LINES[code]
        rows = [abuse, emergency] if abuse_only else [crisis, abuse, emergency]
        out += [f"{name}:"] + [f"  {row}" for row in rows] + [""]
    return "\n".join(out + [ANYWHERE])


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


def abuse_line(country: str) -> str | None:
    """The domestic-abuse line for ``country``, or None."""
    return LINES[country][2] if country in LINES else None
