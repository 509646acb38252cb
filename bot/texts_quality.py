"""Worker-facing strings of the quality features, in French and English (see bot/texts.py)."""

QUALITY: dict[str, dict[str, str]] = {}
