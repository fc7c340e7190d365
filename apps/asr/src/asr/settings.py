"""Service configuration from the environment (`ASR_<NAME>`), validated at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    engine: str = "pocketsphinx"  # pocketsphinx | vosk | sherpa-onnx | funasr
    model_dir: Path | None = None  # a mounted model; default: the model in the wheel
    # court (court model mixed with the generic one) | court-only | generic | a model file;
    # empty: court with the wheel's model, generic (the mount's own) with ASR_MODEL_DIR
    language_model: str = ""
    max_upload_bytes: int = 200 * 1024 * 1024  # one upload
    max_seconds: float = 1800.0  # one uploaded recording; longer hearings are streamed
    stream_max_seconds: float = 4 * 3600.0  # one streaming session
    max_concurrent: int = 2  # recordings decoded at once (one core each)
    default_hot_words: str = ""  # comma-separated, added to every request's hot words
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"ASR_{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            raw = raw.strip()
            kind = str(f.type)
            try:
                if "Path" in kind:
                    values[f.name] = Path(raw)
                elif kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise SettingsError(f"{name} must be a {kind}, got {raw!r}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.engine not in ("pocketsphinx", "vosk", "sherpa-onnx", "funasr"):
            raise SettingsError("ASR_ENGINE must be pocketsphinx, vosk, sherpa-onnx or funasr")
        if self.model_dir is not None and not Path(self.model_dir).is_dir():
            raise SettingsError(f"ASR_MODEL_DIR: {self.model_dir} is not a directory")
        lm = self.language_model
        if lm and lm not in ("court", "court-only", "generic") and not Path(lm).is_file():
            raise SettingsError("ASR_LANGUAGE_MODEL must be court, court-only, generic or the "
                                f"path of a language model file; {lm!r} is none of these")
        for name in ("max_upload_bytes", "max_seconds", "stream_max_seconds", "max_concurrent"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"ASR_{name.upper()} must be positive")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("ASR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    @property
    def hot_words(self) -> list[str]:
        return [w.strip() for w in self.default_hot_words.split(",") if w.strip()]
