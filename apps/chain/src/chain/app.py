"""Application factory: wiring only (settings, pool, signer, integrator, routers)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chain import __version__
from chain.api import evidence, health, witness
from chain.api import log as log_api
from chain.cosigner import Cosigner
from chain.domain.merkle import TreeHasher
from chain.domain.signing import Signer
from chain.integrator import Integrator
from chain.observability import Metrics, configure_logging
from chain.problems import PROBLEM_JSON, BodyTimeout, Problem
from chain.service import ChainService, IntegrityFailure
from chain.settings import Settings, SettingsError
from chain.store.db import make_pool, migrate
from chain.verifier import LogKey

log = logging.getLogger("chain.app")


def problem_response(
    p: Problem, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        p.body(instance), status_code=p.status, media_type=PROBLEM_JSON, headers=headers
    )


class Guard:
    """ASGI middleware: body size and content-type limits, request metrics and logs.

    Runs before the body is read, so an oversized or mistyped body is refused without
    being parsed and nothing is written.
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, metrics: Metrics, access_log: bool
    ) -> None:
        self.app, self.settings, self.metrics, self.access_log = app, settings, metrics, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method, path = scope["method"], scope["path"]
        status = 500
        data_upload = path.endswith("/verify-data")
        limit = self.settings.max_data_bytes if data_upload else self.settings.max_body_bytes

        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            refusal = self._refuse(scope, method, limit, data_upload)
            if refusal is not None:
                await problem_response(refusal, path)(scope, receive, send_wrapper)
                return
            timed = _timed_body(receive, self.settings.body_timeout_seconds)
            if method in ("POST", "PUT", "PATCH") and (not data_upload or not _has_length(scope)):
                # Read the body here (JSON bodies are small; a chunked upload is counted as it
                # comes): an oversized one is refused before the app sees it, JSON is checked
                # to RFC 8259's letter, and then the body is replayed.
                body, more = [], True
                received = 0
                while more:
                    message = await timed()
                    if message["type"] != "http.request":
                        return
                    received += len(message.get("body", b""))
                    if received > limit:
                        await problem_response(_too_large(limit), path)(
                            scope, receive, send_wrapper
                        )
                        return
                    body.append(message.get("body", b""))
                    more = message.get("more_body", False)
                whole = b"".join(body)
                bad = None if data_upload else strict_json_problem(whole)
                if bad is not None:
                    await problem_response(bad, path)(scope, receive, send_wrapper)
                    return
                replay = [{"type": "http.request", "body": whole, "more_body": False}]

                async def replay_receive() -> Message:
                    return replay.pop() if replay else await receive()

                await self.app(scope, replay_receive, send_wrapper)
            else:
                await self.app(scope, timed, send_wrapper)
        except BodyTimeout as exc:
            if not started:
                await problem_response(exc, path)(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - start
            self.metrics.http_requests.labels(method, label, str(status)).inc()
            self.metrics.http_latency.labels(method, label).observe(elapsed)
            if self.access_log:
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )

    @staticmethod
    def _refuse(scope: Scope, method: str, limit: int, data_upload: bool) -> Problem | None:
        if method not in ("POST", "PUT", "PATCH"):
            return None
        length, ctype = None, ""
        for k, val in scope["headers"]:
            name = k.lower()
            if name == b"content-length":
                length = val.decode("latin-1")
            elif name == b"content-type":
                ctype, _, params = val.decode("latin-1").lower().partition(";")
                ctype = ctype.strip()
                charset = params.replace(" ", "").partition("charset=")[2].split(";")[0]
                if charset.strip('"') not in ("", "utf-8"):
                    return Problem(
                        415,
                        "request.unsupported_media_type",
                        "Unsupported media type",
                        f"send JSON in UTF-8 (RFC 8259 8.1); got charset {charset}",
                    )
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _too_large(limit)
        want = "application/octet-stream" if data_upload else "application/json"
        if ctype != want:
            return Problem(
                415,
                "request.unsupported_media_type",
                "Unsupported media type",
                f"send the body as {want} (got {ctype or 'no content type'})",
            )
        return None


def _timed_body(receive: Receive, seconds: float) -> Receive:
    """``receive`` bounded in time while the body is still coming: a client that announces
    more than it sends must not hold a connection (and a worker's slot) for ever. After the
    body, ``receive`` waits untimed (for a disconnect, during a long response)."""
    done = False

    async def timed() -> Message:
        nonlocal done
        if done:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), seconds)
        except TimeoutError:
            raise BodyTimeout(seconds) from None
        done = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return timed


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, val in pairs:
        if k in out:
            raise ValueError(f"the member {k!r} appears twice in one object")
        out[k] = val
    return out


def strict_json_problem(body: bytes) -> Problem | None:
    """RFC 8259 JSON in UTF-8 without a byte-order mark (8.1), no NaN or Infinity, no
    duplicate member names: what json.loads alone would let through (it guesses UTF-16 and
    skips a BOM) is refused, naming why."""
    if body.startswith(b"\xef\xbb\xbf"):
        why = "it starts with a byte-order mark: send UTF-8 without one (RFC 8259 8.1)"
    else:
        try:
            json.loads(body.decode("utf-8"), parse_constant=_no_constant,
                       object_pairs_hook=_no_duplicates)
            return None
        except UnicodeDecodeError as exc:
            why = f"it is not UTF-8 (byte {exc.start}): JSON must be sent in UTF-8 (RFC 8259 8.1)"
        except ValueError as exc:
            why = str(exc)
    return Problem(
        422,
        "request.invalid",
        "Invalid request",
        f"body: the body is not valid JSON: {why}",
        errors=[{"field": "body", "reason": f"the body is not valid JSON: {why}"}],
    )


def _has_length(scope: Scope) -> bool:
    return any(k.lower() == b"content-length" for k, _ in scope["headers"])


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "request.too_large",
        "Content too large",
        f"the body exceeds {limit} bytes",
        limit=limit,
    )


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        field = ".".join(loc) or "body"
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if (
            e.get("type") == "string_pattern_mismatch"
            and loc
            and loc[-1] in ("digest", "root_hash")
        ):
            msg = "must be 64 hexadecimal digits (0-9, a-f): an SM3 or SHA-256 digest"
        if e.get("type") == "string_pattern_mismatch" and "x00" in str(
            e.get("ctx", {}).get("pattern")
        ):
            msg = "must not contain control characters (newline, tab, NUL, ...)"
        if e.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        errors.append({"field": field, "reason": msg})
    detail = "; ".join(f"{x['field']}: {x['reason']}" for x in errors[:5])
    return Problem(422, "request.invalid", "Invalid request", detail, errors=errors)


def create_app(
    settings: Settings,
    *,
    http_client: httpx.AsyncClient | None = None,
    signer: Signer | None = None,
    access_log: bool = True,
) -> FastAPI:
    """Build the app. ``signer`` and ``http_client`` may be injected (tests, lab)."""
    metrics = Metrics()
    hasher = TreeHasher("sm3")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node_signer = signer or _load_signer(settings)
        pool = make_pool(settings.database_url, settings.db_pool_min, settings.db_pool_max)
        await pool.open(wait=True, timeout=30)
        client = http_client or httpx.AsyncClient(timeout=5)
        try:
            async with pool.connection() as conn:
                applied = await migrate(conn)
            integrator = Integrator(
                pool,
                node_signer,
                settings.node_name,
                hasher=hasher,
                metrics=metrics,
                storage_number_prefix=settings.storage_number_prefix,
                batch_max_size=settings.batch_max_size,
                batch_linger_ms=settings.batch_linger_ms,
                queue_max=settings.queue_max,
                witness_keys={p.name: LogKey(p.algorithm, p.public_key)
                              for p in settings.witness_peers},
            )
            await integrator.start()
            svc = ChainService(settings, pool, node_signer, metrics, integrator, hasher)
            await svc.load_alarm_metrics()
            cosigner = Cosigner(svc, client)
            cosigner.start()
            app.state.service, app.state.cosigner = svc, cosigner
            log.info(
                "chain node started",
                extra={
                    "node": settings.node_name,
                    "algorithm": node_signer.algorithm,
                    "key_id": node_signer.key_id,
                    "tree_size": integrator.tree.size,
                    "migrations_applied": applied,
                    "witness_peers": [p.name for p in settings.witness_peers],
                },
            )
            try:
                yield
            finally:
                await cosigner.stop()
                await integrator.stop()
                app.state.service = None
        finally:
            if http_client is None:
                await client.aclose()
            await pool.close()

    app = FastAPI(
        title="courtcloud chain",
        version=__version__,
        description=(
            "Evidence-storage transparency log (RFC 9162 style): SM3 Merkle tree, SM2 or Ed25519"
            " signed tree heads, inclusion and consistency proofs, cross-site witness cosignatures."
        ),
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.service = None
    app.state.settings = settings

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc), request.url.path)

    @app.exception_handler(IntegrityFailure)
    async def _integrity(request: Request, exc: IntegrityFailure) -> JSONResponse:
        metrics.integrity_failures.labels(exc.reason).inc()
        return problem_response(
            Problem(500, f"chain.{exc.reason}", "Integrity failure", exc.detail), request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body at all
            return problem_response(
                Problem(
                    422,
                    "request.invalid",
                    "Invalid request",
                    "the body is not valid JSON text in UTF-8",
                    errors=[{"field": "body", "reason": "not valid JSON text in UTF-8"}],
                ),
                request.url.path,
            )
        codes = {404: "request.no_such_route", 405: "request.method_not_allowed"}
        p = Problem(
            exc.status_code,
            codes.get(exc.status_code, f"http.{exc.status_code}"),
            str(exc.detail),
            f"{request.method} {request.url.path}: {exc.detail}",
        )
        return problem_response(p, request.url.path, headers=getattr(exc, "headers", None))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_openapi(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(evidence.router)
    app.include_router(log_api.router)
    app.include_router(witness.router)
    app.include_router(health.router)
    app.add_middleware(Guard, settings=settings, metrics=metrics, access_log=access_log)
    return app


def _problem_openapi(spec: dict[str, Any]) -> dict[str, Any]:
    """Every error response is documented as application/problem+json with ProblemOut;
    every operation may get 422 (and a POST also 413 and 415)."""
    ref = {"$ref": "#/components/schemas/ProblemOut"}
    for item in spec.get("paths", {}).values():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            wanted = {"422"} if op.get("parameters") or method == "post" else set()
            if method == "post":
                wanted |= {"413", "415"}
            for status in wanted:
                responses.setdefault(status, {"description": "problem"})
            for status, resp in responses.items():
                if status.isdigit() and int(status) >= 400:
                    resp["content"] = {"application/problem+json": {"schema": ref}}
    schemas = spec.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return spec


def _load_signer(settings: Settings) -> Signer:
    if settings.signing_key_file is not None:
        return Signer.from_file(settings.signing_algorithm, settings.signing_key_file)
    log.warning(
        "using a throw-away signing key (CHAIN_EPHEMERAL_KEY): heads will not verify"
        " after a restart; set CHAIN_SIGNING_KEY_FILE in production"
    )
    return Signer.generate(settings.signing_algorithm)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``courtcloud-chain`` (settings from CHAIN_* environment variables).

    ``courtcloud-chain keygen [sm2|ed25519]`` prints a new private key and its public key.
    """
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["keygen"]:
        s = Signer.generate(args[1] if len(args) > 1 else "sm2")
        print(
            json.dumps(
                {
                    "algorithm": s.algorithm,
                    "private_key": s.private_hex(),
                    "public_key": s.public_key.hex(),
                    "key_id": s.key_id,
                }
            )
        )
        return 0
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if settings.signing_key_file is not None:
            _load_signer(settings)  # fail fast on a bad key file
    except (SettingsError, ValueError) as exc:
        print(f"courtcloud-chain: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }
    if settings.workers > 1:
        # Each worker process builds its app from the same environment; they share the
        # database, and the integration lock keeps one tree.
        uvicorn.run("chain.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def app_from_env() -> FastAPI:
    """App factory for uvicorn worker processes (``CHAIN_WORKERS`` > 1)."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)


if __name__ == "__main__":
    raise SystemExit(main())
