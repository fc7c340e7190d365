from __future__ import annotations

from pathlib import Path

import pytest
from ocr.settings import Settings, SettingsError


def test_missing_index_path_is_named() -> None:
    with pytest.raises(SettingsError, match="OCR_INDEX_PATH"):
        Settings.from_env({})


def test_values_are_parsed_and_checked(tmp_path: Path) -> None:
    s = Settings.from_env({"OCR_INDEX_PATH": str(tmp_path / "x.db"), "OCR_MAX_PAGES": "7",
                           "OCR_LOW_CONFIDENCE": "0.9"})
    assert s.max_pages == 7 and s.low_confidence == 0.9
    with pytest.raises(SettingsError, match="OCR_MAX_PAGES"):
        Settings.from_env({"OCR_INDEX_PATH": str(tmp_path / "x.db"), "OCR_MAX_PAGES": "many"})
    with pytest.raises(SettingsError, match="OCR_THREADS"):
        Settings.from_env({"OCR_INDEX_PATH": str(tmp_path / "x.db"), "OCR_THREADS": "0"})
    with pytest.raises(SettingsError, match="does not exist"):
        Settings.from_env({"OCR_INDEX_PATH": "/nonexistent/dir/x.db"})
