"""Full-text search over a case's recognised pages: SQLite FTS5 with the trigram tokenizer.

The trigram tokenizer matches any substring of three or more characters, which suits
Chinese (no spaces between words) and English alike. Queries shorter than three
characters (a two-character Chinese word such as 原告) fall back to a LIKE scan of the
case's pages, which is fast at the size of one case.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
MIGRATIONS = {
    1: [
        "CREATE VIRTUAL TABLE page_text USING fts5("
        "case_id UNINDEXED, document UNINDEXED, page UNINDEXED, text, tokenize='trigram')",
    ],
}


@dataclass(frozen=True)
class SearchHit:
    case_id: str
    document: str
    page: int
    snippet: str


class CaseIndex:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._memory: sqlite3.Connection | None = None
        if self.path == ":memory:":
            self._memory = sqlite3.connect(":memory:", check_same_thread=False)
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        if self._memory is not None:
            return self._memory
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def _migrate(self) -> None:
        with self._lock:
            conn = self._connect()
            try:
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[version]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version}")
                conn.commit()
            finally:
                self._close(conn)

    def _close(self, conn: sqlite3.Connection) -> None:
        if conn is not self._memory:
            conn.close()

    def ping(self) -> None:
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("SELECT count(*) FROM page_text WHERE case_id = ''").fetchone()
            finally:
                self._close(conn)

    def add_document(self, case_id: str, document: str, pages: Iterable[tuple[int, str]]) -> int:
        """Index (or re-index) a document's pages; returns how many were stored."""
        rows = [(case_id, document, page, text) for page, text in pages]
        with self._lock:
            conn = self._connect()
            try:
                conn.execute(
                    "DELETE FROM page_text WHERE case_id = ? AND document = ?",
                    (case_id, document),
                )
                conn.executemany(
                    "INSERT INTO page_text (case_id, document, page, text) VALUES (?, ?, ?, ?)",
                    rows,
                )
                conn.commit()
            finally:
                self._close(conn)
        return len(rows)

    def search(self, case_id: str, query: str, limit: int = 20) -> list[SearchHit]:
        query = " ".join(query.split())
        if not query:
            return []
        with self._lock:
            conn = self._connect()
            try:
                if len(query) >= 3:
                    phrase = '"' + query.replace('"', '""') + '"'
                    rows = conn.execute(
                        "SELECT case_id, document, page, "
                        "snippet(page_text, 3, '[', ']', '…', 12) FROM page_text "
                        "WHERE page_text MATCH ? AND case_id = ? ORDER BY rank LIMIT ?",
                        (f"text : {phrase}", case_id, limit),
                    ).fetchall()
                    return [SearchHit(r[0], r[1], int(r[2]), r[3]) for r in rows]
                pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace(
                    "_", "\\_") + "%"
                rows = conn.execute(
                    "SELECT case_id, document, page, text FROM page_text "
                    "WHERE case_id = ? AND text LIKE ? ESCAPE '\\' "
                    "ORDER BY document, page LIMIT ?",
                    (case_id, pattern, limit),
                ).fetchall()
                return [SearchHit(r[0], r[1], int(r[2]), _snippet(r[3], query)) for r in rows]
            finally:
                self._close(conn)

    def pages(self, case_id: str) -> list[tuple[str, int]]:
        with self._lock:
            conn = self._connect()
            try:
                rows = conn.execute(
                    "SELECT document, page FROM page_text WHERE case_id = ? "
                    "ORDER BY document, page", (case_id,),
                ).fetchall()
                return [(r[0], int(r[1])) for r in rows]
            finally:
                self._close(conn)


def _snippet(text: str, query: str, width: int = 24) -> str:
    at = text.find(query)
    if at < 0:
        return text[: 2 * width]
    start, end = max(0, at - width), at + len(query) + width
    return ("…" if start else "") + text[start:at] + "[" + query + "]" + \
        text[at + len(query):end] + ("…" if end < len(text) else "")
