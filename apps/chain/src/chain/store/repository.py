"""SQL for the log's tables. Every function takes an open (async) connection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from chain.domain.heads import Cosignature, TreeHead
from chain.domain.leaf import Entry
from chain.domain.merkle import NodeId

INTEGRATION_LOCK = 0x63_68_61_69_6E_02  # one integrator at a time across replicas


def _head(row: Sequence, origin: str, cosigs: Iterable[Cosignature] = ()) -> TreeHead:
    size, root, issued_at, key_id, alg, sig = row
    return TreeHead(origin, size, bytes(root), issued_at, key_id, alg, bytes(sig), tuple(cosigs))


async def _cosignatures(conn: AsyncConnection, size: int) -> list[Cosignature]:
    cur = await conn.execute(
        "SELECT witness, key_id, algorithm, cosigned_at, signature FROM cosignatures"
        " WHERE tree_size = %s ORDER BY witness",
        (size,),
    )
    return [Cosignature(w, k, a, t, bytes(s)) for w, k, a, t, s in await cur.fetchall()]


HEAD_COLUMNS = "tree_size, root_hash, issued_at, key_id, algorithm, signature"


async def latest_head(conn: AsyncConnection, origin: str) -> TreeHead | None:
    cur = await conn.execute(
        f"SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY tree_size DESC LIMIT 1"
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return _head(row, origin, await _cosignatures(conn, row[0]))


async def head_at(conn: AsyncConnection, origin: str, size: int) -> TreeHead | None:
    cur = await conn.execute(f"SELECT {HEAD_COLUMNS} FROM tree_heads WHERE tree_size = %s", (size,))
    row = await cur.fetchone()
    if row is None:
        return None
    return _head(row, origin, await _cosignatures(conn, size))


async def all_heads(conn: AsyncConnection, origin: str) -> list[TreeHead]:
    """Every stored head with its cosignatures, smallest first (for the audit)."""
    cur = await conn.execute(f"SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY tree_size")
    rows = await cur.fetchall()
    cur = await conn.execute(
        "SELECT tree_size, witness, key_id, algorithm, cosigned_at, signature FROM cosignatures"
        " ORDER BY tree_size, witness"
    )
    cosigs: dict[int, list[Cosignature]] = {}
    for size, w, k, a, t, sig in await cur.fetchall():
        cosigs.setdefault(size, []).append(Cosignature(w, k, a, t, bytes(sig)))
    return [_head(r, origin, cosigs.get(r[0], ())) for r in rows]


async def heads_before(conn: AsyncConnection, origin: str, size: int, limit: int) -> list[TreeHead]:
    """The ``limit`` heads just below ``size``, nearest first."""
    cur = await conn.execute(
        f"SELECT {HEAD_COLUMNS} FROM tree_heads WHERE tree_size < %s"
        " ORDER BY tree_size DESC LIMIT %s",
        (size, limit),
    )
    return [_head(r, origin) for r in await cur.fetchall()]


async def latest_head_with_quorum(
    conn: AsyncConnection, origin: str, quorum: int, witnesses: Sequence[str], min_size: int = 0
) -> TreeHead | None:
    """The largest head cosigned by at least ``quorum`` of the named witnesses."""
    cur = await conn.execute(
        f"SELECT {', '.join('h.' + c.strip() for c in HEAD_COLUMNS.split(','))}"
        " FROM tree_heads h JOIN cosignatures c USING (tree_size)"
        " WHERE c.witness = ANY(%s) AND h.tree_size >= %s"
        " GROUP BY h.tree_size HAVING count(*) >= %s ORDER BY h.tree_size DESC LIMIT 1",
        (list(witnesses), min_size, quorum),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return _head(row, origin, await _cosignatures(conn, row[0]))


async def load_nodes(conn: AsyncConnection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    ids = list(ids)
    if not ids:
        return {}
    cur = await conn.execute(
        "SELECT n.level, n.idx, n.hash FROM tree_nodes n"
        " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx)"
        " ON n.level = w.level AND n.idx = w.idx",
        ([lvl for lvl, _ in ids], [idx for _, idx in ids]),
    )
    return {(lvl, idx): bytes(h) for lvl, idx, h in await cur.fetchall()}


async def integrate(
    conn: AsyncConnection, entries: Sequence[Entry], nodes: dict[NodeId, bytes], head: TreeHead
) -> None:
    """Write a batch: its entries, every node it completed, and its signed head.

    The caller holds a transaction and the integration lock.
    """
    async with conn.cursor() as cur:
        async with cur.copy(
            "COPY evidence (leaf_index, storage_number, digest_alg, digest, submitter,"
            " metadata, integrated_at) FROM STDIN"
        ) as copy:
            for e in entries:
                await copy.write_row(
                    (
                        e.leaf_index,
                        e.storage_number,
                        e.digest_alg,
                        e.digest,
                        e.submitter,
                        Jsonb(e.metadata),
                        e.integrated_at,
                    )
                )
        async with cur.copy("COPY tree_nodes (level, idx, hash) FROM STDIN") as copy:
            for (lvl, idx), h in nodes.items():
                await copy.write_row((lvl, idx, h))
        await cur.execute(
            f"INSERT INTO tree_heads ({HEAD_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                head.tree_size,
                head.root_hash,
                head.issued_at,
                head.key_id,
                head.algorithm,
                head.signature,
            ),
        )


async def stored_size(conn: AsyncConnection) -> int:
    """Size of the latest signed head in the database (0 before the first)."""
    cur = await conn.execute("SELECT coalesce(max(tree_size), 0) FROM tree_heads")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def lock_integration(conn: AsyncConnection) -> int:
    """Take the integration lock (transaction-scoped); return the stored tree size."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (INTEGRATION_LOCK,))
    cur = await conn.execute("SELECT coalesce(max(tree_size), -1) FROM tree_heads")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


ENTRY_COLUMNS = "leaf_index, storage_number, digest_alg, digest, submitter, metadata, integrated_at"


def _entry(row: Sequence) -> Entry:
    idx, sn, alg, digest, submitter, metadata, at = row
    return Entry(idx, sn, alg, bytes(digest), submitter, dict(metadata), at)


async def entry_by_storage_number(conn: AsyncConnection, storage_number: str) -> Entry | None:
    cur = await conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM evidence WHERE storage_number = %s", (storage_number,)
    )
    row = await cur.fetchone()
    return _entry(row) if row else None


async def entries_range(conn: AsyncConnection, start: int, end: int) -> list[Entry]:
    cur = await conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM evidence WHERE leaf_index >= %s AND leaf_index < %s"
        " ORDER BY leaf_index",
        (start, end),
    )
    return [_entry(r) for r in await cur.fetchall()]


async def count_entries(conn: AsyncConnection) -> int:
    cur = await conn.execute("SELECT count(*) FROM evidence")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def add_cosignature(conn: AsyncConnection, size: int, cs: Cosignature) -> None:
    await conn.execute(
        "INSERT INTO cosignatures (tree_size, witness, key_id, algorithm, cosigned_at, signature)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (tree_size, witness) DO UPDATE SET key_id = EXCLUDED.key_id,"
        " algorithm = EXCLUDED.algorithm, cosigned_at = EXCLUDED.cosigned_at,"
        " signature = EXCLUDED.signature",
        (size, cs.witness, cs.key_id, cs.algorithm, cs.cosigned_at, cs.signature),
    )


# --- this node as a witness of other sites' logs ------------------------------------------
async def lock_witnessed_log(conn: AsyncConnection, origin: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (origin,))


async def witnessed_latest(conn: AsyncConnection, origin: str) -> tuple[int, bytes] | None:
    cur = await conn.execute(
        "SELECT tree_size, root_hash FROM witnessed_heads WHERE origin = %s"
        " ORDER BY tree_size DESC LIMIT 1",
        (origin,),
    )
    row = await cur.fetchone()
    return (int(row[0]), bytes(row[1])) if row else None


async def witnessed_root_at(conn: AsyncConnection, origin: str, size: int) -> bytes | None:
    cur = await conn.execute(
        "SELECT root_hash FROM witnessed_heads WHERE origin = %s AND tree_size = %s",
        (origin, size),
    )
    row = await cur.fetchone()
    return bytes(row[0]) if row else None


async def record_witnessed(
    conn: AsyncConnection,
    origin: str,
    size: int,
    root: bytes,
    issued_at: datetime,
    signature: bytes,
    cosigned_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO witnessed_heads"
        " (origin, tree_size, root_hash, issued_at, signature, cosigned_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (origin, tree_size) DO NOTHING",
        (origin, size, root, issued_at, signature, cosigned_at),
    )


async def record_alarm(
    conn: AsyncConnection,
    origin: str,
    size: int,
    kind: str,
    known_root: bytes,
    shown_root: bytes,
    shown_head: dict,
    detail: str,
) -> int:
    cur = await conn.execute(
        "INSERT INTO witness_alarms"
        " (origin, tree_size, kind, known_root, shown_root, shown_head, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (origin, size, kind, known_root, shown_root, Jsonb(shown_head), detail),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def list_alarms(conn: AsyncConnection, limit: int = 100) -> list[dict]:
    cur = await conn.execute(
        "SELECT id, origin, tree_size, kind, known_root, shown_root, detail, detected_at"
        " FROM witness_alarms ORDER BY id DESC LIMIT %s",
        (limit,),
    )
    return [
        {
            "id": i,
            "origin": o,
            "tree_size": s,
            "kind": k,
            "known_root": bytes(kr).hex(),
            "shown_root": bytes(sr).hex(),
            "detail": d,
            "detected_at": t,
        }
        for i, o, s, k, kr, sr, d, t in await cur.fetchall()
    ]


async def alarm_counts(conn: AsyncConnection) -> dict[tuple[str, str], int]:
    cur = await conn.execute("SELECT origin, kind, count(*) FROM witness_alarms GROUP BY 1, 2")
    return {(o, k): int(n) for o, k, n in await cur.fetchall()}
