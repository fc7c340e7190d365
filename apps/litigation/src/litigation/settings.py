"""Configuration from the environment (``LITIGATION_*``), validated at start.

A missing or malformed setting stops the service at once with a message that names
the environment variable and says what it should hold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PREFIX = "LITIGATION_"


class SettingsError(RuntimeError):
    """The environment does not describe a usable litigation service."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # storage
    database_url: Annotated[
        str, Field(min_length=1, description="SQLAlchemy/libpq URL of the case database")
    ]
    db_pool_size: Annotated[int, Field(ge=1, le=100)] = 5
    db_max_overflow: Annotated[int, Field(ge=0, le=100)] = 5
    # On a read-only copy (the standby site), how often to look for a writable leader.
    db_probe_interval_s: Annotated[float, Field(ge=0.5, le=300)] = 5.0
    s3_endpoint_url: Annotated[str, Field(min_length=1, description="S3 endpoint (RGW)")]
    s3_bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    s3_region: str = "us-east-1"
    s3_access_key_file: Path | None = None
    s3_secret_key_file: Path | None = None
    # the chain service that registers evidence digests
    chain_url: Annotated[str, Field(min_length=1, description="base URL of apps/chain")]
    chain_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    # token verification (OIDC-compatible JWT)
    jwks_file: Path | None = None
    jwks_json: str | None = None
    token_issuer: Annotated[str, Field(min_length=1)]
    token_audience: Annotated[str, Field(min_length=1)]
    token_algorithms: tuple[Literal["RS256", "ES256", "EdDSA", "PS256"], ...] = (
        "RS256",
        "ES256",
        "EdDSA",
    )
    token_leeway_s: Annotated[int, Field(ge=0, le=300)] = 30
    roles_claim: Annotated[str, Field(min_length=1)] = "roles"
    # Court staff (judges, clerks) act only in their own court: their tokens must carry this
    # value in the court claim. One identity provider may serve several courts.
    token_court: Annotated[str, Field(min_length=1, max_length=100)]
    court_claim: Annotated[str, Field(min_length=1)] = "court"
    # The court's roster of judges (subjects). Empty: a judge is an account that has signed
    # in here with the judge role (its token scoped to this court).
    judges: tuple[Annotated[str, Field(min_length=1, max_length=255)], ...] = ()
    # the court
    court_name: Annotated[str, Field(min_length=1, max_length=100)] = "北京互联网法院"
    court_code: Annotated[str, Field(min_length=1, max_length=20)] = "京0491"
    timezone: Annotated[str, Field(min_length=1, description="the court's time zone")] = (
        "Asia/Shanghai"
    )
    # input limits
    max_body_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024
    max_upload_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024
    # serving
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    workers: Annotated[int, Field(ge=1, le=16)] = 1

    def model_post_init(self, _ctx: object) -> None:
        if (self.jwks_file is None) == (self.jwks_json is None):
            raise ValueError(
                "set exactly one of LITIGATION_JWKS_FILE (path of the identity provider's"
                " JWKS document) or LITIGATION_JWKS_JSON (the JWKS document itself)"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"LITIGATION_TIMEZONE: unknown time zone {self.timezone!r} (e.g. Asia/Shanghai)"
            ) from None
        if (self.s3_access_key_file is None) != (self.s3_secret_key_file is None):
            raise ValueError(
                "set both LITIGATION_S3_ACCESS_KEY_FILE and LITIGATION_S3_SECRET_KEY_FILE,"
                " or neither (then boto3's own environment is used)"
            )

    def jwks(self) -> dict[str, object]:
        """The JWKS document, parsed (raises ValueError naming the setting)."""
        try:
            text = (
                self.jwks_file.read_text(encoding="utf-8")
                if self.jwks_file is not None
                else str(self.jwks_json)
            )
            doc = json.loads(text)
        except (OSError, json.JSONDecodeError) as exc:
            which = "LITIGATION_JWKS_FILE" if self.jwks_file else "LITIGATION_JWKS_JSON"
            raise ValueError(f"{which}: not a readable JSON document ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
            raise ValueError("the JWKS document needs a non-empty 'keys' list")
        return doc

    def s3_credentials(self) -> tuple[str, str] | None:
        if self.s3_access_key_file is None or self.s3_secret_key_file is None:
            return None
        return (
            self.s3_access_key_file.read_text(encoding="utf-8").strip(),
            self.s3_secret_key_file.read_text(encoding="utf-8").strip(),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = PREFIX + name.upper()
            if key in env:
                raw = env[key]
                values[name] = raw.split(",") if name == "token_algorithms" else raw
        missing = [
            PREFIX + n.upper()
            for n, f in cls.model_fields.items()
            if f.is_required() and n not in values
        ]
        if missing:
            raise SettingsError(
                f"missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
                " (see apps/litigation/README.md, 'Settings')"
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
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
