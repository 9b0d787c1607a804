"""The output devices: sounddevice imported (here, lazily, and nowhere else), alsa-lib kept
quiet, and a device found by name or number and checked to play float32 at a rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from grounding.datafile import did_you_mean
from grounding.errors import AudioUnavailable, UsageError
from grounding.printable import printable


def import_sounddevice():
    """sounddevice, or AudioUnavailable with a sentence when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:
        raise AudioUnavailable(
            f"Sound output is not available: the PortAudio library is missing ({exc}). "
            "Install it (Debian/Ubuntu: sudo apt install libportaudio2; Fedora: sudo dnf "
            "install portaudio), or save the session with --out session.wav; 'grounding doctor' "
            "can check the rest.") from None
    return sounddevice


def import_sounddevice_soon() -> None:
    """Start importing sounddevice on a thread of its own: the import starts PortAudio, which
    looks over the machine's sound devices (about a tenth of a second), and that can happen
    while the session is made ready, rather than after. :func:`import_sounddevice` then
    waits for it, if it is not done yet, and tells of a failure."""
    import threading

    def load() -> None:
        try:
            import sounddevice  # noqa: F401
        except Exception:  # noqa: BLE001 - said by import_sounddevice when it is needed
            pass

    threading.Thread(target=load, name="grounding-portaudio", daemon=True).start()


_ALSA_QUIET = []


def quiet_alsa() -> None:
    """Stop alsa-lib printing its own lines (``ALSA lib pcm.c:…: underrun occurred``) over the
    program's calm ones: underruns are counted and reported in a sentence instead."""
    if _ALSA_QUIET:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if not name:
        return
    try:
        alsa = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                        ctypes.c_int, ctypes.c_char_p)
        handler = handler_type(lambda *args: None)
        alsa.snd_lib_error_set_handler(handler)
        _ALSA_QUIET.append(handler)  # keep it alive as long as the process
    except (OSError, AttributeError):
        pass


def no_device_message(detail: str = "") -> str:
    """The one calm line for 'there is nowhere to play sound'."""
    why = f" ({detail})" if detail else ""
    return (f"There is no sound output here{why}. You can save the session as a file with "
            "--out session.wav, and 'grounding doctor' can look for the cause.")


@dataclass(frozen=True)
class Output:
    """An output device, as a stream is opened on it."""

    device: str | int | None
    """As sounddevice takes it: a name, a number, or None for the system's default."""
    name: str
    channels: int
    """1 or 2: a mono session is spread over at most two."""
    samplerate: int


class Typed(str):
    """A device name or number as typed on the command line (``--device``), not from the
    settings: one that matches no output is a mistake to correct (UsageError, exit 2), where
    a device from the settings may be unplugged for now (the session then goes on on screen).
    Once it has been found, it is a device that went away if it is missing later (the next
    part of a pause, after the sound server restarted)."""

    found = False
    """Whether it has matched an output in this run."""


def find_output(sd, device: str | int | None = None, samplerate: int | None = None) -> Output:
    """The output named or numbered by ``device`` (None: the default), checked to play
    float32 at ``samplerate`` (None: the device's own rate); AudioUnavailable or UsageError,
    with a sentence, if it cannot: UsageError for a :class:`Typed` device that matches none
    of the outputs there are."""
    wanted = _device_arg(device)
    try:
        info = sd.query_devices(wanted, "output")
    except (ValueError, sd.PortAudioError) as exc:
        if isinstance(device, Typed) and not device.found:
            check_device(sd, device)  # UsageError, unless there is no output at all
        raise AudioUnavailable(_device_problem(device, str(exc))) from None
    if isinstance(device, Typed):
        device.found = True
    found = Output(wanted, info["name"], max(1, min(2, int(info["max_output_channels"]))),
                   int(samplerate or info["default_samplerate"]))
    try:
        sd.check_output_settings(wanted, samplerate=found.samplerate,
                                 channels=found.channels, dtype="float32")
    except Exception as exc:  # PortAudioError or ValueError, depending on the host API
        if samplerate:
            raise UsageError(f"The device '{found.name}' cannot play at {samplerate} Hz "
                             f"({exc}).") from None
        raise AudioUnavailable(no_device_message(str(exc))) from None
    return found


def _device_arg(device: str | int | None) -> str | int | None:
    if isinstance(device, str) and device.strip().isdigit():
        return int(device)
    return device


def _device_problem(device: str | int | None, detail: str) -> str:
    if device is None or "-1" in detail:
        return no_device_message()
    return (f"No output device matches '{device}' ({detail.rstrip('.')}). "
            "'grounding devices' lists the ones you can use.")


def check_device(sd, device: str) -> str | None:
    """The name of the output device that ``device`` (a number or part of a name) finds, as a
    session would find it; None if there is no sound output here at all, so nothing can be
    checked. UsageError with a sentence if no output, or more than one, matches."""
    outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    if not outputs:
        return None
    try:
        return sd.query_devices(_device_arg(device), "output")["name"]
    except (ValueError, sd.PortAudioError) as exc:
        shown = printable(device)
        if "Multiple" in str(exc):
            raise UsageError(f"'{shown}' matches more than one output device; give its number "
                             "or more of its name. 'grounding devices' lists them.") from None
        names = [d["name"] for d in outputs]
        raise UsageError(f"No output device matches '{shown}'.{did_you_mean(device, names)} "
                         "'grounding devices' lists the ones you can use.") from None
