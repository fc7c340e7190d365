"""Application factory: wiring only (settings, database, storage, chain, routers)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from litigation import __version__
from litigation.api import (
    accounts,
    audit_trail,
    cases,
    documents,
    files,
    health,
    hearings,
    mediation,
    service_of_documents,
)
from litigation.auth import TokenVerifier
from litigation.blobs import Blobs
from litigation.chain_client import ChainClient
from litigation.domain.documents import load_templates
from litigation.domain.uploads import ACCEPTED_TYPES
from litigation.observability import Metrics, configure_logging
from litigation.problems import PROBLEM_JSON, Problem
from litigation.service import Services
from litigation.settings import Settings, SettingsError
from litigation.store.db import CaseDatabase

log = logging.getLogger("litigation.app")
UPLOAD_SUFFIXES = ("/evidence", "/attachments")


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
        upload = method == "POST" and path.endswith(UPLOAD_SUFFIXES)
        limit = self.settings.max_upload_bytes if upload else self.settings.max_body_bytes

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if method not in READS and _read_only(scope):
                retry = str(max(1, round(self.settings.db_probe_interval_s)))
                await problem_response(_READ_ONLY, path, {"Retry-After": retry})(
                    scope, receive, send_wrapper
                )
                return
            refusal = self._refuse(scope, method, limit, upload)
            if refusal is not None:
                await problem_response(refusal, path)(scope, receive, send_wrapper)
                return
            if method in ("POST", "PUT", "PATCH") and not _has(scope, b"content-length"):
                # Chunked body: count it as it arrives and stop past the limit.
                received = 0

                async def counting_receive() -> Message:
                    nonlocal received
                    message = await receive()
                    if message["type"] == "http.request":
                        received += len(message.get("body", b""))
                        if received > limit:
                            raise _too_large(limit)
                    return message

                try:
                    await self.app(scope, counting_receive, send_wrapper)
                except Problem as p:
                    await problem_response(p, path)(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
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
    def _refuse(scope: Scope, method: str, limit: int, upload: bool) -> Problem | None:
        if method not in ("POST", "PUT", "PATCH"):
            return None
        length, ctype = None, ""
        for k, val in scope["headers"]:
            name = k.lower()
            if name == b"content-length":
                length = val.decode("latin-1")
            elif name == b"content-type":
                ctype = val.decode("latin-1").split(";")[0].strip().lower()
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _too_large(limit)
        if not ctype and length in (None, "0") and not _has(scope, b"transfer-encoding"):
            return None  # no body at all
        wanted = ACCEPTED_TYPES if upload else ("application/json",)
        if ctype not in wanted:
            return Problem(
                415,
                "request.unsupported_media_type",
                "Unsupported media type",
                f"send the body as {' or '.join(wanted)} (got {ctype or 'no content type'})",
                accepted=list(wanted),
            )
        return None


READS = ("GET", "HEAD", "OPTIONS")
_READ_ONLY = Problem(
    503,
    "site.read_only",
    "Service unavailable",
    "this site's case database is a read-only copy (the standby site): cases can be read"
    " here but not changed; nothing was changed. Use the court's main entry, or retry once"
    " the sites have switched",
)


def _read_only(scope: Scope) -> bool:
    """Whether the app behind this middleware serves from a read-only copy right now."""
    app = scope.get("app")
    svc = getattr(getattr(app, "state", None), "services", None)
    return bool(svc is not None and svc.read_only)


def _has(scope: Scope, header: bytes) -> bool:
    return any(k.lower() == header for k, _ in scope["headers"])


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
        if e.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        if e.get("type") == "string_pattern_mismatch" and "x00" in str(
            e.get("ctx", {}).get("pattern")
        ):
            msg = "must not contain control characters (newline, tab, NUL, ...) or slashes"
        errors.append({"field": field, "reason": msg})
    detail = "; ".join(f"{x['field']}: {x['reason']}" for x in errors[:5])
    return Problem(422, "request.invalid", "Invalid request", detail, errors=errors)


def build_services(settings: Settings, metrics: Metrics) -> Services:
    return Services(
        settings=settings,
        database=CaseDatabase(
            settings.database_url, settings.db_pool_size, settings.db_max_overflow
        ),
        blobs=Blobs(
            settings.s3_endpoint_url,
            settings.s3_bucket,
            region=settings.s3_region,
            credentials=settings.s3_credentials(),
        ),
        chain=ChainClient(settings.chain_url, settings.chain_timeout_s, metrics),
        verifier=TokenVerifier(
            settings.jwks(),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            algorithms=settings.token_algorithms,
            court=settings.token_court,
            leeway_s=settings.token_leeway_s,
            roles_claim=settings.roles_claim,
            court_claim=settings.court_claim,
        ),
        templates=load_templates(),
        metrics=metrics,
    )


async def _look_for_leader(svc: Services) -> None:
    """While the case database is a read-only copy, look for a writable leader (the
    standby cluster promoted by a switch of sites) and take writes once there is one."""
    while svc.read_only:
        await asyncio.sleep(svc.settings.db_probe_interval_s)
        await run_in_threadpool(svc.database.probe)


def create_app(settings: Settings, *, access_log: bool = True) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = build_services(settings, metrics)
        prober: asyncio.Task[None] | None = None
        try:
            before, after = svc.database.open()
            app.state.services = svc
            if svc.read_only:
                prober = asyncio.create_task(_look_for_leader(svc))
            log.info(
                "litigation service started",
                extra={
                    "court": settings.court_name,
                    "schema_from": before,
                    "schema": after,
                    "read_only": svc.read_only,
                    "bucket": settings.s3_bucket,
                    "templates": sorted(svc.templates),
                },
            )
            yield
        finally:
            if prober is not None:
                prober.cancel()
            app.state.services = None
            svc.chain.close()
            svc.database.dispose()

    app = FastAPI(
        title="courtcloud litigation",
        version=__version__,
        description=(
            "Electronic litigation: filing with parties, claims and attachments; fees and"
            " payments; acceptance or rejection; evidence in object storage with SM3 digests"
            " on the evidence chain; electronic service with receipts; mediation; hearings"
            " with conflict checks; documents from JSON templates; an audit trail."
        ),
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.services = None
    app.state.settings = settings

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else None
        )
        return problem_response(exc, request.url.path, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc), request.url.path)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error", extra={"path": request.url.path, "error": str(exc.orig)})
        return problem_response(
            Problem(
                409,
                "request.concurrent_change",
                "Conflict",
                "another request changed the same record at the same time; read it and retry",
            ),
            request.url.path,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable", extra={"path": request.url.path, "error": str(exc)})
        return problem_response(
            Problem(
                503,
                "database.unavailable",
                "Service unavailable",
                "the case database is not reachable; nothing was changed, retry",
            ),
            request.url.path,
            {"Retry-After": "5"},
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
    for module in (
        cases,
        files,
        documents,
        service_of_documents,
        mediation,
        hearings,
        audit_trail,
        accounts,
        health,
    ):
        app.include_router(module.router)
    app.add_middleware(Guard, settings=settings, metrics=metrics, access_log=access_log)
    return app


def _problem_openapi(spec: dict[str, Any]) -> dict[str, Any]:
    """Every error response is documented as application/problem+json with ProblemOut;
    every operation may get 422, an authenticated one 401, and a POST/PUT 413 and 415."""
    ref = {"$ref": "#/components/schemas/ProblemOut"}
    for item in spec.get("paths", {}).values():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            wanted = {"422"} if op.get("parameters") or method in ("post", "put") else set()
            if op.get("security"):
                wanted |= {"401", "403"}
            if method in ("post", "put"):
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


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``courtcloud-litigation`` (settings from LITIGATION_* variables)."""
    del argv
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        settings.jwks()  # fail fast on an unreadable key set
        load_templates()  # and on a malformed template
    except (SettingsError, ValueError) as exc:
        print(f"courtcloud-litigation: {exc}", file=sys.stderr)
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
        uvicorn.run("litigation.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def app_from_env() -> FastAPI:
    """App factory for uvicorn worker processes (``LITIGATION_WORKERS`` > 1)."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)


if __name__ == "__main__":
    raise SystemExit(main())
