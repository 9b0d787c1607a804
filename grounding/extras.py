"""The optional extras: the command that installs one where grounding runs.

The package is not on PyPI, so ``pip install 'grounding-player[formats]'`` would fail: an
extra is installed as what it holds, by the installer of the environment grounding runs in.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def install_hint(*requirements: str) -> str:
    """The command that adds ``requirements`` to the environment grounding runs in: pipx's
    own, where pipx installed it, else this Python's pip."""
    wanted = " ".join(f"'{requirement}'" for requirement in requirements)
    venv = Path(sys.prefix)
    if (venv / "pipx_metadata.json").is_file():  # pipx's record of what it installed there
        return f"pipx inject {shlex.quote(venv.name)} {wanted}"
    return f"{shlex.quote(sys.executable)} -m pip install {wanted}"
