"""Cross-site anchoring: witnesses cosign heads, clients demand a quorum, and a witness
shown two different heads for one size raises a recorded, exposed alarm."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from chain.domain.heads import sign_head
from chain.settings import WitnessedLog, WitnessPeer
from chain.verifier import VerificationError
from chain_testkit import Node, wait_for

from courtcloud.testing.postgres import free_loopback_port

SITES = ("primary", "standby", "miyun")


@pytest.fixture
def sites(make_node: Callable[..., Node]) -> dict[str, Node]:
    """Three chain nodes; each one's log is witnessed by the other two."""
    nodes = {s: make_node(s, start=False) for s in SITES}
    for n in nodes.values():
        n.port = free_loopback_port()
    for name, n in nodes.items():
        others = [o for o in nodes.values() if o.name != name]
        n.settings = n.settings.model_copy(
            update={
                "witness_peers": tuple(
                    WitnessPeer(
                        name=o.name,
                        url=o.url,
                        algorithm=o.signer.algorithm,
                        public_key=o.signer.public_key.hex(),
                    )
                    for o in others
                ),
                "witnessed_logs": tuple(
                    WitnessedLog(
                        origin=o.name,
                        algorithm=o.signer.algorithm,
                        public_key=o.signer.public_key.hex(),
                    )
                    for o in others
                ),
            }
        )
    for n in nodes.values():
        n.start()
    return nodes


def register(node: Node, data: bytes) -> dict:
    r = node.client.post(
        "/v1/evidence",
        json={"digest": hashlib.new("sm3", data).hexdigest(), "submitter": "court clerk"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_heads_get_cosigned_and_a_client_demands_a_quorum(sites: dict[str, Node]) -> None:
    primary = sites["primary"]
    receipts = [register(primary, f"e{i}".encode()) for i in range(5)]
    sn = receipts[-1]["storage_number"]

    def cosigned() -> dict | None:
        r = primary.client.get(f"/v1/evidence/{sn}", params={"quorum": 2})
        return r.json() if r.status_code == 200 else None

    bundle = wait_for(cosigned, what="a head cosigned by both witnesses")
    assert {c["witness"] for c in bundle["tree_head"]["cosignatures"]} == {"standby", "miyun"}
    witnesses = {s: sites[s].key for s in ("standby", "miyun")}
    facts = primary.verifier(witnesses, quorum=2).verify_evidence(bundle, data=b"e4")
    assert sorted(facts["cosigned_by"]) == ["miyun", "standby"]
    # A client that trusts only one of the witnesses cannot reach a quorum of two.
    with pytest.raises(VerificationError) as exc:
        primary.verifier({"standby": sites["standby"].key}, quorum=2).verify_evidence(bundle)
    assert exc.value.reason == "quorum_not_met"
    # A forged cosignature does not count.
    forged = dict(
        bundle,
        tree_head=dict(
            bundle["tree_head"],
            cosignatures=[
                dict(c, signature=c["signature"][:-4] + "0000")
                for c in bundle["tree_head"]["cosignatures"]
            ],
        ),
    )
    with pytest.raises(VerificationError):
        primary.verifier(witnesses, quorum=1).verify_evidence(forged)
    # The witnesses know how far they have cosigned.
    seen = sites["standby"].client.get("/v1/witness/logs/primary").json()
    assert seen["tree_size"] >= 5
    assert primary.metric("chain_cosignatures_received_total", witness="miyun") >= 1


def test_quorum_is_not_met_while_a_witness_is_down(sites: dict[str, Node]) -> None:
    primary = sites["primary"]
    register(primary, b"first")
    wait_for(
        lambda: primary.client.get("/v1/log/head", params={"quorum": 2}).status_code == 200,
        what="first head cosigned",
    )
    sites["miyun"].stop()
    late = register(primary, b"second")
    r = primary.client.get(f"/v1/evidence/{late['storage_number']}", params={"quorum": 2})
    assert r.status_code == 409 and r.json()["code"] == "log.quorum_not_reached"
    one = wait_for(
        lambda: (
            (
                x := primary.client.get(
                    f"/v1/evidence/{late['storage_number']}", params={"quorum": 1}
                )
            ).status_code
            == 200
            and x.json()
        ),
        what="a head cosigned by the remaining witness",
    )
    primary.verifier({"standby": sites["standby"].key}, quorum=1).verify_evidence(
        one, data=b"second"
    )
    assert primary.metric("chain_cosign_errors_total", witness="miyun", code="ConnectError") >= 1


def test_two_heads_for_one_size_raise_an_equivocation_alarm(sites: dict[str, Node]) -> None:
    primary, standby = sites["primary"], sites["standby"]
    register(primary, b"a")
    register(primary, b"b")
    wait_for(
        lambda: standby.client.get("/v1/witness/logs/primary").json()["tree_size"] == 2,
        what="standby to cosign size 2",
    )
    # The primary's key (stolen, or a rogue operator) signs another tree of size 2.
    fake = sign_head(
        primary.signer, "primary", 2, hashlib.new("sm3", b"fork").digest(), datetime.now(UTC)
    ).as_dict()
    r = standby.client.post(
        "/v1/witness/cosign", json={"head": fake, "old_size": 2, "consistency_proof": []}
    )
    assert r.status_code == 409 and r.json()["code"] == "witness.equivocation", r.text
    assert "two different heads for size 2" in r.json()["detail"]
    r = standby.client.post("/v1/witness/observe", json={"head": fake})
    assert r.status_code == 409 and r.json()["code"] == "witness.equivocation"
    alarms = standby.client.get("/v1/witness/alarms").json()
    assert len(alarms) == 2 and {a["kind"] for a in alarms} == {"equivocation"}
    assert alarms[0]["origin"] == "primary" and alarms[0]["tree_size"] == 2
    assert alarms[0]["shown_root"] == fake["root_hash"]
    assert standby.metric("chain_witness_alarms_total", origin="primary", kind="equivocation") == 2
    # The alarm outlives a restart (it is in the database) and the metric is restored.
    standby.restart()
    assert len(standby.client.get("/v1/witness/alarms").json()) == 2
    assert standby.metric("chain_witness_alarms_total", origin="primary", kind="equivocation") == 2
    # The honest head is untouched: still cosigned, no alarm at the other witness.
    assert sites["miyun"].client.get("/v1/witness/alarms").json() == []


def test_a_fork_that_does_not_extend_the_cosigned_head_raises_an_alarm(
    sites: dict[str, Node],
) -> None:
    primary, miyun = sites["primary"], sites["miyun"]
    register(primary, b"a")
    register(primary, b"b")
    wait_for(
        lambda: miyun.client.get("/v1/witness/logs/primary").json()["tree_size"] == 2,
        what="miyun to cosign size 2",
    )
    fork = sign_head(
        primary.signer, "primary", 3, hashlib.new("sm3", b"rewritten").digest(), datetime.now(UTC)
    ).as_dict()
    r = miyun.client.post(
        "/v1/witness/cosign", json={"head": fork, "old_size": 2, "consistency_proof": ["ab" * 32]}
    )
    assert r.status_code == 409 and r.json()["code"] == "witness.inconsistent", r.text
    assert miyun.client.get("/v1/witness/alarms").json()[0]["kind"] == "inconsistent"
    assert miyun.client.get("/v1/witness/logs/primary").json()["tree_size"] == 2


def test_heads_not_signed_by_the_log_are_refused_without_alarm(sites: dict[str, Node]) -> None:
    primary, standby = sites["primary"], sites["standby"]
    register(primary, b"a")
    head = primary.client.get("/v1/log/head").json()
    tampered = dict(head, root_hash="00" * 32)
    r = standby.client.post("/v1/witness/observe", json={"head": tampered})
    assert r.status_code == 403 and r.json()["code"] == "witness.bad_signature"
    r = standby.client.post("/v1/witness/observe", json={"head": dict(head, origin="elsewhere")})
    assert r.status_code == 404 and r.json()["code"] == "witness.unknown_log"
    assert standby.client.get("/v1/witness/alarms").json() == []


def test_the_audit_checks_what_the_witnesses_cosigned(sites: dict[str, Node],
                                                      postgres_server) -> None:  # type: ignore[no-untyped-def]
    """A stored cosignature that no longer verifies (its row, or the head's, was rewritten)
    is named with the witness and the head."""
    primary = sites["primary"]
    register(primary, b"cosigned")
    head = wait_for(
        lambda: (r := primary.client.get("/v1/log/head", params={"quorum": 2})).status_code
        == 200 and r.json(),
        what="a head cosigned by both witnesses",
    )
    assert primary.client.get("/v1/log/audit").json()["ok"] is True
    size = head["tree_size"]
    db = primary.settings.database_url.rsplit("/", 1)[1]
    postgres_server.psql(
        "UPDATE cosignatures SET cosigned_at = cosigned_at + interval '1 second'"
        f" WHERE tree_size = {size} AND witness = 'miyun'",
        db,
    )
    audit = primary.client.get("/v1/log/audit").json()
    assert [(p["code"], p["tree_size"], p.get("witness")) for p in audit["problems"]] == [
        ("cosignature_invalid", size, "miyun")
    ]
