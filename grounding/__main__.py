"""Allow ``python -m grounding``."""

from grounding.cli import main

main()
