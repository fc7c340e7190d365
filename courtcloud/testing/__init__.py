"""Helpers that test suites of the courtcloud tree share (a real PostgreSQL, ...)."""
