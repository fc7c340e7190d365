"""Asynchronous recognition jobs for long documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from .deps import check_case_id, document_name, read_upload, service
from .problems import Problem
from .recognitions import ERRORS

router = APIRouter(tags=["jobs"])


@router.post("/v1/jobs", status_code=202, summary="Queue a document for recognition",
             responses=ERRORS)
async def submit(
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="PNG, JPEG, multi-page TIFF or PDF")],
    case_id: Annotated[str | None, Form(description="index the pages under this case")] = None,
    document: Annotated[str | None, Form(description="name in the case index")] = None,
) -> dict[str, object]:
    svc = service(request)
    case = check_case_id(case_id)
    name = document_name(document, file)
    data = await read_upload(file, svc.settings.max_upload_bytes)
    job = await run_in_threadpool(svc.submit, data, name, case)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return {**job.summary(), "links": {"self": f"/v1/jobs/{job.id}",
                                       "result": f"/v1/jobs/{job.id}/result"}}


@router.get("/v1/jobs/{job_id}", summary="A job's state and progress",
            responses={404: {"description": "No such job"}})
def status(request: Request, job_id: str) -> dict[str, object]:
    job = service(request).jobs.get(job_id)
    if job is None:
        raise Problem(404, "job-not-found", f"No job {job_id}; jobs are kept until restart.")
    return job.summary()


@router.get("/v1/jobs/{job_id}/result", summary="The recognised pages of a finished job",
            responses={404: {"description": "No such job"},
                       409: {"description": "Not finished, or failed"}})
def result(request: Request, job_id: str) -> dict[str, object]:
    job = service(request).jobs.get(job_id)
    if job is None:
        raise Problem(404, "job-not-found", f"No job {job_id}; jobs are kept until restart.")
    if job.state == "failed":
        error = job.error or {}
        raise Problem(409, "job-failed", error.get("detail", "the job failed"),
                      reason=error.get("code"))
    if job.state != "succeeded":
        raise Problem(409, "job-not-finished",
                      f"The job is {job.state} ({job.pages_done}/{job.pages_total} pages); "
                      "poll its status and fetch the result when it has succeeded.")
    return {**job.summary(), "pages": job.pages,
            "text": "\n\f\n".join(p["text"] for p in job.pages)}
