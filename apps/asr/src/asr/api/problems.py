"""RFC 9457 problem details: every error reaches the client with a stable code and a reason."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import InputRejected

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request", 404: "Not found", 405: "Method not allowed", 409: "Conflict",
    413: "Content too large", 415: "Unsupported media type", 422: "Unprocessable content",
    429: "Too many requests", 500: "Internal error", 503: "Service unavailable",
}


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extensions = status, code, detail, extensions


def problem_response(request: Request, status: int, code: str, detail: str,
                     **extensions: Any) -> JSONResponse:
    body = {
        "type": f"urn:courtcloud:problem:asr:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, **exc.extensions)

    @app.exception_handler(InputRejected)
    async def _rejected(request: Request, exc: InputRejected) -> JSONResponse:
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.rejected.labels(code=exc.code).inc()
        return problem_response(request, exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
             "reason": e.get("msg", "")}
            for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors) or "the request"
        return problem_response(request, 422, "invalid-request",
                                f"Check {fields}: {errors[0]['reason'] if errors else ''}",
                                errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("asr").exception("unhandled error on %s", request.url.path)
        return problem_response(request, 500, "internal-error",
                                "The service failed on this request; it has been logged.")
