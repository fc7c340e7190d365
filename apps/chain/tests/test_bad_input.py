"""Bad input gets a clear 4xx problem detail naming the field, and writes nothing."""

from __future__ import annotations

import hashlib

import pytest
from chain_testkit import Node

GOOD = hashlib.new("sm3", b"x").hexdigest()


def count(node: Node) -> int:
    return int(node.client.get("/v1/log/head").json()["tree_size"])


def problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["detail"] and body["title"] and body["type"]
    return body


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"digest": GOOD[:-2], "submitter": "a"}, "digest", "64"),
        ({"digest": GOOD + "00", "submitter": "a"}, "digest", "64"),
        ({"digest": "zz" + GOOD[2:], "submitter": "a"}, "digest", "hexadecimal"),
        ({"digest": GOOD, "digest_alg": "md5", "submitter": "a"}, "digest_alg", "sm3"),
        ({"digest": GOOD}, "submitter", "required"),
        ({"digest": GOOD, "submitter": ""}, "submitter", "at least 1"),
        ({"digest": GOOD, "submitter": "a\nb"}, "submitter", "control"),
        ({"digest": GOOD, "submitter": "a", "metadata": {"k": 1}}, "metadata.k", "string"),
        ({"digest": GOOD, "submitter": "a", "extra": 1}, "extra", "not permitted"),
    ],
)
def test_malformed_registrations_are_refused_by_field(
    node: Node, body: dict, field: str, words: str
) -> None:
    r = node.client.post("/v1/evidence", json=body)
    p = problem(r, 422, "request.invalid")
    fields = {e["field"]: e["reason"] for e in p["errors"]}
    assert field in fields, p
    assert words.lower() in fields[field].lower(), fields[field]
    assert count(node) == 0


def test_wrong_content_type_is_415_and_writes_nothing(node: Node) -> None:
    r = node.client.post(
        "/v1/evidence",
        content=f'{{"digest":"{GOOD}","submitter":"a"}}',
        headers={"content-type": "text/plain"},
    )
    p = problem(r, 415, "request.unsupported_media_type")
    assert "application/json" in p["detail"]
    r = node.client.post(
        "/v1/evidence",
        content=b"digest=" + GOOD.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    problem(r, 415, "request.unsupported_media_type")
    assert count(node) == 0


def test_oversized_body_is_413_before_parsing(node: Node) -> None:
    big = {"digest": GOOD, "submitter": "a", "metadata": {"pad": "x" * 70_000}}
    problem(node.client.post("/v1/evidence", json=big), 413, "request.too_large")

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: streamed, counted
        yield b'{"digest":"' + GOOD.encode() + b'","submitter":"a","metadata":{"pad":"'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}}'

    r = node.client.post(
        "/v1/evidence", content=chunks(), headers={"content-type": "application/json"}
    )
    problem(r, 413, "request.too_large")
    assert count(node) == 0


def test_not_json_is_a_clear_422(node: Node) -> None:
    r = node.client.post(
        "/v1/evidence", content=b"{not json", headers={"content-type": "application/json"}
    )
    p = problem(r, 422, "request.invalid")
    assert "JSON" in p["detail"]
    assert count(node) == 0


def test_unknown_and_malformed_storage_numbers(node: Node) -> None:
    p = problem(node.client.get("/v1/evidence/CCE-00000000000000000000"), 404, "evidence.not_found")
    assert "CCE-00000000000000000000" in p["detail"]
    problem(
        node.client.post("/v1/evidence/CCE-00000000000000000000/verify", json={"digest": GOOD}),
        404,
        "evidence.not_found",
    )
    p = problem(node.client.get("/v1/evidence/not-a-number"), 422, "request.invalid")
    assert "storage_number" in p["detail"]


def test_proof_ranges_and_quorum_limits(node: Node) -> None:
    problem(
        node.client.get("/v1/log/proofs/inclusion", params={"leaf_index": 0, "tree_size": 5}),
        422,
        "proof.out_of_range",
    )
    problem(
        node.client.get("/v1/log/proofs/consistency", params={"first": 3, "second": 2}),
        422,
        "proof.out_of_range",
    )
    problem(node.client.get("/v1/log/head", params={"quorum": 2}), 422, "log.quorum_too_large")
    problem(node.client.get("/v1/nowhere"), 404, "request.no_such_route")
    problem(node.client.delete("/v1/evidence"), 405, "request.method_not_allowed")


def test_batch_limits(node: Node) -> None:
    problem(node.client.post("/v1/evidence:batch", json={"items": []}), 422, "request.invalid")
    assert count(node) == 0
