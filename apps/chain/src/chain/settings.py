"""Configuration from the environment (``CHAIN_*``), validated at start.

A missing or malformed setting stops the service at once with a message that names
the environment variable and says what it should hold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

PREFIX = "CHAIN_"
NAME_PATTERN = r"^[a-z0-9][a-z0-9.\-]{0,62}$"


class SettingsError(RuntimeError):
    """The environment does not describe a usable chain node."""


class PinnedKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    algorithm: Literal["sm2", "ed25519"]
    public_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}([0-9a-f]{66})?$")]


class WitnessPeer(PinnedKey):
    """Another site's chain node that we ask to cosign our tree heads."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    url: HttpUrl


class WitnessedLog(PinnedKey):
    """Another site's log whose heads we cosign."""

    origin: Annotated[str, Field(pattern=NAME_PATTERN)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: Annotated[str, Field(min_length=1, description="libpq URL of the log's database")]
    node_name: Annotated[
        str, Field(pattern=NAME_PATTERN, description="this node's log origin and witness name")
    ]
    signing_algorithm: Literal["sm2", "ed25519"] = "sm2"
    signing_key_file: Path | None = None
    ephemeral_key: bool = False
    storage_number_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")] = "CCE"
    batch_max_size: Annotated[int, Field(ge=1, le=100_000)] = 2000
    batch_linger_ms: Annotated[float, Field(ge=0, le=1000)] = 2.0
    queue_max: Annotated[int, Field(ge=1)] = 100_000
    db_pool_min: Annotated[int, Field(ge=1, le=100)] = 2
    db_pool_max: Annotated[int, Field(ge=1, le=200)] = 10
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    max_data_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024 * 1024
    max_batch_items: Annotated[int, Field(ge=1, le=10_000)] = 1000
    # A body that stops arriving this long before its announced end gets 408 (witness
    # traffic between sites reaches a node directly, with no edge in front to time it out).
    body_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0
    witness_peers: tuple[WitnessPeer, ...] = ()
    witnessed_logs: tuple[WitnessedLog, ...] = ()
    cosign_interval_ms: Annotated[float, Field(ge=10)] = 500.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    workers: Annotated[int, Field(ge=1, le=16)] = 1

    @field_validator("witness_peers", "witnessed_logs", mode="before")
    @classmethod
    def _json_list(cls, v: object) -> object:
        if isinstance(v, str):
            return json.loads(v) if v.strip() else []
        return v

    def model_post_init(self, _ctx: object) -> None:
        if self.signing_key_file is None and not self.ephemeral_key:
            raise ValueError(
                "CHAIN_SIGNING_KEY_FILE is not set: give the path of the node's private key"
                " (64 hex digits), or set CHAIN_EPHEMERAL_KEY=true for a throw-away key"
                " (lab, tests)"
            )
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("CHAIN_DB_POOL_MIN is larger than CHAIN_DB_POOL_MAX")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
        missing = [
            PREFIX + n.upper()
            for n, f in cls.model_fields.items()
            if f.is_required() and n not in values
        ]
        if missing:
            raise SettingsError(
                f"missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
                " (see apps/chain/README.md, 'Settings')"
            )
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = err["loc"]
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.append(f"{PREFIX}{str(loc[0]).upper()}: {msg}" if loc else msg)
            raise SettingsError("invalid settings: " + "; ".join(problems)) from None
        except (ValueError, json.JSONDecodeError) as exc:
            raise SettingsError(str(exc)) from None
