"""The boundaries between the modules, as the import-linter contracts in pyproject.toml write
them down: which layer may import which, and Typer only in the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import ROOT


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"  # import-linter's command
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[test]'"
    # run in the project folder, which it puts first on the path: this tree's code is checked
    done = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout
