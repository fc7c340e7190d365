"""Word error rate."""

from __future__ import annotations


def edit_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c in " '" else " " for c in text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / max(1, len(ref))


def recall(reference: str, hypothesis: str, terms: tuple[str, ...]) -> tuple[int, int]:
    """(found, expected): occurrences of the terms in the reference that the hypothesis has."""
    ref, hyp = words(reference), words(hypothesis)
    expected = found = 0
    for term in terms:
        n = ref.count(term)
        expected += n
        found += min(n, hyp.count(term))
    return found, expected
