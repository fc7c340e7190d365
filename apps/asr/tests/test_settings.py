from __future__ import annotations

from pathlib import Path

import pytest
from asr.domain.engine import EngineUnavailable, PocketSphinxEngine, load_engine
from asr.settings import Settings, SettingsError


def test_settings_from_env(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"ASR_MAX_SECONDS": "60", "ASR_DEFAULT_HOT_WORDS": "plaintiff, court"})
    assert s.max_seconds == 60 and s.hot_words == ["plaintiff", "court"]
    with pytest.raises(SettingsError, match="ASR_MAX_SECONDS"):
        Settings.from_env({"ASR_MAX_SECONDS": "long"})
    with pytest.raises(SettingsError, match="ASR_ENGINE"):
        Settings.from_env({"ASR_ENGINE": "whisper"})
    with pytest.raises(SettingsError, match="ASR_MODEL_DIR"):
        Settings.from_env({"ASR_MODEL_DIR": str(tmp_path / "missing")})


def test_engines_load_from_a_path_or_say_why_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EngineUnavailable, match="not a pocketsphinx model"):
        load_engine("pocketsphinx", tmp_path)
    with pytest.raises(EngineUnavailable, match="vosk"):
        load_engine("vosk", tmp_path)
    # the wheel's model, mounted from another path as a production model would be
    import pocketsphinx

    packaged = Path(pocketsphinx.get_model_path()) / "en-us"
    mount = tmp_path / "court-model"
    mount.mkdir()
    for name in ("en-us", "en-us.lm.bin", "cmudict-en-us.dict"):
        (mount / name).symlink_to(packaged / name)
    mounted = load_engine("pocketsphinx", mount)
    assert isinstance(mounted, PocketSphinxEngine)
    info = mounted.describe()
    assert info["language"] == "as mounted" and info["source"] == str(mount)
