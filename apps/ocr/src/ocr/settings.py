"""Service configuration from the environment, validated at start.

Every setting is `OCR_<NAME>`; a bad or missing value stops the service at start with a
message naming the variable and what it should hold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    index_path: Path  # OCR_INDEX_PATH: the SQLite full-text index of case pages (required)
    max_upload_bytes: int = 50 * 1024 * 1024  # one upload; larger files get 413
    max_pages: int = 500  # pages in one document (jobs)
    sync_max_pages: int = 1  # pages the synchronous endpoint takes; more must go as a job
    max_pixels: int = 60_000_000  # per page image: an A3 scan at 600 dpi is about 70 M
    pdf_dpi: int = 150  # PDF pages are rendered at this resolution
    threads: int = 2  # onnxruntime threads per model
    low_confidence: float = 0.80  # lines below this mean confidence are flagged
    job_workers: int = 1  # documents recognised at once in the background
    max_queued_jobs: int = 20  # jobs waiting or running; more get 503 until some finish
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"OCR_{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                if f.name == "index_path":
                    raise SettingsError(
                        f"{name} is not set: give the path of the SQLite search index "
                        "(its directory must be writable), e.g. /var/lib/ocr/index.sqlite3"
                    )
                continue
            values[f.name] = _parse(name, f.type, raw.strip())
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        for name in ("max_upload_bytes", "max_pages", "sync_max_pages", "max_pixels",
                     "pdf_dpi", "threads", "job_workers", "max_queued_jobs"):
            if getattr(self, name) < 1:
                raise SettingsError(f"OCR_{name.upper()} must be at least 1")
        if not 0.0 <= self.low_confidence <= 1.0:
            raise SettingsError("OCR_LOW_CONFIDENCE must be between 0 and 1")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("OCR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        parent = Path(self.index_path).parent
        if str(self.index_path) != ":memory:" and not parent.is_dir():
            raise SettingsError(f"OCR_INDEX_PATH: directory {parent} does not exist")


def _parse(name: str, kind: object, raw: str) -> object:
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a {kind}, got {raw!r}") from None
    return raw
