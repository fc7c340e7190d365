"""Court fees: the case acceptance fee by the tiered schedule for property cases.

The schedule is the one of the State Council's Measures on the Payment of Litigation
Costs (2007), article 13: a fixed 50 yuan up to 10,000 yuan claimed, then a marginal
rate for each band of the amount claimed. Amounts are integers in fen (0.01 yuan).
"""

from __future__ import annotations

# (upper bound of the band in yuan, marginal rate in basis points); None = no bound
PROPERTY_BANDS: tuple[tuple[int | None, int], ...] = (
    (100_000, 250),
    (200_000, 200),
    (500_000, 150),
    (1_000_000, 100),
    (2_000_000, 90),
    (5_000_000, 80),
    (10_000_000, 70),
    (20_000_000, 60),
    (None, 50),
)
BASE_FEN = 50_00  # 50 yuan covers the first 10,000 yuan
BASE_LIMIT_FEN = 10_000_00
NON_PROPERTY_FEN = 50_00


def acceptance_fee(claim_total_fen: int) -> tuple[int, str]:
    """(fee in fen, how it was reached) for a claim of ``claim_total_fen``."""
    if claim_total_fen < 0:
        raise ValueError("a claim amount cannot be negative")
    if claim_total_fen == 0:
        return NON_PROPERTY_FEN, "non-property case: 50 yuan per case"
    if claim_total_fen <= BASE_LIMIT_FEN:
        return BASE_FEN, "property case up to 10,000 yuan: 50 yuan"
    fee_x10000 = BASE_FEN * 10_000  # fen x basis points, exact integer arithmetic
    lower = BASE_LIMIT_FEN
    for upper_yuan, bp in PROPERTY_BANDS:
        upper = None if upper_yuan is None else upper_yuan * 100
        top = claim_total_fen if upper is None else min(claim_total_fen, upper)
        if top > lower:
            fee_x10000 += (top - lower) * bp
        if upper is None or claim_total_fen <= upper:
            break
        lower = upper
    fee = (fee_x10000 + 5_000) // 10_000  # round half up to the fen
    return fee, f"property case: tiered rate on {format_yuan(claim_total_fen)} yuan claimed"


def format_yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"
