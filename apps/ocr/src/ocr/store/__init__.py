"""Database access: the full-text index of case pages."""
