"""The errors grounding raises; each message is a sentence a person can act on. And the
one way a session is stopped early, :class:`Stopped`."""

import signal
from typing import Callable


class GroundingError(Exception):
    """Something went wrong that the user can understand and fix."""

    exit_code = 1


class ExerciseError(GroundingError):
    """An exercise or palette file is broken: ``file:line: step N: what is wrong``."""

    exit_code = 2


class UsageError(GroundingError):
    """A command-line value cannot be used (a pattern, a name, a number out of range)."""

    exit_code = 2


class AudioUnavailable(GroundingError):
    """There is no way to play sound here (no PortAudio, no device, device gone)."""

    exit_code = 69
    """EX_UNAVAILABLE from sysexits.h, so scripts can fall back to ``--out``."""


class SpeechUnavailable(GroundingError):
    """The speech engine is missing, crashed or stopped answering."""

    exit_code = 1


class VoiceNotFound(UsageError):
    """No installed voice matches what was asked for."""


class Stopped(KeyboardInterrupt):
    """A session stopped before its end: q or Ctrl-C (SIGINT) from the person, or SIGTERM
    from the system. The q key and the program's signal handlers raise it.

    It is a KeyboardInterrupt, so the sound card fades out on it as on Ctrl-C. Each layer
    it passes tidies up and says what it must ("Stopped; x.wav was not written."), then lets
    it go on; only grounding.cli turns it into an exit code."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum
        """The signal it stands for: SIGINT for q and Ctrl-C, SIGTERM from the system."""
        self.told = False
        """Whether the person has been told (see :meth:`tell`)."""

    def tell(self, say: Callable[[str], None], line: str = "Stopped.") -> None:
        """Say ``line`` with ``say``, unless the person has been told already: a stop passes
        through several layers, and the first that has something to say says it."""
        if not self.told:
            say(line)
            self.told = True

    @property
    def exit_code(self) -> int:
        """128 and the signal's number, as shells report a program a signal ended: 130 for
        q and Ctrl-C, 143 for SIGTERM."""
        return 128 + int(self.signum)
