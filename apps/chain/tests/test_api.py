"""Registering and verifying evidence over HTTP, checked with the standalone verifier."""

from __future__ import annotations

import hashlib
import os

import pytest
from chain.verifier import VerificationError
from chain_testkit import Node


def sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def register(node: Node, data: bytes, **kw: object) -> dict:
    body = {
        "digest": sm3(data),
        "submitter": "Zhang San (plaintiff)",
        "metadata": {"case": "(2024)京0491民初1号", "file": "contract.pdf"},
    }
    body.update(kw)
    r = node.client.post("/v1/evidence", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_register_returns_a_receipt_whose_proof_verifies_independently(node: Node) -> None:
    data = b"the signed lease agreement, page 1"
    receipt = register(node, data)
    assert receipt["storage_number"].startswith("CCE-")
    assert receipt["leaf_index"] == 0
    assert receipt["integrated_time"].endswith("Z")
    v = node.verifier()
    facts = v.verify_evidence(receipt, data=data)
    assert facts["storage_number"] == receipt["storage_number"]
    assert facts["integrated_time"] == receipt["integrated_time"]
    with pytest.raises(VerificationError) as exc:
        v.verify_evidence(receipt, data=data + b"!")
    assert exc.value.reason == "digest_mismatch"


def test_many_appends_later_proofs_and_consistency_verify(node: Node) -> None:
    receipts = [register(node, f"file {i}".encode()) for i in range(13)]
    assert sorted(r["leaf_index"] for r in receipts) == list(range(13))
    v = node.verifier()
    first_head = receipts[4]["tree_head"]
    for i, r in enumerate(receipts):
        bundle = node.client.get(f"/v1/evidence/{r['storage_number']}").json()
        assert bundle["tree_head"]["tree_size"] == 13
        v.verify_evidence(bundle, data=f"file {i}".encode())
    latest = node.client.get("/v1/log/head").json()
    proof = node.client.get(
        "/v1/log/proofs/consistency", params={"first": first_head["tree_size"], "second": 13}
    ).json()
    v.verify_consistency(first_head, latest, proof["hashes"])
    forged = dict(latest, root_hash="00" * 32)
    with pytest.raises(VerificationError):
        v.verify_consistency(first_head, forged, proof["hashes"])


def test_verify_endpoint_by_digest_and_by_original_data(node: Node) -> None:
    data = os.urandom(300_000)
    r = register(node, data, digest_alg="sha256", digest=hashlib.sha256(data).hexdigest())
    sn = r["storage_number"]
    ok = node.client.post(
        f"/v1/evidence/{sn}/verify", json={"digest": hashlib.sha256(data).hexdigest()}
    )
    assert ok.status_code == 200 and ok.json()["verified"] is True
    assert ok.json()["integrated_time"] == r["integrated_time"]
    up = node.client.post(
        f"/v1/evidence/{sn}/verify-data",
        content=data,
        headers={"content-type": "application/octet-stream"},
    )
    assert up.status_code == 200 and up.json()["verified"] is True, up.text
    bad = node.client.post(
        f"/v1/evidence/{sn}/verify-data",
        content=data[:-1],
        headers={"content-type": "application/octet-stream"},
    )
    assert bad.json()["verified"] is False
    assert bad.json()["failure"]["code"] == "digest_mismatch"
    assert bad.json()["digest_matches"] is False


def test_batch_endpoint_is_all_or_nothing_and_gets_proofs(node: Node) -> None:
    items = [{"digest": sm3(f"b{i}".encode()), "submitter": "clerk"} for i in range(50)]
    r = node.client.post("/v1/evidence:batch", json={"items": items})
    assert r.status_code == 201, r.text
    receipts = r.json()["receipts"]
    assert len(receipts) == 50 and len({x["storage_number"] for x in receipts}) == 50
    v = node.verifier()
    for i in (0, 17, 49):
        b = node.client.get(f"/v1/evidence/{receipts[i]['storage_number']}").json()
        v.verify_evidence(b, digest=sm3(f"b{i}".encode()))
    items[30]["digest"] = "xyz"
    bad = node.client.post("/v1/evidence:batch", json={"items": items})
    assert bad.status_code == 422
    assert node.client.get("/v1/log/head").json()["tree_size"] == 50


def test_ed25519_nodes_sign_heads_that_verify(make_node) -> None:  # type: ignore[no-untyped-def]
    n = make_node("edsite", algorithm="ed25519")
    r = register(n, b"x")
    assert r["tree_head"]["signature_algorithm"] == "ed25519"
    n.verifier().verify_evidence(r, data=b"x")


def test_health_readiness_metrics_and_openapi(node: Node) -> None:
    assert node.client.get("/healthz").json() == {"status": "ok"}
    ready = node.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    register(node, b"m")
    assert node.metric("chain_appends_total", digest_alg="sm3") == 1
    assert node.metric("chain_tree_size") == 1
    spec = node.client.get("/openapi.json").json()
    assert "/v1/evidence" in spec["paths"] and "/v1/witness/cosign" in spec["paths"]
