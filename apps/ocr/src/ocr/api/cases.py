"""Full-text search over a case's recognised pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from .deps import check_case_id, service

router = APIRouter(tags=["search"])


@router.get("/v1/cases/{case_id}/search", summary="Find text in a case's pages")
def search(
    request: Request,
    case_id: str,
    q: Annotated[str, Query(min_length=1, max_length=200, description="text to find")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, object]:
    case = check_case_id(case_id) or case_id
    hits = service(request).index.search(case, q, limit)
    return {"case_id": case, "query": q, "hits": [
        {"document": h.document, "page": h.page, "snippet": h.snippet} for h in hits]}


@router.get("/v1/cases/{case_id}/pages", summary="The pages indexed for a case")
def pages(request: Request, case_id: str) -> dict[str, object]:
    case = check_case_id(case_id) or case_id
    return {"case_id": case, "pages": [
        {"document": d, "page": p} for d, p in service(request).index.pages(case)]}
