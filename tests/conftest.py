"""Shared fixtures, and the tiers the tests run in.

``make test`` runs every test but the ``realtime`` ones, two pytest processes at once
(pytest-xdist); ``make test-realtime`` runs the realtime tier, ``make test-all`` both. The
sound-card tests share one private PulseAudio daemon per pytest process, so they are kept in
one xdist group: one process plays them one after another, into one daemon.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from support import require

# No test may touch the real home: every user folder goes below one temporary directory
# (tests that run the program give it a GROUNDING_HOME of their own). One per pytest process,
# so two processes never share a cache or settings.
os.environ["GROUNDING_HOME"] = tempfile.mkdtemp(prefix="grounding-tests-")
atexit.register(shutil.rmtree, os.environ["GROUNDING_HOME"], ignore_errors=True)

REALTIME = {
    "test_bedtime.py::test_bedtime_reads_no_input_plays_to_the_end_and_leaves_in_silence",
    "test_pause_flow.py::test_a_whole_interactive_pause_in_real_time",
    "test_display.py::test_at_bedtime_the_screen_keeps_still_after_the_first_minute",
    "test_display.py::test_at_bedtime_animate_keeps_the_bar_moving",
    "test_device.py::test_after_a_suspend_the_sound_resumes_within_a_second_from_where_it_was",
    "test_device.py::test_when_the_sound_server_comes_back_the_sound_returns_within_2_s_in_step",
}
"""The long plays, which spend minutes waiting on the sound card's clock: ``file::test``."""
SOUND_CARD_GROUP = "pulse"
"""The xdist group of every test that plays into the private PulseAudio daemon."""


CANNOT_RUN = pytest.StashKey[str]()
"""Why a test cannot run as its tier says, found while collecting; the test then fails at
setup with that sentence (an error raised while collecting would only stop the pytest-xdist
workers, and the sentence would be lost)."""


@pytest.hookimpl(tryfirst=True)  # before -m deselects and before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark the long plays ``realtime``, and put every test that uses the sound card in one
    xdist group."""
    modules = {item.path.name: item.module for item in items if hasattr(item, "module")}

    def gone(entry: str) -> bool:
        file, name = entry.split("::")
        return file in modules and not hasattr(modules[file], name)

    missing = [entry for entry in REALTIME if gone(entry)]
    for item in items:
        if f"{item.path.name}::{getattr(item, 'originalname', item.name)}" in REALTIME:
            item.add_marker(pytest.mark.realtime)
        if "pulse_daemon" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(SOUND_CARD_GROUP))
        lost = [entry for entry in missing if entry.startswith(f"{item.path.name}::")]
        if lost:  # a renamed long play must not slip into the fast tier unnoticed
            item.stash[CANNOT_RUN] = (f"REALTIME in tests/conftest.py names tests that "
                                      f"{item.path.name} does not have: {', '.join(lost)}")


def pytest_collection_finish(session):
    """Under ``--dist loadgroup``, find the tests pytest-xdist could not put in their group
    (it marks their ids with ``@GROUP``), rather than let them run spread over every
    process."""
    if not getattr(session.config.option, "loadgroup", False):  # set in xdist workers only
        return
    for item in session.items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            item.stash[CANNOT_RUN] = (
                f"pytest-xdist could not keep this test in its group: pytest "
                f"{pytest.__version__} may be newer than this pytest-xdist can group "
                "(pytest-xdist issue 1386). Install the versions in pyproject.toml's test "
                "extra, as make test does.")


def pytest_runtest_setup(item):
    if CANNOT_RUN in item.stash:
        pytest.fail(item.stash[CANNOT_RUN], pytrace=False)


@pytest.fixture(scope="session")
def pulse_daemon(tmp_path_factory):
    """A private PulseAudio daemon with one null sink (docs/audio-stack.md §7.2), stopped after
    the session.

    Skips when pulseaudio, pactl or parecord is missing, or when PortAudio cannot reach the
    daemon through ALSA's ``pulse`` device; with CI=true those are failures instead.
    """
    import pulse  # tests/pulse.py; pytest puts tests/ on sys.path

    missing = pulse.missing_tools()
    if missing:
        require(False, f"{', '.join(missing)} not found; install the Debian packages "
                           "pulseaudio and pulseaudio-utils (docs/audio-stack.md §7.2).")
    daemon = pulse.start_daemon()
    try:
        home = tmp_path_factory.mktemp("pulse-home")
        listed = subprocess.run([sys.executable, "-m", "grounding", "devices"],
                                env=daemon.environ(GROUNDING_HOME=str(home)),
                                capture_output=True, text=True, timeout=30)
        if not re.search(r"^\*?\s*\d+\s+pulse\s+\(", listed.stdout, re.MULTILINE):
            require(False, 
                "PortAudio does not list ALSA's 'pulse' device under the private daemon (is "
                "libasound2-plugins installed?); 'grounding devices' printed "
                f"{(listed.stdout + listed.stderr).strip()!r}.")
        yield daemon
    finally:
        daemon.stop()


INSTANT_DEVICE = "instant"
"""The ALSA device of :func:`instant_device`, as ``--device`` names it."""


@pytest.fixture(scope="session")
def instant_device(tmp_path_factory) -> dict[str, str]:
    """An output device that takes sound as fast as it is made: an ALSA device of alsa-lib's
    ``null`` type, which PortAudio lists and opens like any other. The environment that shows
    it (alsa-lib reads ``$XDG_CONFIG_HOME/alsa/asoundrc``); play to it with
    ``--device instant``.

    For tests about what a session asks and shows rather than how it sounds: a seven-minute
    pause passes in seconds, through the program's own live path, keys and display (and the
    program says, rightly, that the sound card ran short of audio). How it sounds is checked
    from renders and through PulseAudio.
    """
    folder = tmp_path_factory.mktemp("instant-device")
    (folder / "alsa").mkdir()
    (folder / "alsa" / "asoundrc").write_text(
        f'pcm.{INSTANT_DEVICE} {{\n    type null\n'
        f'    hint.description "Takes sound as fast as it comes"\n}}\n', encoding="utf-8")
    env = {"XDG_CONFIG_HOME": str(folder)}
    listed = subprocess.run([sys.executable, "-m", "grounding", "devices"],
                            env={**os.environ, **env, "GROUNDING_HOME": str(folder / "home")},
                            capture_output=True, text=True, timeout=30)
    require(re.search(rf"^\*?\s*\d+\s+{INSTANT_DEVICE}\s+\(", listed.stdout, re.MULTILINE)
            is not None,
            f"an ALSA '{INSTANT_DEVICE}' device from $XDG_CONFIG_HOME/alsa/asoundrc (alsa-lib "
            f"1.2.4 or later); 'grounding devices' printed "
            f"{(listed.stdout + listed.stderr).strip()!r}")
    return env
