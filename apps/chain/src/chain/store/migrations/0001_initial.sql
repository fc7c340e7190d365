-- The evidence log: entries, the tree's perfect-subtree hashes, signed tree heads,
-- witness cosignatures of our heads, and what this node saw as a witness of others.

CREATE TABLE evidence (
    leaf_index      bigint      PRIMARY KEY CHECK (leaf_index >= 0),
    storage_number  text        NOT NULL UNIQUE,
    digest_alg      text        NOT NULL CHECK (digest_alg IN ('sm3', 'sha256')),
    digest          bytea       NOT NULL CHECK (octet_length(digest) = 32),
    submitter       text        NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    integrated_at   timestamptz NOT NULL
);
CREATE INDEX evidence_digest_idx ON evidence (digest);

-- Root of the perfect subtree over leaves [idx * 2^level, (idx + 1) * 2^level).
-- Level 0 rows are the leaf hashes. Rows are written once and never updated.
CREATE TABLE tree_nodes (
    level   smallint NOT NULL CHECK (level >= 0 AND level < 64),
    idx     bigint   NOT NULL CHECK (idx >= 0),
    hash    bytea    NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE tree_heads (
    tree_size   bigint      PRIMARY KEY CHECK (tree_size >= 0),
    root_hash   bytea       NOT NULL,
    issued_at   timestamptz NOT NULL,
    key_id      text        NOT NULL,
    algorithm   text        NOT NULL,
    signature   bytea       NOT NULL
);

CREATE TABLE cosignatures (
    tree_size   bigint      NOT NULL REFERENCES tree_heads (tree_size),
    witness     text        NOT NULL,
    key_id      text        NOT NULL,
    algorithm   text        NOT NULL,
    cosigned_at timestamptz NOT NULL,
    signature   bytea       NOT NULL,
    PRIMARY KEY (tree_size, witness)
);

-- As a witness: every head of another site's log that this node cosigned.
CREATE TABLE witnessed_heads (
    origin      text        NOT NULL,
    tree_size   bigint      NOT NULL,
    root_hash   bytea       NOT NULL,
    issued_at   timestamptz NOT NULL,
    signature   bytea       NOT NULL,
    cosigned_at timestamptz NOT NULL,
    PRIMARY KEY (origin, tree_size)
);

-- As a witness: evidence that a log showed two different views (equivocation).
CREATE TABLE witness_alarms (
    id          bigserial   PRIMARY KEY,
    origin      text        NOT NULL,
    tree_size   bigint      NOT NULL,
    kind        text        NOT NULL,
    known_root  bytea       NOT NULL,
    shown_root  bytea       NOT NULL,
    shown_head  jsonb       NOT NULL,
    detail      text        NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now()
);
