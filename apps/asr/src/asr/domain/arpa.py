"""A back-off n-gram model in ARPA format, and hot words boosted in it.

A hot word is made `boost` times as likely wherever it may follow, and every distribution
is renormalised, so the model stays a proper back-off model:

    p'(w | h) = p(w | h) * (boost if w is hot else 1) / Z(h),
    Z(h)      = 1 + (boost - 1) * sum of p(v | h) over the hot words v,

for the explicit n-grams, and the back-off weight of a history h (whose shorter history is
h') becomes alpha(h) * Z(h') / Z(h), which gives every unlisted continuation exactly the
boosted, renormalised probability too. This is the unigram-boost ("class") adaptation of
a language model to a list of terms, done once per list and kept.

Hot words the model lacks (a party's name) are added as unigrams with the probability
`NEW_WORD_LOG10` before the boost.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

NEW_WORD_LOG10 = -4.0


@dataclass
class Arpa:
    # order -> {words: [log10 p, log10 back-off]}
    grams: dict[int, dict[tuple[str, ...], list[float]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Arpa:
        model = cls()
        order = 0
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("\\") and line.endswith("-grams:"):
                order = int(line[1:].split("-")[0])
                model.grams[order] = {}
                continue
            if line == "\\end\\":
                break
            if order == 0:
                continue
            parts = line.split()
            logp, words = float(parts[0]), tuple(parts[1 : 1 + order])
            bo = float(parts[1 + order]) if len(parts) > 1 + order else 0.0
            model.grams[order][words] = [logp, bo]
        if 1 not in model.grams:
            raise ValueError("not an ARPA model: no 1-grams")
        return model

    @classmethod
    def estimate(cls, sentences: Iterable[str], order: int = 3) -> Arpa:
        """Interpolated Witten-Bell estimate (Witten & Bell 1991; as in SRILM's -wbdiscount
        -interpolate), written as an exact back-off model:

            p(w | h) = lambda(h) * c(h, w) / c(h) + (1 - lambda(h)) * p(w | h'),
            lambda(h) = c(h) / (c(h) + T(h)),

        c(h) the tokens seen after h, T(h) the different words seen after h, h' the history
        one word shorter; the unigrams are relative frequencies. The back-off weight of h
        is 1 - lambda(h), so every distribution sums to one. Sentences are wrapped in
        <s> ... </s>; the vocabulary is the words of the text.
        """
        counts: dict[int, Counter[tuple[str, ...]]] = {n: Counter() for n in range(1, order + 1)}
        for sentence in sentences:
            tokens = ["<s>", *sentence.split(), "</s>"]
            for n in range(1, order + 1):
                for i in range(max(1, n - 1), len(tokens)):  # never predict <s>
                    if i - n + 1 >= 0:
                        counts[n][tuple(tokens[i - n + 1 : i + 1])] += 1
        following: dict[tuple[str, ...], list[int]] = {}  # history -> [c(h), T(h)]
        for n in range(2, order + 1):
            for gram, c in counts[n].items():
                f = following.setdefault(gram[:-1], [0, 0])
                f[0] += c
                f[1] += 1
        model = cls({n: {} for n in range(1, order + 1)})
        total = sum(counts[1].values())
        prob: dict[tuple[str, ...], float] = {}
        for (w,), c in counts[1].items():
            prob[(w,)] = c / total
        prob[("<s>",)] = 0.0
        for n in range(2, order + 1):
            for gram, c in counts[n].items():
                ch, th = following[gram[:-1]]
                lam = ch / (ch + th)
                prob[gram] = lam * c / ch + (1 - lam) * _backed_off(prob, following,
                                                                   gram[1:])
        for gram, p in prob.items():
            n = len(gram)
            bo = 0.0
            if n < order and gram in following:
                ch, th = following[gram]
                bo = math.log10(th / (ch + th))
            model.grams[n][gram] = [math.log10(p) if p > 0 else -99.0, bo]
        return model

    @property
    def order(self) -> int:
        return max(self.grams)

    def vocabulary(self) -> set[str]:
        return {w[0] for w in self.grams[1]}

    def log10p(self, word: str, history: tuple[str, ...]) -> float:
        """log10 p(word | history), backing off as the ARPA format says."""
        history = history[-(self.order - 1):] if self.order > 1 else ()
        bo = 0.0
        while True:
            entry = self.grams.get(len(history) + 1, {}).get((*history, word))
            if entry is not None:
                return bo + entry[0]
            if not history:
                return bo + -99.0
            h = self.grams.get(len(history), {}).get(history)
            bo += h[1] if h else 0.0
            history = history[1:]

    def boosted(self, hot: set[str], boost: float) -> Arpa:
        if boost <= 0:
            raise ValueError("boost must be positive")
        new = Arpa({n: {k: list(v) for k, v in g.items()} for n, g in self.grams.items()})
        for word in sorted(hot - self.vocabulary()):
            new.grams[1][(word,)] = [NEW_WORD_LOG10, 0.0]
        hot_here = sorted(hot & new.vocabulary())
        lb = math.log10(boost)

        def z(history: tuple[str, ...]) -> float:
            mass = sum(10 ** new.log10p(v, history) for v in hot_here)
            return 1.0 + (boost - 1.0) * mass

        zs: dict[tuple[str, ...], float] = {(): z(())}
        for n in range(1, new.order):
            for h in new.grams[n]:
                zs[h] = z(h)
        out = Arpa({n: {} for n in new.grams})
        for n, grams in new.grams.items():
            for words, (logp, bo) in grams.items():
                history = words[:-1]
                zh = zs.get(history)
                if zh is None:  # a history without its own entry backs off at weight 1
                    zh = zs[history[1:]] if history[1:] in zs else zs[()]
                p = logp + (lb if words[-1] in hot else 0.0) - math.log10(zh)
                if words in zs:  # this n-gram is also a history
                    bo = bo + math.log10(zs[words[1:]]) - math.log10(zs[words])
                out.grams[n][words] = [p, bo]
        return out

    def text(self) -> str:
        lines = ["\\data\\"]
        lines += [f"ngram {n}={len(g)}" for n, g in sorted(self.grams.items())]
        for n, grams in sorted(self.grams.items()):
            lines += ["", f"\\{n}-grams:"]
            for words, (logp, bo) in sorted(grams.items()):
                tail = f" {bo:.6f}" if n < self.order else ""
                lines.append(f"{logp:.6f} {' '.join(words)}{tail}")
        lines += ["", "\\end\\", ""]
        return "\n".join(lines)


def _backed_off(prob: dict[tuple[str, ...], float],
                following: dict[tuple[str, ...], list[int]], gram: tuple[str, ...]) -> float:
    """p(gram[-1] | gram[:-1]) from the probabilities estimated so far (lower orders)."""
    weight = 1.0
    while gram not in prob:
        ch, th = following.get(gram[:-1], (0, 0))
        if ch:
            weight *= th / (ch + th)
        gram = gram[1:]
    return weight * prob[gram]
