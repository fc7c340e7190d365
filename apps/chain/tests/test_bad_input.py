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


# -- strict parsing: one spelling of a number, RFC 8259 JSON in UTF-8 ------------------------
@pytest.mark.parametrize("value", ["5_0", "+5", " 5", "5 ", "05", "0x5", "5.0", "\u0665", "-0"])
def test_query_integers_are_canonical_decimal_only(node: Node, value: str) -> None:
    for path, params in (
        ("/v1/log/head", {"quorum": value}),
        ("/v1/log/proofs/consistency", {"first": value, "second": "9"}),
        ("/v1/log/proofs/inclusion", {"leaf_index": value, "tree_size": "9"}),
        ("/v1/witness/alarms", {"limit": value}),
    ):
        p = problem(node.client.get(path, params=params), 422, "request.invalid")
        assert "decimal digits only" in p["detail"], (path, value, p["detail"])


def test_canonical_query_integers_still_work(node: Node) -> None:
    assert node.client.get("/v1/log/head", params={"quorum": "0"}).status_code == 200
    assert node.client.get("/v1/witness/alarms", params={"limit": "10"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (f'{{"digest": "{GOOD}", "submitter": "a"}}', None),  # the control: accepted
        (f'\ufeff{{"digest": "{GOOD}", "submitter": "a"}}', "byte-order mark"),
        (f'{{"digest": "{GOOD}", "submitter": "a", "submitter": "b"}}', "appears twice"),
        (f'{{"digest": "{GOOD}", "submitter": "a", "metadata": {{"n": NaN}}}}', "NaN"),
    ],
)
def test_json_bodies_are_utf8_rfc8259(node: Node, body: str, words: str | None) -> None:
    before = count(node)
    r = node.client.post("/v1/evidence", content=body.encode("utf-8"),
                         headers={"content-type": "application/json"})
    if words is None:
        assert r.status_code == 201, r.text
        return
    assert words in problem(r, 422, "request.invalid")["detail"]
    assert count(node) == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_in_other_encodings_is_refused(node: Node, encoding: str) -> None:
    body = (f'{{"digest": "{GOOD}", "submitter": "a"}}').encode(encoding)
    problem(node.client.post("/v1/evidence", content=body,
                             headers={"content-type": "application/json"}), 422, "request.invalid")
    p = problem(node.client.post("/v1/evidence", content=body,
                                 headers={"content-type": f"application/json; charset={encoding}"}),
                415, "request.unsupported_media_type")
    assert "UTF-8" in p["detail"]
    assert count(node) == 0


def test_json_body_integers_are_json_numbers(node: Node) -> None:
    r = node.client.post("/v1/evidence/CCE-00000000000000000000/verify",
                         json={"digest": GOOD, "quorum": "0"})
    assert "quorum: must be a JSON number" in problem(r, 422, "request.invalid")["detail"]


def test_a_body_shorter_than_announced_times_out(make_node) -> None:  # type: ignore[no-untyped-def]
    """A node reached directly (witness traffic between sites) answers 408 and frees the
    connection when a client announces more than it sends."""
    import socket
    import time

    node = make_node("primary", body_timeout_seconds=1.0)
    for path, ctype, start in (
        ("/v1/evidence", "application/json", b'{"digest"'),  # read ahead by the guard
        ("/v1/evidence/CCE-00000000000000000000/verify-data", "application/octet-stream",
         b"%PDF-1.4"),  # streamed by the endpoint
    ):
        with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                      "Content-Length: 100\r\n\r\n".encode() + start)
            started = time.monotonic()
            reply = b""
            while b"request.timeout" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            waited = time.monotonic() - started
        assert reply.startswith(b"HTTP/1.1 408"), (path, reply[:300])
        assert b"request.timeout" in reply
        assert waited < 8
    assert count(node) == 0
