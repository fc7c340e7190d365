"""Bad input gets a clear 4xx problem detail; nothing is half-written; nothing leaks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from courtcloud.testing.postgres import free_loopback_port
from litigation_testkit import Served, filing, pdf

from litigation.app import create_app


def problem(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    if code:
        assert body["code"] == code, body
    for leak in ("Traceback", "sqlalchemy", "psycopg", "botocore", "postgresql://"):
        assert leak not in r.text
    return body


@pytest.fixture
def case(people) -> dict:
    p = people["plaintiff"]
    return p.post("/v1/cases", json=filing(p.sub)).json()


def snapshot(court, case_id: str) -> tuple:
    return (
        court.sql("SELECT count(*) FROM files WHERE case_id = :c", c=case_id)[0][0],
        court.sql("SELECT count(*) FROM audit_events WHERE case_id = :c", c=case_id)[0][0],
        tuple(court.s3.keys(f"cases/{case_id}/")),
    )


def test_uploads_refused_before_anything_is_stored(court, people, case) -> None:
    p = people["plaintiff"]
    cid = case["id"]
    before = snapshot(court, cid)
    limit = court.settings.max_upload_bytes
    big = b"%PDF-" + b"0" * limit
    problem(p.upload(cid, big), 413, "request.too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b"%PDF-1.4\n"
        for _ in range(limit // 65536 + 2):
            yield b"0" * 65536

    r = p.http.post(
        f"/v1/cases/{cid}/evidence",
        params={"title": "t", "filename": "f.pdf"},
        content=chunks(),
        headers={"Content-Type": "application/pdf"},
    )
    problem(r, 413, "request.too_large")
    body = problem(
        p.upload(cid, b"MZ\x90\x00", "application/x-msdownload"),
        415,
        "request.unsupported_media_type",
    )
    assert "application/pdf" in body["accepted"]
    problem(p.upload(cid, b'{"a": 1}', "application/json"), 415)
    problem(
        p.upload(cid, b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/pdf"),
        422,
        "upload.content_mismatch",
    )
    problem(p.upload(cid, b"%PDF-1.4", "image/png"), 422, "upload.content_mismatch")
    problem(p.upload(cid, b"abc\x00\xff\xfe binary", "text/plain"), 422, "upload.content_mismatch")
    problem(p.upload(cid, b"", "application/pdf"), 422, "upload.empty")
    problem(p.upload(cid, pdf(), filename="../../etc/passwd"), 422, "request.invalid")
    problem(p.upload(cid, pdf(), title="a\nb"), 422, "request.invalid")
    r = p.http.post(
        f"/v1/cases/{cid}/evidence", content=pdf(), headers={"Content-Type": "application/pdf"}
    )
    body = problem(r, 422, "request.invalid")
    assert {e["field"] for e in body["errors"]} == {"query.title", "query.filename"}
    problem(p.upload("not-a-uuid", pdf()), 422, "request.invalid")
    problem(p.upload(str(uuid.uuid4()), pdf()), 404, "case.not_found")
    assert snapshot(court, cid) == before
    # and a good one still works afterwards
    ok = p.upload(cid, "证据 text 文本".encode(), "text/plain", filename="note.txt")
    assert ok.status_code == 201, ok.text


def test_chain_down_means_no_evidence_at_all(make_settings, court, people, case) -> None:
    """The chain service does not answer: 503, and no object, row or audit event remains."""
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    settings = make_settings(chain_url=dead, chain_timeout_s=1)
    other = Served(create_app(settings, access_log=False), "litigation-no-chain").start()
    try:
        p = people["plaintiff"]
        c = httpx.Client(base_url=other.url, headers=p.http.headers)
        cid = c.post("/v1/cases", json=filing(p.sub)).json()["id"]
        r = c.post(
            f"/v1/cases/{cid}/evidence",
            params={"title": "t", "filename": "f.pdf"},
            content=pdf(),
            headers={"Content-Type": "application/pdf"},
        )
        problem(r, 503, "evidence.chain_unavailable")
        assert court.s3.keys(f"cases/{cid}/") == []
        from sqlalchemy import create_engine, text

        eng = create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM files")).scalar() == 0
            actions = conn.execute(text("SELECT action FROM audit_events")).scalars().all()
        eng.dispose()
        assert "evidence.uploaded" not in actions
        # attachments do not need the chain
        r = c.post(
            f"/v1/cases/{cid}/attachments",
            params={"title": "t", "filename": "f.pdf"},
            content=pdf(),
            headers={"Content-Type": "application/pdf"},
        )
        assert r.status_code == 201
        ready = httpx.get(other.url + "/readyz")
        problem(ready, 503, "health.chain_unavailable")
    finally:
        other.stop()


def test_json_bodies(court, people, case) -> None:
    p, clerk = people["plaintiff"], people["clerk"]
    problem(
        p.http.post(
            "/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "request.invalid",
    )
    problem(
        p.http.post("/v1/cases", content=b"\xff\xfe", headers={"Content-Type": "application/json"}),
        422,
        "request.invalid",
    )
    problem(
        p.http.post(
            "/v1/cases",
            content=b"cause=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
    )
    big = {"cause": "x", "facts": "y" * (court.settings.max_body_bytes + 1)}
    problem(p.post("/v1/cases", json=big), 413, "request.too_large")
    one_side = filing(p.sub)
    one_side["parties"] = [one_side["parties"][0], {**one_side["parties"][0], "name": "李四"}]
    body = problem(p.post("/v1/cases", json=one_side), 422, "request.invalid")
    assert "plaintiff and one defendant" in body["detail"]
    bad = filing(p.sub)
    bad["cause"] = "合同\x00纠纷"
    body = problem(p.post("/v1/cases", json=bad), 422)
    assert body["errors"][0]["field"] == "cause"
    bad = filing(p.sub)
    bad["parties"][0]["id_number"] = "'; DROP TABLE cases; --"
    problem(p.post("/v1/cases", json=bad), 422)
    bad = filing(p.sub)
    bad["claims"][0]["amount_fen"] = -5
    problem(p.post("/v1/cases", json=bad), 422)
    bad = filing(p.sub)
    bad["surprise"] = 1
    problem(p.post("/v1/cases", json=bad), 422)
    # payments: wrong amount, reused reference, another case's fee
    fee = case["fees"][0]
    pay = {
        "fee_id": fee["id"],
        "amount_fen": fee["amount_fen"] - 1,
        "channel": "alipay",
        "transaction_reference": f"ALI-{uuid.uuid4().hex[:12]}",
    }
    problem(p.post(f"/v1/cases/{case['id']}/payments", json=pay), 422, "payment.wrong_amount")
    pay["amount_fen"] += 1
    assert p.post(f"/v1/cases/{case['id']}/payments", json=pay).status_code == 201
    other = p.post("/v1/cases", json=filing(p.sub)).json()
    reused = {**pay, "fee_id": other["fees"][0]["id"], "amount_fen": other["fees"][0]["amount_fen"]}
    problem(
        p.post(f"/v1/cases/{other['id']}/payments", json=reused), 409, "payment.reference_reused"
    )
    problem(
        p.post(
            f"/v1/cases/{other['id']}/payments",
            json={**pay, "transaction_reference": "ALI-X9999999"},
        ),
        404,
        "fee.not_found",
    )
    problem(
        clerk.post(f"/v1/cases/{case['id']}/documents", json={"template": "no_such"}),
        422,
        "document.unknown_template",
    )
    problem(
        clerk.post(f"/v1/cases/{case['id']}/documents", json={"template": "summons"}),
        409,
        "document.case_not_ready",
    )


def test_storage_numbers(court, people, case) -> None:
    p = people["plaintiff"]
    problem(p.get("/v1/evidence/CCE-00000000000000000000"), 404, "evidence.not_found")
    problem(p.post("/v1/evidence/CCE-00000000000000000000/verification"), 404, "evidence.not_found")
    problem(p.get("/v1/evidence/not-a-storage-number"), 422, "request.invalid")
    # another party's storage number is as unknown as one that does not exist
    sn = p.upload(case["id"], pdf()).json()["storage_number"]
    problem(people["stranger"].get(f"/v1/evidence/{sn}"), 404, "evidence.not_found")


def test_tampered_file_is_detected(court, people, case) -> None:
    p = people["plaintiff"]
    ev = p.upload(case["id"], pdf("original")).json()
    key = f"cases/{case['id']}/evidence/{ev['id']}"
    court.s3.client.put_object(Bucket="court-files", Key=key, Body=pdf("altered"))
    check = p.post(f"/v1/evidence/{ev['storage_number']}/verification").json()
    assert check["file_intact"] is False and check["chain_verified"] is False
    assert "digest_mismatch" in check["failure"]["code"]


def test_unknown_routes_and_methods(court, people) -> None:
    p = people["plaintiff"]
    problem(p.get("/v1/nothing-here"), 404, "request.no_such_route")
    problem(p.http.delete("/v1/cases"), 405, "request.method_not_allowed")
