"""Shared fixtures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import pytest

from support import require

# No test may touch the real home: every user folder goes below one temporary directory
# (tests that run the program give it a GROUNDING_HOME of their own).
os.environ["GROUNDING_HOME"] = tempfile.mkdtemp(prefix="grounding-tests-")


@pytest.fixture(scope="session")
def pulse_daemon(tmp_path_factory):
    """A private PulseAudio daemon with one null sink (TECH.md §7.2), stopped after the session.

    Skips when pulseaudio, pactl or parecord is missing, or when PortAudio cannot reach the
    daemon through ALSA's ``pulse`` device; with CI=true those are failures instead.
    """
    import pulse  # tests/pulse.py; pytest puts tests/ on sys.path

    missing = pulse.missing_tools()
    if missing:
        require(False, f"{', '.join(missing)} not found; install the Debian packages "
                           "pulseaudio and pulseaudio-utils (TECH.md §7.2).")
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
