"""Where grounding keeps its files: the user's folders, and the bundled data.

``GROUNDING_HOME`` moves every user folder below one directory, which the tests use so they
never touch the real home (the same idea as ``LLM_USER_PATH`` in simonw/llm).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "grounding"
HOME_ENV = "GROUNDING_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The folder for rendered speech clips (safe to delete)."""
    home = _home()
    if home:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def config_dir() -> Path:
    """The folder for settings and the user's own exercises."""
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """The folder for the private log (opt-in)."""
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def bundled(name: str) -> Path:
    """A bundled data folder (``scripts`` or ``audio``) in a wheel or in a source checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "_data" / name
    if installed.is_dir():
        return installed
    return package.parent / name
