"""The pre-contact pause, asked as it goes (research/CONTENT.md card F1): ratings that can
be skipped, body-first help when things run high, a free choice, a place to write, and the
private log if the user wants it. ``--no-ask`` plays the same parts straight through."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from time import monotonic
from typing import Callable

import typer

from grounding import config, history, safety
from grounding.library import find_script
from grounding.pause import part, surf_stretches
from grounding.questions import choose, let_go, rating, write_here
from grounding.script import Script

HIGH = 8
"""A rating this high, or a rise of RISE, offers body-first grounding and the help lines
(CONTENT.md §3.3; design heuristics, not validated cut-offs)."""
RISE = 2

MENU = [("1", "Wait a little longer, and check in again"),
        ("2", "Write the message here, without sending it"),
        ("3", "Reach out to someone else"),
        ("4", "Do something kind for your body"),
        ("5", "Contact that person, if that's your choice")]

BODY = ("Some kind things for the body: a glass of water; a warm drink; washing your face or "
        "hands; stepping outside or to a window; stretching slowly; something to eat.")


class Pausing:
    """One interactive pause. ``play`` plays a script live (the command line's player)."""

    def __init__(self, options, minutes: float, country: str,
                 play: Callable[[Script], None], say: Callable[[str], None]):
        self.options = options
        self.minutes = minutes
        self.country = country
        self.play = play
        self.say = say
        self.out = sys.stdout

    def _show(self, text: str) -> None:
        self.out.write(f"\n{text}\n")
        self.out.flush()

    def _high(self, *ratings: int | None, before: int | None = None) -> bool:
        given = [r for r in ratings if r is not None]
        rose = before is not None and any(r - before >= RISE for r in given)
        return rose or any(r >= HIGH for r in given)

    def _body_first(self) -> None:
        self._show(safety.help_now(self.country))
        picked = choose(self.out, "Things may be running high. Would a minute or two with the "
                        "room and the body help first?",
                        [("b", "Yes, body first: orienting to the room"),
                         ("c", "No, carry on")])
        if picked == "b":
            self.play(find_script("orienting"))

    def run(self) -> None:
        """The whole pause; the log is written at the end if the user keeps one."""
        started, clock = datetime.now().strftime("%Y-%m-%d %H:%M"), monotonic()
        entry: dict = {"ended": "stopped"}
        try:
            self._flow(entry)
            entry["ended"] = "finished"
        except typer.Exit:
            self._keep(started, clock, entry, ask=False)
            raise
        except KeyboardInterrupt:
            self._keep(started, clock, entry, ask=False)
            self.say("Stopped.")
            raise typer.Exit(130) from None
        self._keep(started, clock, entry, ask=True)

    def _flow(self, entry: dict) -> None:
        self.play(part("arrive"))
        entry["urge_before"] = rating(self.out, "How strong is the pull to reach out, right "
                                      "now, from 0 to 10?", anchors=True)
        entry["distress_before"] = rating(self.out, "And how stressed or upset do you feel, "
                                          "0 to 10?")
        if self._high(entry["urge_before"], entry["distress_before"]):
            self._body_first()
        self.play(part("settle"))
        for piece in surf_stretches(self.minutes):
            self.play(piece)
            now = rating(self.out, "Where is the urge now, 0 to 10? Higher, lower or the same, "
                         "any number is fine.")
            if now is not None:
                entry["urge_after"] = now
        if self._high(entry.get("urge_after"), before=entry["urge_before"]):
            self._body_first()
        distress = entry["distress_before"]
        if distress is not None and distress <= 5:
            self.play(part("reflect"))
        self.play(part("kind"))
        self.play(part("choose"))
        self._show(safety.help_now(self.country, abuse_only=True))
        entry["next_step"] = self._choose(entry)
        entry["urge_after"] = rating(self.out, "Before you go: the pull to reach out, 0 to 10?")
        entry["distress_after"] = rating(self.out, "And how stressed or upset, 0 to 10?")
        self._show(_change(entry.get("urge_before"), entry.get("urge_after")))

    def _choose(self, entry: dict) -> str | None:
        chosen = None
        while True:
            picked = choose(self.out, "What would you like to do now? (Enter when done)", MENU)
            if picked is None:
                return chosen
            chosen = dict(MENU)[picked]
            if picked == "1":
                self.play(find_script("out-breath"))
                rating(self.out, "Checking in: the pull to reach out now, 0 to 10?")
            elif picked == "2":
                self._write(entry)
            elif picked == "3":
                self._show("A friend, someone you trust, or a support line:\n"
                           + safety.help_now(self.country))
            elif picked == "4":
                self._show(BODY)
            else:
                self._show("That's your choice to make. If you do contact them, you might "
                           "notice how you feel afterwards. That's useful information too.")
                return chosen

    def _write(self, entry: dict) -> None:
        text = write_here(self.out)
        if not text:
            return
        keep = choose(self.out, "Keep it in your private log, or let it go?",
                      [("k", "Keep it (only on this computer)"), ("l", "Let it go")])
        if keep == "k":
            entry["note"] = text.decode("utf-8", "replace")
            if config.load(lambda line: None).log != "on":
                self._set_log("on")
                self._show("The private log is now on; 'grounding history --forget' deletes it.")
        let_go(text)
        if keep != "k":
            self._show("Let go. It was not written anywhere.")

    def _set_log(self, value: str) -> None:
        settings = config.load(lambda line: None)
        config.save(replace(settings, log=value))

    def _keep(self, started: str, clock: float, entry: dict, ask: bool) -> None:
        setting = config.load(lambda line: None).log
        if setting == "" and ask:
            answer = choose(self.out, "Would you like to keep a private log of your pauses on "
                            "this computer, to see how urges change over time? Nothing leaves "
                            "this computer, and 'grounding history --forget' deletes it.",
                            [("y", "Yes, keep a log"), ("n", "No, thank you")])
            setting = "on" if answer == "y" else "off"
            self._set_log(setting)
        if setting != "on":
            entry.pop("note", None)
            return
        history.record(history.PauseRecord(
            started=started, seconds=round(monotonic() - clock), ended=entry["ended"],
            urge_before=entry.get("urge_before"), urge_after=entry.get("urge_after"),
            distress_before=entry.get("distress_before"),
            distress_after=entry.get("distress_after"), next_step=entry.get("next_step"),
            note=entry.get("note")))


def _change(before: int | None, after: int | None) -> str:
    """The change, reflected neutrally (card U1)."""
    if before is None or after is None:
        return "You gave yourself a pause."
    if before == after:
        return (f"It stayed at {after}. That happens, and you still gave yourself a pause.")
    return f"It moved from {before} to {after}. You gave yourself a pause."
