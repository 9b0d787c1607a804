"""grounding: voice-guided grounding and paced-breathing exercises for the terminal."""

__version__ = "0.1.0"
