"""courtcloud ASR: trial speech to timed, attributed text, offline."""

__version__ = "0.1.0"
