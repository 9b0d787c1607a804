"""The errors grounding raises; each message is a sentence a person can act on."""


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
