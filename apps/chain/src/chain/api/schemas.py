"""Request and response bodies, with the limits that keep bad input out."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

HEX64 = r"^[0-9a-fA-F]{64}$"
CLEAN_TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters
METADATA_KEY = r"^[A-Za-z0-9_.\-]+$"
MAX_INT64 = 2**63 - 1

Hex64 = Annotated[
    str, Field(min_length=64, max_length=64, pattern=HEX64, examples=["66c7f0f4" * 8])
]
CANONICAL_INT = re.compile(r"0|[1-9][0-9]{0,18}")


def canonical_int(v: object) -> object:
    """A query parameter's integer as a person writes it: decimal digits only. Python's own
    int() would also take "5_0", "+5" and " 5"; two spellings of one number are one too many
    for a log whose sizes and indices are evidence."""
    if isinstance(v, str):
        if not CANONICAL_INT.fullmatch(v):
            raise ValueError("must be a whole number in decimal digits only (no sign, space,"
                             " underscore or leading zero)")
        return int(v)
    return v


def json_number(v: object) -> object:
    """In a JSON body an integer is a JSON number (28 or, as JSON Schema allows, 28.0), never
    the string "28" or true, which a lax parser would turn into one."""
    if isinstance(v, str | bool):
        what = "a string" if isinstance(v, str) else "true or false"
        raise ValueError(f"must be a JSON number, not {what}")
    return v


LeafIndex = Annotated[int, Field(ge=0, le=MAX_INT64), BeforeValidator(json_number)]
TreeSize = Annotated[int, Field(ge=0, le=MAX_INT64), BeforeValidator(json_number)]
STORAGE_NUMBER = r"^[A-Z0-9]{1,12}-[0-9A-F]{20}$"
Quorum = Annotated[
    int,
    Field(ge=0, le=32, description="distinct witness cosignatures demanded"),
    BeforeValidator(json_number),
]
# In query strings: canonical decimal text. (The last BeforeValidator runs first.)
QueryLeafIndex = Annotated[int, Field(ge=0, le=MAX_INT64), BeforeValidator(canonical_int)]
QueryTreeSize = Annotated[int, Field(ge=0, le=MAX_INT64), BeforeValidator(canonical_int)]
QueryQuorum = Annotated[
    int,
    Field(ge=0, le=32, description="distinct witness cosignatures demanded"),
    BeforeValidator(canonical_int),
]
QueryLimit = Annotated[int, Field(ge=1, le=1000), BeforeValidator(canonical_int)]


def _clean_text(v: str, what: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in v):
        raise ValueError(f"{what} must not contain control characters")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be valid Unicode text") from None
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppendRequest(Strict):
    """One piece of evidence: its digest, who submits it, and short metadata."""

    digest: Annotated[
        str,
        Field(
            min_length=64,
            max_length=64,
            pattern=HEX64,
            description="hex digest of the evidence file (SM3 or SHA-256: 64 hex digits)",
        ),
    ]
    digest_alg: Literal["sm3", "sha256"] = "sm3"
    submitter: Annotated[
        str, Field(min_length=1, max_length=200, pattern=CLEAN_TEXT, description="who registers it")
    ]
    metadata: Annotated[
        dict[
            Annotated[str, Field(min_length=1, max_length=64, pattern=METADATA_KEY)],
            Annotated[str, Field(max_length=1024, pattern=CLEAN_TEXT)],
        ],
        Field(
            max_length=32,
            description="up to 32 string fields (case number, file name, ...)",
            json_schema_extra={
                "additionalProperties": False,
                "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": METADATA_KEY},
            },
        ),
    ] = {}

    @field_validator("submitter")
    @classmethod
    def _submitter(cls, v: str) -> str:
        return _clean_text(v, "submitter")

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, v: dict[str, str]) -> dict[str, str]:
        for k, val in v.items():
            _clean_text(val, f"metadata[{k!r}]")
        return v

    @field_validator("digest")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class BatchAppendRequest(Strict):
    items: Annotated[list[AppendRequest], Field(min_length=1, max_length=1000)]


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    hashes: list[str]


class ConsistencyProof(BaseModel):
    first: int
    second: int
    hashes: list[str]


class CosignatureOut(BaseModel):
    witness: str
    key_id: str
    algorithm: str
    cosigned_at: str
    signature: str


class TreeHeadOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature_algorithm: str
    signature: str
    cosignatures: list[CosignatureOut]


class EntryOut(BaseModel):
    storage_number: str
    leaf_index: int
    digest_alg: str
    digest: str
    submitter: str
    metadata: dict[str, str]
    integrated_time: str


class AppendResponse(BaseModel):
    storage_number: str
    leaf_index: int
    integrated_time: str
    entry: EntryOut
    leaf_hash: str
    inclusion_proof: InclusionProof
    tree_head: TreeHeadOut


class BatchReceipt(BaseModel):
    storage_number: str
    leaf_index: int
    integrated_time: str


class BatchAppendResponse(BaseModel):
    receipts: list[BatchReceipt]
    tree_head: TreeHeadOut


class EvidenceBundle(BaseModel):
    entry: EntryOut
    leaf_hash: str
    inclusion_proof: InclusionProof
    tree_head: TreeHeadOut


class VerifyRequest(Strict):
    digest: Annotated[str, Field(min_length=64, max_length=64, pattern=HEX64)]
    quorum: Quorum = 0


class Failure(BaseModel):
    code: str
    detail: str


class VerifyResponse(BaseModel):
    verified: bool
    storage_number: str
    leaf_index: int
    digest_alg: str
    integrated_time: str
    tree_size: int
    digest_matches: bool | None
    failure: Failure | None
    bundle: EvidenceBundle


class CosignatureIn(Strict):
    witness: Annotated[str, Field(max_length=64)]
    key_id: Annotated[str, Field(max_length=64)]
    algorithm: Annotated[str, Field(max_length=16)]
    cosigned_at: Annotated[str, Field(max_length=40)]
    signature: Annotated[str, Field(max_length=256)]


class TreeHeadIn(Strict):
    origin: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]{0,62}$")]
    tree_size: TreeSize
    root_hash: Hex64
    timestamp: Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")]
    key_id: Annotated[str, Field(max_length=64)]
    signature_algorithm: Literal["sm2", "ed25519"]
    signature: Annotated[str, Field(min_length=2, max_length=256, pattern=r"^([0-9a-fA-F]{2})+$")]
    cosignatures: Annotated[list[CosignatureIn], Field(max_length=32)] = []


class CosignRequest(Strict):
    head: TreeHeadIn
    old_size: TreeSize
    consistency_proof: Annotated[list[Hex64], Field(max_length=128)] = []


class ObserveRequest(Strict):
    head: TreeHeadIn


class ObserveResponse(BaseModel):
    origin: str
    tree_size: int
    known: bool
    consistent: bool


class WitnessedLatest(BaseModel):
    origin: str
    tree_size: int
    root_hash: str | None


class Alarm(BaseModel):
    id: int
    origin: str
    tree_size: int
    kind: str
    known_root: str
    shown_root: str
    detail: str
    detected_at: str


class AuditProblem(BaseModel):
    """One cause: ``entry_altered``, ``entries_altered``, ``node_altered``, ``node_missing``,
    ``entry_missing``, ``head_signature_invalid``, ``cosignature_invalid``,
    ``head_root_mismatch`` or ``entries_unverified``; with what it names (leaf index and
    storage number, tree node, head size) and, for a cause, the tree nodes that changed
    because of it (``consequences``: their rows were not altered)."""

    model_config = ConfigDict(extra="allow")
    code: str


class AuditReport(BaseModel):
    tree_size: int
    root_hash: str
    ok: bool
    heads_checked: int = Field(description="signed heads whose signatures were checked")
    problems: list[AuditProblem]


class KeyInfo(BaseModel):
    origin: str
    algorithm: str
    public_key: str
    key_id: str
    tree_hash: str
    witnesses: list[dict[str, str]]


class ProblemOut(BaseModel):
    """RFC 9457 problem details; ``code`` is stable and machine-readable."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str
