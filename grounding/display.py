"""What the terminal shows while a session plays, driven by the frame being heard.

Three ways to show it: a live display (a breathing bar that swells with the in-breath, the
phase, the caption of what is being said, the time left, the keys), plain timestamped lines
(for screen readers, pipes and ``TERM=dumb``), or nothing (``--quiet``).
"""

from __future__ import annotations

import bisect
import shutil
from dataclasses import dataclass
from typing import TextIO

from grounding.breath import HOLD, IN, OUT, REST, TOP
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
    """``m:ss``."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


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


DAY = {"title": "1", "bar": "36", "keys": "2"}
"""ANSI styles of the live display: a bold title, a cyan bar, dim keys."""
NIGHT = {"title": "2", "bar": "2", "keys": "2"}
"""At night everything is dim, nothing bright (docs/sound.md §5.3, docs/protocols.md card F2)."""
STILL_AFTER_SECONDS = 60.0
"""At night the display stops moving after this long (unless asked to go on)."""


class LiveDisplay:
    """A few lines redrawn in place, with a breathing bar; hides the cursor while it runs.

    ``night``: dim colours only, and (unless ``animate``) after the first minute one still,
    dim line instead of the moving bar and captions, redrawn only if something changes."""

    LINES = 7

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
        self.drawn = False
        self.note = ""

    def _style(self, text: str, role: str) -> str:
        return f"\x1b[{self.styles[role]}m{text}\x1b[0m" if self.color else text

    def _still(self) -> None:
        """The night's resting screen: one dim line, drawn again only when it changes."""
        shown = (self.note, self.status.paused, self.status.volume)
        if shown == self.still:
            return
        self.still = shown
        line = self.note or (f"{self.title} · it fades out by itself"
                             + (" · paused" if self.status.paused else "")
                             + (f" · q stops · volume {self.status.volume}"
                                if self.status.keys else ""))
        if self.drawn:
            self.out.write(f"\x1b[{self.LINES}F\x1b[J")
        else:
            self.out.write("\x1b[?25l")
        self.drawn = True
        self.out.write("\n" * (self.LINES - 1) + f"\x1b[2K{self._style(line, 'keys')}\n")
        self.out.flush()

    def tick(self, frame: int) -> None:
        """Redraw for ``frame``."""
        if self.still_from is not None and frame >= self.still_from:
            self._still()
            return
        width = max(30, min(shutil.get_terminal_size((80, 24)).columns, 100))
        rate = self.follow.timeline.samplerate
        left = (self.follow.timeline.frames - frame) / rate
        status = self.status
        head = f"{self.title} · {clock(left)} left" + (" · paused" if status.paused else "")
        found = self.follow.phase(frame)
        bar_width = max(10, width - 20)
        filled = round(self.follow.fill(frame) * bar_width)
        word = WORDS[found[0].kind] if found else ""
        bar = "█" * filled + "░" * (bar_width - filled) if found else ""
        index = self.follow.caption(frame)
        caption = self.follow.caption_texts[index] if index >= 0 else ""
        wrapped = _wrap(caption, width - 4, 2)
        keys = (f"space pause · q stop · +/- volume {status.volume} · "
                f"v voice {'on' if status.voice else 'off'} · "
                f"t tones {'on' if status.tones else 'off'} · h help lines"
                ) if status.keys else "Ctrl-C stops"
        lines = [self._style(head, "title"), "",
                 f"  {self._style(f'{word:<13}', 'bar')} {self._style(bar, 'bar')}", "",
                 *[f"  {line}" for line in wrapped],
                 self._style(self.note or keys, "keys")]
        if self.drawn:
            self.out.write(f"\x1b[{self.LINES}F")
        else:
            self.out.write("\x1b[?25l")
            self.drawn = True
        self.out.write("".join(f"\x1b[2K{line[: width + 20]}\n" for line in lines))
        self.out.flush()

    def show_above(self, text: str) -> None:
        """Print ``text`` where the display was; the display is drawn again below it."""
        if self.drawn:
            self.out.write(f"\x1b[{self.LINES}F\x1b[J")
            self.drawn = False
            self.still = None
        self.out.write(text + "\n\n")
        self.out.flush()

    def close(self) -> None:
        """Leave the last frame on screen and show the cursor again."""
        if self.drawn:
            self.out.write("\x1b[?25h")
            self.out.flush()


class PlainDisplay:
    """One timestamped line per phase change and per caption: no animation, no colour."""

    def show_above(self, text: str) -> None:
        """Print ``text`` in the flow of lines."""
        self.out.write(text + "\n")
        self.out.flush()

    def __init__(self, out: TextIO, timeline: Timeline):
        self.out = out
        self.follow = _Follow(timeline)
        self.rate = timeline.samplerate
        self.last_tone: object = None
        self.last_caption = -1

    def tick(self, frame: int) -> None:
        """Print what has begun since the last tick."""
        index = self.follow.caption(frame)
        while self.last_caption < index:
            self.last_caption += 1
            caption = self.follow.captions[self.last_caption]
            text = self.follow.caption_texts[self.last_caption]
            self.out.write(f"{clock(caption.start / self.rate)}  {text}\n")
        found = self.follow.phase(frame)
        if found and found[0] is not self.last_tone:
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

    def tick(self, frame: int) -> None:
        """Nothing."""

    def close(self) -> None:
        """Nothing."""


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width``, padded to exactly ``lines``."""
    import textwrap

    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[: lines - 1] + [textwrap.shorten(" ".join(wrapped[lines - 1:]),
                                                           width, placeholder=" …")]
    return wrapped + [""] * (lines - len(wrapped))
