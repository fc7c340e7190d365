"""Tampering with stored rows is detected and the entry named; restarts resume the tree."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from chain.app import create_app
from chain.verifier import VerificationError
from chain_testkit import Node

from courtcloud.testing.postgres import PostgresServer


def sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def fill(node: Node, n: int) -> list[dict]:
    items = [{"digest": sm3(f"doc {i}".encode()), "submitter": f"party {i % 3}"} for i in range(n)]
    r = node.client.post("/v1/evidence:batch", json={"items": items})
    assert r.status_code == 201, r.text
    return r.json()["receipts"]


def refuses_to_start(node: Node, match: str) -> None:
    """The node's start (its app's lifespan) raises, naming what it found."""
    app = create_app(node.settings, access_log=False)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            raise AssertionError("the node started on a log it should not trust")

    with pytest.raises(RuntimeError, match=match):
        asyncio.run(start())


def dbname(node: Node) -> str:
    return node.settings.database_url.rsplit("/", 1)[1]


def test_altered_entry_row_fails_verification_naming_the_entry(
    node: Node, postgres_server: PostgresServer
) -> None:
    receipts = fill(node, 20)
    victim = receipts[7]
    sn = victim["storage_number"]
    bundle_before = node.client.get(f"/v1/evidence/{sn}").json()
    assert (
        node.client.post(f"/v1/evidence/{sn}/verify", json={"digest": sm3(b"doc 7")}).json()[
            "verified"
        ]
        is True
    )
    forged = sm3(b"a different document")
    postgres_server.psql(
        f"UPDATE evidence SET digest = '\\x{forged}' WHERE storage_number = '{sn}'", dbname(node)
    )
    r = node.client.post(f"/v1/evidence/{sn}/verify", json={"digest": forged}).json()
    assert r["verified"] is False
    assert r["failure"]["code"] == "leaf_altered"
    assert sn in r["failure"]["detail"] and "leaf 7" in r["failure"]["detail"]
    # The client-side verifier, given what the server now serves, refuses too.
    bundle = node.client.get(f"/v1/evidence/{sn}").json()
    try:
        node.verifier().verify_evidence(bundle, digest=forged)
        raise AssertionError("a forged entry verified")
    except VerificationError as exc:
        assert exc.reason == "inclusion_proof_invalid" and sn in exc.detail
    # ...while the receipt the party kept still proves the original digest.
    node.verifier().verify_evidence(bundle_before, digest=sm3(b"doc 7"))
    audit = node.client.get("/v1/log/audit").json()
    assert audit["ok"] is False
    # The entry is the cause; the tree nodes above it are its consequences, not altered rows
    # (their rows were never touched).
    causes = [p for p in audit["problems"] if p["code"] in ("entry_altered", "node_altered")]
    assert [(p["code"], p["storage_number"]) for p in causes] == [("entry_altered", sn)]
    # leaf 7 in a tree of 20: nodes (1,3) 6..7, (2,1) 4..7, (3,0) 0..7, (4,0) 0..15
    assert [c["leaves"] for c in causes[0]["consequences"]] == [[6, 7], [4, 7], [0, 7], [0, 15]]
    assert node.metric("chain_integrity_failures_total", reason="entry_altered") >= 1


def test_altered_tree_node_fails_verification_naming_the_entries(
    node: Node, postgres_server: PostgresServer
) -> None:
    receipts = fill(node, 20)
    # Node (level 2, index 1) covers leaves 4..7; its hash is on leaf 0's audit path.
    postgres_server.psql(
        "UPDATE tree_nodes SET hash = '\\x" + "00" * 32 + "' WHERE level = 2 AND idx = 1",
        dbname(node),
    )
    sn0 = receipts[0]["storage_number"]
    r = node.client.post(f"/v1/evidence/{sn0}/verify", json={"digest": sm3(b"doc 0")}).json()
    assert r["verified"] is False
    assert r["failure"]["code"] == "inclusion_proof_invalid"
    assert sn0 in r["failure"]["detail"] and "leaf 0" in r["failure"]["detail"]
    audit = node.client.get("/v1/log/audit").json()
    assert audit["ok"] is False
    assert {"code": "node_altered", "level": 2, "index": 1, "leaves": [4, 7]} in audit["problems"]
    # Leaf 4's own path does not use that node: still verifies.
    sn4 = receipts[4]["storage_number"]
    ok = node.client.post(f"/v1/evidence/{sn4}/verify", json={"digest": sm3(b"doc 4")}).json()
    assert ok["verified"] is True


def test_deleted_leaf_hash_is_an_integrity_failure(
    node: Node, postgres_server: PostgresServer
) -> None:
    receipts = fill(node, 5)
    postgres_server.psql("DELETE FROM tree_nodes WHERE level = 0 AND idx = 2", dbname(node))
    sn = receipts[2]["storage_number"]
    r = node.client.post(f"/v1/evidence/{sn}/verify", json={"digest": sm3(b"doc 2")}).json()
    assert r["verified"] is False and r["failure"]["code"] == "leaf_altered"
    assert sn in r["failure"]["detail"]


def test_intact_log_audits_clean(node: Node) -> None:
    fill(node, 37)
    audit = node.client.get("/v1/log/audit").json()
    assert audit == {"tree_size": 37, "root_hash": audit["root_hash"], "ok": True,
                     "heads_checked": 2, "problems": []}  # the empty head, and the batch's


def test_restart_resumes_the_tree_from_stored_nodes_without_recomputation(node: Node) -> None:
    fill(node, 21)  # 21 = 0b10101: the compact range is three nodes
    head_before = node.client.get("/v1/log/head").json()
    node.restart()
    assert node.metric("chain_tree_nodes_loaded_at_start") == 3
    head_after = node.client.get("/v1/log/head").json()
    assert head_after == head_before
    more = fill(node, 4)
    assert [r["leaf_index"] for r in more] == [21, 22, 23, 24]
    latest = node.client.get("/v1/log/head").json()
    proof = node.client.get("/v1/log/proofs/consistency", params={"first": 21, "second": 25}).json()
    node.verifier().verify_consistency(head_before, latest, proof["hashes"])
    assert node.client.get("/v1/log/audit").json()["ok"] is True


def test_restart_refuses_a_tree_whose_frontier_was_altered(
    node: Node, postgres_server: PostgresServer
) -> None:
    fill(node, 8)
    node.stop()
    postgres_server.psql(
        "UPDATE tree_nodes SET hash = '\\x" + "11" * 32 + "' WHERE level = 3 AND idx = 0",
        dbname(node),
    )
    refuses_to_start(node, "tree_nodes table was altered")


def test_two_replicas_on_one_database_keep_one_tree(make_node, postgres_server) -> None:  # type: ignore[no-untyped-def]
    """Two app processes (replicas, or uvicorn workers) share the log's database: the
    integration lock and resume-on-stale keep a single append-only tree."""
    import threading

    from chain_testkit import Node as _Node

    a = make_node("primary")
    b = _Node("primary", a.settings, a.signer).start()
    try:
        results: list[dict] = []
        errors: list[str] = []

        def load(node: _Node, tag: str) -> None:
            for i in range(15):
                body = {"digest": sm3(f"{tag}{i}".encode()), "submitter": tag}
                r = node.client.post("/v1/evidence", json=body)
                if r.status_code != 201:
                    errors.append(r.text)
                else:
                    results.append(r.json())

        threads = [threading.Thread(target=load, args=(n, t)) for n, t in ((a, "a"), (b, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(r["leaf_index"] for r in results) == list(range(30))
        for r in results:  # each receipt verifies against the head it came with
            a.verifier().verify_evidence(r)
        head = b.client.get("/v1/log/head").json()
        assert head["tree_size"] == 30
        for r in results[::7]:
            bundle = b.client.get(f"/v1/evidence/{r['storage_number']}").json()
            a.verifier().verify_evidence(bundle, digest=r["entry"]["digest"])
        first = results[0]["tree_head"]
        proof = a.client.get(
            "/v1/log/proofs/consistency", params={"first": first["tree_size"], "second": 30}
        ).json()
        a.verifier().verify_consistency(first, head, proof["hashes"])
        assert a.client.get("/v1/log/audit").json()["ok"] is True
    finally:
        b.stop()


def test_a_missing_node_on_the_path_is_a_500_naming_the_entry(
    node: Node, postgres_server: PostgresServer
) -> None:
    receipts = fill(node, 6)
    # Leaf 0's path in a tree of 6: leaf 1, node (1,1) = leaves 2..3, node (1,2) = leaves 4..5.
    postgres_server.psql("DELETE FROM tree_nodes WHERE level = 1 AND idx = 1", dbname(node))
    sn = receipts[0]["storage_number"]
    r = node.client.get(f"/v1/evidence/{sn}")
    assert r.status_code == 500 and r.json()["code"] == "chain.tree_node_missing"
    assert sn in r.json()["detail"] and "(1, 1)" in r.json()["detail"]


# -- a consistent rewrite: entry, tree nodes and stored root changed to agree ---------------
def one_by_one(node: Node, n: int) -> list[dict]:
    """Appends made one at a time, so that each has a signed head of its own."""
    out = []
    for i in range(n):
        r = node.client.post("/v1/evidence", json={"digest": sm3(f"one {i}".encode()),
                                                   "submitter": "party"})
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def rewrite_consistently(node: Node, postgres_server: PostgresServer, victim: int,
                         heads: list[int]) -> str:
    """What someone with the database password and no signing key can do: change one
    entry's digest, recompute every tree node from the entries, and store the new roots
    in the heads of the given sizes. Returns the forged digest."""
    from chain.domain.leaf import Entry, parse_time
    from chain.domain.merkle import CompactRange, TreeHasher

    size = node.client.get("/v1/log/head").json()["tree_size"]
    forged = sm3(b"what the attacker wants on record")
    entries = []
    for i in range(size):
        row = postgres_server.psql(
            f"SELECT storage_number FROM evidence WHERE leaf_index = {i}", dbname(node)
        ).strip()
        e = node.client.get(f"/v1/evidence/{row}").json()["entry"]
        digest = forged if i == victim else e["digest"]
        entries.append(Entry(i, e["storage_number"], e["digest_alg"], bytes.fromhex(digest),
                             e["submitter"], e["metadata"], parse_time(e["integrated_time"])))
    hasher = TreeHasher("sm3")
    tree = CompactRange(hasher)
    nodes: dict = {}
    roots = {}
    for i, e in enumerate(entries):
        nodes.update(tree.append([hasher.leaf(e.leaf_bytes())]))
        roots[i + 1] = tree.root()
    sql = [f"UPDATE evidence SET digest = '\\x{forged}' WHERE leaf_index = {victim}"]
    sql += [f"UPDATE tree_nodes SET hash = '\\x{h.hex()}' WHERE level = {lvl} AND idx = {idx}"
            for (lvl, idx), h in nodes.items()]
    sql += [f"UPDATE tree_heads SET root_hash = '\\x{roots[n].hex()}' WHERE tree_size = {n}"
            for n in heads]
    postgres_server.psql("; ".join(sql), dbname(node))
    return forged


def test_the_audit_does_not_trust_a_consistently_rewritten_database(
    node: Node, postgres_server: PostgresServer
) -> None:
    receipts = one_by_one(node, 9)
    victim = receipts[4]
    sn = victim["storage_number"]
    rewrite_consistently(node, postgres_server, victim=4, heads=[9])
    # Every row now agrees with every other: only the signatures tell.
    audit = node.client.get("/v1/log/audit").json()
    assert audit["ok"] is False
    codes = {p["code"]: p for p in audit["problems"]}
    assert codes["head_signature_invalid"]["tree_size"] == 9  # the head whose root was rewritten
    # the signed head of size 5 (the first after leaf 4) no longer matches; the one of size 4
    # still does: the entry is named
    assert codes["head_root_mismatch"]["tree_size"] == 5
    assert codes["entry_altered"]["storage_number"] == sn
    assert codes["entry_altered"]["leaf_index"] == 4
    assert "node_altered" not in codes  # no row is blamed that agrees with its children
    # The party's receipt still proves the original digest against the original head.
    node.verifier().verify_evidence(victim, digest=sm3(b"one 4"))


def test_a_rewritten_head_is_named_and_its_entries_still_proven(
    node: Node, postgres_server: PostgresServer
) -> None:
    one_by_one(node, 3)
    postgres_server.psql(
        "UPDATE tree_heads SET issued_at = issued_at + interval '1 second' WHERE tree_size = 2",
        dbname(node),
    )
    audit = node.client.get("/v1/log/audit").json()
    assert [(p["code"], p["tree_size"]) for p in audit["problems"]] == [
        ("head_signature_invalid", 2)
    ]  # the entries are still proven by the signed head of size 3


def test_restart_refuses_a_head_it_did_not_sign(
    node: Node, postgres_server: PostgresServer
) -> None:
    one_by_one(node, 6)
    rewrite_consistently(node, postgres_server, victim=2, heads=[6])
    node.stop()
    refuses_to_start(node, r"size 6.*does not carry this node's signature")


def test_restart_refuses_nodes_inconsistent_with_the_previous_signed_head(
    node: Node, postgres_server: PostgresServer
) -> None:
    """Rows rewritten below the frontier: the latest head still matches its frontier, but
    the stored nodes no longer prove it extends the signed head before it."""
    fill(node, 6)  # a signed head of size 6
    fill(node, 2)  # and one of size 8, whose frontier is the single node (3, 0)
    node.stop()
    # Node (1, 3) (leaves 6..7) is under the frontier, so the head of size 8 still matches
    # it; but the proof that 8 extends 6 goes through it.
    postgres_server.psql(
        "UPDATE tree_nodes SET hash = '\\x" + "22" * 32 + "' WHERE level = 1 AND idx = 3",
        dbname(node),
    )
    refuses_to_start(node, r"size 8.*not consistent with the signed head.*size 6")
