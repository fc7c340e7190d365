"""courtcloud OCR: case-file pages to searchable text, offline, with PP-OCR models from wheels."""

__version__ = "0.1.0"
