"""What the terminal shows while a session plays, driven by the frame being heard.

Three ways to show it: a live display (a breathing bar that swells with the in-breath, the
phase, the caption of what is being said, the time left, the keys), plain timestamped lines
(for screen readers, pipes and ``TERM=dumb``), or nothing (``--quiet``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

from grounding.breath import HOLD, IN, OUT, REST, TOP
from grounding.columns import (cells, cut, fit, rows_after_resize, terminal_size, wrap,
                               wrap_lines)
from grounding.printable import printable
from grounding.timeline import Timeline
from grounding.tones import ease

WORDS = {IN: "breathe in", TOP: "a little more", HOLD: "hold", OUT: "breathe out", REST: "rest"}


@dataclass
class Status:
    """What the keys have changed, shown on the last line."""

    volume: int
    voice: bool
    tones: bool
    paused: bool = False
    keys: bool = True
    """Whether keys work here (standard input is a terminal)."""


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour (the seconds begun are not counted)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return (f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else
            f"{rest // 60}:{rest % 60:02d}")


class _Follow:
    """Looks up the phase and the caption at any frame of a timeline."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        self.tones = timeline.tones
        self.tone_starts = [t.start for t in self.tones]
        self.captions = [c for c in timeline.clips if not c.cue]
        self.caption_starts = [c.start for c in self.captions]
        self.caption_texts = [printable(c.text) for c in self.captions]
        """What each caption shows: cleaned once here, not on every frame."""
        pitches = [f for t in self.tones for f in (t.f0, t.f1)]
        self.low, self.high = (min(pitches), max(pitches)) if pitches else (0.0, 1.0)

    def phase(self, frame: int):
        """The breath phase sounding at ``frame`` and how far through it (0 to 1), or None."""
        i = bisect.bisect_right(self.tone_starts, frame) - 1
        if i < 0 or frame >= self.tones[i].start + self.tones[i].frames:
            return None
        tone = self.tones[i]
        return tone, (frame - tone.start) / tone.frames

    def fill(self, frame: int) -> float:
        """How full the bar is: the pacer's pitch, from its lowest (0) to its highest (1)."""
        found = self.phase(frame)
        if found is None or self.high == self.low:
            return 0.0
        tone, x = found
        pitch = tone.f0 + (tone.f1 - tone.f0) * float(ease(x, self.timeline.glide))
        return (pitch - self.low) / (self.high - self.low)

    def caption(self, frame: int) -> int:
        """Index of the latest caption that has started by ``frame`` (-1 for none)."""
        return bisect.bisect_right(self.caption_starts, frame) - 1

    def shown_caption(self, frame: int) -> int:
        """Index of the caption to show at ``frame`` (-1 for none): the latest one, until a
        breath phase begins after it has been said (an instruction is then done with)."""
        index = self.caption(frame)
        if index < 0:
            return -1
        said = self.captions[index].start + self.captions[index].frames
        tone = bisect.bisect_right(self.tone_starts, frame) - 1
        return -1 if tone >= 0 and self.tone_starts[tone] >= said else index


DAY = {"title": "1", "bar": "36", "keys": "2"}
"""ANSI styles of the live display: a bold title, a cyan bar, dim keys."""
NIGHT = {"title": "2", "bar": "2", "keys": "2"}
"""At night everything is dim, nothing bright (docs/sound.md §5.3, docs/protocols.md card F2)."""
STILL_AFTER_SECONDS = 60.0
"""At night the display stops moving after this long (unless asked to go on)."""
CAPTION_ROWS = 3
"""Rows kept for the caption when the terminal has room for them."""
BAR_MOST = 80
"""The widest the breathing bar grows, in columns."""

Row = tuple[str, str | None]
"""One row of the live display: its text and its style's role (None: unstyled)."""


class LiveDisplay:
    """A few lines redrawn in place, with a breathing bar; hides the cursor while it runs.

    Every frame fits the terminal as it is now: no line reaches the last column (where a
    terminal would wrap it), and no more rows are drawn than the terminal has, so nothing
    scrolls; after a resize the last frame, however the terminal rewrapped it, is cleared.

    ``night``: dim colours only, and (unless ``animate``) after the first minute one still,
    dim line instead of the moving bar and captions, redrawn only if something changes."""

    def __init__(self, out: TextIO, timeline: Timeline, title: str, status: Status,
                 color: bool, night: bool = False, animate: bool = False):
        self.out = out
        self.follow = _Follow(timeline)
        self.title = printable(title)
        self.status = status
        self.color = color
        self.styles = NIGHT if night else DAY
        self.still_from = (None if animate or not night
                           else round(STILL_AFTER_SECONDS * timeline.samplerate))
        self.still: tuple | None = None
        self.drawn: list[int] = []
        """The length of each row of the frame on screen (none: nothing drawn yet)."""
        self.height = 0
        """Rows the display has taken so far at this terminal size; it never draws fewer, so
        the bar stays where it is."""
        self.size = (0, 0)
        self.note: tuple[str, ...] = ()
        """A message in place of the keys: its forms, longest first (none: the keys)."""
        self.help: list[int] = []
        """The length of each row of the help lines shown above the display (none: hidden)."""
        self.told_above = -1
        """The last caption too long for the display, shown above it instead."""
        self.most = 0
        """The rows the display keeps to while help lines too tall for the terminal are shown
        above it (0: as many as it likes)."""

    def _style(self, text: str, role: str | None) -> str:
        return f"\x1b[{self.styles[role]}m{text}\x1b[0m" if self.color and role and text \
            else text

    def _span(self, extra: Sequence[int] = ()) -> int:
        """How many terminal rows the frame on screen (or, before one is drawn, the cursor's
        row), and ``extra`` rows above it, take now, however a resize has rewrapped them; at
        most the terminal's rows."""
        columns, lines = terminal_size(self.out)
        return min(lines, rows_after_resize([*extra, *(self.drawn or [0])], columns))

    def _erase(self, extra: Sequence[int] = ()) -> str:
        """The codes that blank the frame on screen (and ``extra`` rows above it) and leave the
        cursor at the start of its first row. Row by row, never by clearing to the end of
        the screen, which some terminals (tmux) first copy into their scrollback."""
        rows = self._span(extra)
        return _up(rows - 1) + "\x1b[2K" + "\x1b[B\x1b[2K" * (rows - 1) + _up(rows - 1)

    def _draw(self, rows: Sequence[Row]) -> None:
        """Put ``rows`` on screen in place of the last frame; the cursor stays at the end of
        the last row, so the last row of the terminal can be used without scrolling."""
        old = self._span() if self.drawn else 0
        start = _up(old - 1) if self.drawn else "\x1b[?25l\r"
        left = max(0, old - len(rows))  # rows of the last frame below this one: blanked
        self.out.write(start + "\n".join(f"\x1b[2K{self._style(text, role)}"
                                         for text, role in rows)
                       + ("\x1b[B\x1b[2K" * left + f"\x1b[{left}A" if left else ""))
        self.out.flush()
        self.drawn = [cells(text) for text, _ in rows]

    def _room(self) -> tuple[int, int]:
        """The columns a row may fill and the rows the display may take, at the terminal's
        size now; a new size starts the display's height afresh."""
        size = terminal_size(self.out)
        if size != self.size:
            self.size, self.height, self.still = size, 0, None
        columns, lines = size
        return max(1, columns - 1), max(1, lines - 1)

    def _keys(self, width: int) -> str:
        """The keys, in the longest form that fits."""
        status = self.status
        if not status.keys:
            return fit(("Ctrl-C stops",), width)
        space = "space resume" if status.paused else "space pause"
        voice = f"v voice {'on' if status.voice else 'off'}"
        tones = f"t tones {'on' if status.tones else 'off'}"
        helped = "h hide help lines" if self.help else "h help lines"
        return fit((f"{space} · q stop · +/- volume {status.volume} · {voice} · {tones} · "
                    f"{helped}",
                    f"{space} · q stop · +/- volume {status.volume} · {voice} · {tones}",
                    f"{space} · q stop · volume {status.volume} · {helped}",
                    *([f"{space} · q stop · h hide help"] if self.help else []),
                    f"{space} · q stop · volume {status.volume}",
                    f"{space} · q stop", "q stop"), width)

    def _head(self, left: float, width: int) -> str:
        """The title and the time left; the title is shortened first, the time never."""
        tail = f"{clock(left)} left" + (" · paused" if self.status.paused else "")
        room = width - len(tail) - 3
        if cells(self.title) <= room:
            return f"{self.title} · {tail}"
        if room >= 8:  # the whole title is in the line above, said as the session began
            return f"{cut(self.title, room - 1).rstrip()}… · {tail}"
        return fit((tail, clock(left)), width)

    def _bar(self, frame: int, width: int) -> str:
        """The breath phase's words and the bar, as full as the pacer's pitch is high."""
        found = self.follow.phase(frame)
        if not found:
            return ""
        word = WORDS[found[0].kind]
        indent = "  " if width >= 30 else ""
        bar_width = min(BAR_MOST, width - len(indent) - 14)
        if bar_width < 3:
            return word[:width]
        filled = round(self.follow.fill(frame) * bar_width)
        return f"{indent}{word:<13} " + "█" * filled + "░" * (bar_width - filled)

    def _caption(self, frame: int, width: int, room: int) -> list[str]:
        """The caption being said, whole, in as many rows as it needs; a caption that needs
        more than ``room`` rows is shown once above the display instead."""
        index = self.follow.shown_caption(frame)
        if index < 0:
            return []
        indent = "  " if width >= 30 else ""
        text = self.follow.caption_texts[index]
        wrapped = wrap(text, width - len(indent))
        if len(wrapped) <= room:
            return [indent + line for line in wrapped]
        if index != self.told_above:
            self.told_above = index
            self.show_above(text)
        return []

    def retime(self, timeline: Timeline) -> None:
        """Follow ``timeline`` from now on: the same as the last up to the frame being heard
        (a line made while the session plays moves what follows it)."""
        self.follow = _Follow(timeline)

    def tick(self, frame: int) -> None:
        """Redraw for ``frame``."""
        if self.still_from is not None and frame >= self.still_from:
            self._still()
            return
        width, lines = self._room()
        lines = min(lines, self.most or lines)
        left = (self.follow.timeline.frames - frame) / self.follow.timeline.samplerate
        head = (self._head(left, width), "title")
        bar = (self._bar(frame, width), "bar")
        keys = (self._keys(width), "keys")
        bottom = (fit(self.note, width), "keys") if self.note else keys
        if lines < 3:  # room for the bar and the keys at most; captions go above
            self._caption(frame, width, 0)
            self._draw([bar, keys if self.help else bottom][:lines])
            return
        must = [head, bottom] + ([bar] if bar[0] else [])
        caption = [(line, None) for line in self._caption(frame, width, lines - len(must))]
        blank = ("", None)
        rows = [head, blank, bar, blank, *caption,
                *[blank] * (CAPTION_ROWS - len(caption)), bottom, *([keys] if self.note else [])]
        # rows that give way, in this order, when the terminal is short: blank rows from the
        # bottom up, the bar's row while no breath sounds, the keys under a note
        spare = [i for i, row in enumerate(rows) if row is blank][::-1]
        spare += ([] if bar[0] else [2]) + ([len(rows) - 1] if self.note else [])
        height = min(lines, max(self.height, len(rows)))
        self.height = height
        drop = set(spare[:max(0, len(rows) - height)])
        rows = [row for i, row in enumerate(rows) if i not in drop]
        at = rows.index(bottom)
        self._draw(rows[:at] + [blank] * (height - len(rows)) + rows[at:])

    def _still(self) -> None:
        """The night's resting screen: one dim line, drawn again only when it changes."""
        width, lines = self._room()
        shown = (self.note, self.status.paused, self.status.volume, self.help != [])
        if shown == self.still:
            return
        self.still = shown
        paused = " · paused" if self.status.paused else ""
        volume = f" · q stops · volume {self.status.volume}" if self.status.keys else ""
        line = fit(self.note, width) if self.note else fit(
            (f"{self.title} · it fades out by itself{paused}{volume}",
             f"it fades out by itself{paused}{volume}",
             f"it fades out by itself{paused}", "fading out"), width)
        height = max(1, min(lines, self.height or len(self.drawn)))
        self._draw([("", None)] * (height - 1) + [(line, "keys")])

    def show_above(self, text: str) -> None:
        """Print ``text`` where the display was, fitted to the width; the display is drawn
        again below it."""
        width, _ = self._room()
        if self.drawn:
            self.out.write(self._erase())
        rows = wrap_lines(text, width)
        self.out.write("\n".join(rows) + "\n\n")
        self.out.flush()
        self.drawn, self.height, self.still = [], 0, None
        if self.help:  # taken away with the help lines, which it now follows
            self.help += [cells(row) for row in rows] + [0]

    def toggle_help(self, lines: Callable[[int | None], str]) -> None:
        """Show the help lines (``lines(width)``, wrapped to that width) above the display, to
        stay until this is asked again; then take them away."""
        if self.help:
            self.out.write(self._erase(self.help))
            self.out.flush()
            self.drawn, self.help, self.height, self.still = [], [], 0, None
            self.most = 0
            return
        width, height = self._room()
        text = _fit_help(lines(width), width, height - 3)  # above a blank row, bar and keys
        rows = wrap_lines(text, width)
        if len(rows) + 1 + len(self.drawn) > height:  # the bar and the keys only, meanwhile
            self.most = 2
        self.show_above(text)
        self.help = [cells(row) for row in rows] + [0]

    def key_pressed(self, what: str) -> None:
        """Nothing: the keys line shows what a key changed."""

    def close(self) -> None:
        """Leave the last frame on screen and show the cursor again, on the next line."""
        if self.drawn:
            self.out.write("\n\x1b[?25h")
            self.out.flush()
            self.drawn = []


HELP_MORE = "More: q, then grounding help-now"
"""The last row of help lines cut to fit a small terminal: where all of them are."""


def _fit_help(text: str, width: int, room: int) -> str:
    """The help lines in at most ``room`` rows of ``width``: whole when they fit; else
    without their blank rows; else the whole entries that fit (the first, what to do in
    danger, always) and :data:`HELP_MORE`, so nothing scrolls away unread."""
    rows = wrap_lines(text, width)
    if len(rows) <= room:
        return text
    rows = [row for row in rows if row.strip()]
    if len(rows) <= room:
        return "\n".join(rows)
    keep = max(1, room - 1)
    while keep > 1 and rows[keep].startswith(" "):  # an entry's later rows are indented
        keep -= 1
    return "\n".join(rows[:keep] + [HELP_MORE])


class PlainDisplay:
    """One timestamped line per phase change and per caption: no animation, no colour; and
    one line for what each key did."""

    def show_above(self, text: str) -> None:
        """Print ``text`` in the flow of lines."""
        self.out.write(text + "\n")
        self.out.flush()

    def toggle_help(self, lines: Callable[[int | None], str]) -> None:
        """Print the help lines in the flow of lines, each time they are asked for."""
        self.show_above(lines(None))

    def key_pressed(self, what: str) -> None:
        """Print what a key did ("paused", "volume 65"), so a screen reader says it."""
        self.show_above(what)

    def __init__(self, out: TextIO, timeline: Timeline):
        self.out = out
        self.follow = _Follow(timeline)
        self.rate = timeline.samplerate
        self.last_tone: object = None
        self.last_caption = -1

    def retime(self, timeline: Timeline) -> None:
        """Follow ``timeline`` from now on (see :meth:`LiveDisplay.retime`)."""
        self.follow = _Follow(timeline)

    def tick(self, frame: int) -> None:
        """Print what has begun since the last tick."""
        index = self.follow.caption(frame)
        while self.last_caption < index:
            self.last_caption += 1
            caption = self.follow.captions[self.last_caption]
            text = self.follow.caption_texts[self.last_caption]
            self.out.write(f"{clock(caption.start / self.rate)}  {text}\n")
        found = self.follow.phase(frame)
        if found and found[0] != self.last_tone:  # (equal, in a timeline built anew)
            tone = found[0]
            self.last_tone = tone
            self.out.write(f"{clock(tone.start / self.rate)}  {WORDS[tone.kind]}\n")
        self.out.flush()

    def close(self) -> None:
        """Nothing to tidy."""


class QuietDisplay:
    """Shows nothing (``--quiet``)."""

    def show_above(self, text: str) -> None:
        """Nothing."""

    def toggle_help(self, lines: Callable[[int | None], str]) -> None:
        """Nothing."""

    def key_pressed(self, what: str) -> None:
        """Nothing."""

    def retime(self, timeline: Timeline) -> None:
        """Nothing."""

    def tick(self, frame: int) -> None:
        """Nothing."""

    def close(self) -> None:
        """Nothing."""


def _up(rows: int) -> str:
    """The codes that move the cursor to the start of the row ``rows`` above."""
    return "\r" + (f"\x1b[{rows}A" if rows > 0 else "")
