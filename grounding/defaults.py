"""The built-in defaults: what a session does when neither the command line nor the user's
settings say otherwise, and the ranges the user may choose from.

Each is written once, here, and read both by the code and by the command line's help. This
module imports nothing, so the help stays quick to show.
"""

VOICE = "en-us"
"""A language tag; the speech engine picks its voice for it."""
RATE = 150
"""Words per minute: about a quarter slower than pyttsx3's 200 (docs/safety.md §4: 10-20 % slower
than default at least; docs/audio-stack.md §1.2: 120-180 for guidance)."""
RATE_RANGE = (80, 300)
"""The slowest and fastest speaking speeds, words per minute."""
VOLUME = 70
"""Loudness, 0 to 100."""
VOLUME_RANGE = (0, 100)
"""The quietest and loudest settings."""
FILE_SAMPLERATE = 48000
"""Hz, for a file or a dry run; on the sound card its own rate is used."""
BREATHE_MINUTES = 5.0
"""How long ``grounding breathe`` lasts, rounded to whole breaths."""
SURF_MINUTES = 5.0
"""How long the pause's urge surfing lasts, minutes."""
BEDTIME_MINUTES = 20.0
"""The usual length of the bedtime routine, minutes (docs/protocols.md card F2: 12-25;
docs/sound.md §5.3: 15-20 by default)."""
BEDTIME_PACE = 8.0
"""Breaths a minute the bedtime routine starts from, unless the listener says their own easy
pace (B1 ramp: about 8, then down to the pattern)."""
BEDTIME_LONGEST = 60
"""The most ``--tones-until`` may keep the bedtime pacer going, minutes (§5.3 suggests a
cap)."""
