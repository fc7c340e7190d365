"""Test helpers for the litigation suite: servers on loopback threads, a token issuer,
a local S3 endpoint, and callers with roles."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import uvicorn
from courtcloud.testing.postgres import free_loopback_port
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://idp.court.test/realms/courtcloud"
AUDIENCE = "courtcloud-litigation"
COURT = "bjinternet"  # the court claim's value for this court


class Served:
    """An ASGI app served by uvicorn on a loopback port, in a thread of its own."""

    def __init__(self, app: Any, name: str) -> None:
        self.app, self.name = app, name
        self.port = free_loopback_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Issuer:
    """A stand-in OpenID provider: an EC P-256 key made at test time, and its JWKS."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="ES256")
        return {"keys": [jwk]}

    def mint(
        self,
        sub: str,
        roles: list[str],
        name: str | None = None,
        *,
        ttl: int = 600,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": now,
            "nbf": now - 5,
            "exp": now + ttl,
            "roles": roles,
            "name": name or sub,
            "court": COURT,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})


class Caller:
    """An HTTP client that acts as one account (token minted per caller)."""

    def __init__(self, base_url: str, issuer: Issuer, sub: str, roles: list[str], name: str):
        self.sub, self.roles, self.name = sub, roles, name
        self.token = issuer.mint(sub, roles, name)
        self.http = httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {self.token}"}
        )

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.http.get(url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.http.post(url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.http.put(url, **kw)

    def upload(
        self,
        case_id: str,
        data: bytes,
        content_type: str = "application/pdf",
        *,
        purpose: str = "evidence",
        title: str = "合同",
        filename: str = "contract.pdf",
    ) -> httpx.Response:
        return self.http.post(
            f"/v1/cases/{case_id}/{purpose}",
            params={"title": title, "filename": filename},
            content=data,
            headers={"Content-Type": content_type},
        )


def pdf(text: str = "evidence") -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n" + uuid.uuid4().hex.encode() + b"\n%%EOF\n"


def filing(
    plaintiff_sub: str | None = None,
    *,
    plaintiff: str = "张三",
    plaintiff_id: str | None = None,
    defendant: str = "北京某网络科技有限公司",
    defendant_id: str | None = None,
    defendant_sub: str | None = None,
    lawyer_sub: str | None = None,
    amount_fen: int = 12_345_600,
    cause: str = "网络购物合同纠纷",
) -> dict[str, Any]:
    return {
        "cause": cause,
        "facts": "原告于网络平台购买商品。被告未按约定发货。",
        "parties": [
            {
                "side": "plaintiff",
                "name": plaintiff,
                "id_number": plaintiff_id or ("11010119900101" + uuid.uuid4().hex[:4].upper()),
                "address": "北京市海淀区",
                "phone": "+86 138 0000 0000",
                "email": "plaintiff@example.test",
                "account_subject": plaintiff_sub,
                "lawyer_subject": lawyer_sub,
                "lawyer_name": "王律师" if lawyer_sub else None,
            },
            {
                "side": "defendant",
                "kind": "organisation",
                "name": defendant,
                "id_number": defendant_id or ("91110108" + uuid.uuid4().hex[:10].upper()),
                "address": "北京市朝阳区",
                "phone": "010-12345678",
                "account_subject": defendant_sub,
            },
        ],
        "claims": [
            {"text": "判令被告退还货款", "amount_fen": amount_fen},
            {"text": "判令被告承担本案诉讼费用"},
        ],
    }


def docx_text(data: bytes) -> str:
    """All the text of a .docx: paragraphs and table cells."""
    import docx

    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def wait_for(pred: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
