"""The court's own texts in English words, as a seeded generator: training text for the
court language model (`asr.court_lm`) and, with other seeds, held-out test sentences.

Three kinds of text, every one from the court's work rather than from a test corpus:

1. **The litigation app's document templates** (apps/litigation/src/litigation/templates:
   summons, acceptance notice, mediation agreement). Their text is Chinese; the paragraphs
   below are English renderings of the same paragraphs, filled with generated parties,
   causes, dates, amounts and places, the way the litigation app fills its elements.
2. **Filings** as the litigation app receives them (`POST /v1/cases`: cause, facts, claims
   with amounts, parties on both sides), rendered as sentences.
3. **What is said at a hearing**: the presiding judge's procedure, the parties' statements,
   the examination of evidence, objections, mediation and the judgment, as a small grammar.

Everything is written as a speaker says it: lower case, numbers, amounts and dates in
words, no punctuation. The same seed gives the same sentences on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

# ---------------------------------------------------------------------------- numbers

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
        "nine": "ninth", "twelve": "twelfth"}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")


def number(n: int) -> str:
    """A non-negative integer below a billion in words: 1250 -> one thousand two hundred
    fifty (no "and", as American court reporters write it)."""
    if n < 0 or n >= 10**9:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" " + number(rest) if rest else "")
    for size, name in ((10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number(n // size) + " " + name + (" " + number(rest) if rest else "")
    raise AssertionError(n)


def ordinal(n: int) -> str:
    words = number(n).split()
    last = words[-1]
    if last in _ORD:
        words[-1] = _ORD[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year(y: int) -> str:
    if 2000 <= y < 2010:
        return "two thousand" + ("" if y == 2000 else " " + number(y - 2000))
    return number(y // 100) + " " + (number(y % 100) if y % 100 >= 10
                                     else "oh " + number(y % 100))


# ---------------------------------------------------------------------------- the grammar

SURNAMES = ("zhang", "wang", "li", "chen", "liu", "zhao", "yang", "huang", "zhou", "wu", "xu",
            "sun", "ma", "hu", "lin", "gao", "luo", "zheng", "liang", "song", "tang", "feng",
            "deng", "han", "cao", "peng")
TITLES = ("mister", "missus", "miss", "ms")
COMPANY_KINDS = ("technology company", "trading company", "network technology company",
                 "logistics company", "software company", "culture media company",
                 "electronic commerce company", "information services company",
                 "e-commerce platform", "online shop", "payment company", "insurance company")
CITIES = ("beijing", "shanghai", "shenzhen", "guangzhou")
CAUSES = ("online shopping contract dispute", "network service contract dispute",
          "copyright infringement dispute", "loan contract dispute",
          "domain name dispute", "product liability dispute",
          "internet infringement dispute", "online loan contract dispute",
          "personality rights dispute", "trademark infringement dispute",
          "sales contract dispute", "service contract dispute")
GOODS = ("goods", "mobile phone", "laptop computer", "television", "washing machine",
         "pair of shoes", "winter coat", "camera", "bicycle", "set of furniture",
         "box of tea", "watch", "refrigerator", "printer")
EVIDENCE = ("the order record", "the chat record", "the payment record",
            "the delivery record", "the screenshots of the web page",
            "the electronic contract", "the blockchain record", "the video recording",
            "the invoice", "the bank statement", "the notary certificate",
            "the email", "the product photographs", "the logistics record")
PLACES = ("court room one", "court room two", "court room three", "court room five",
          "the online court room", "the main court room")
SIDES = ("plaintiff", "defendant", "third party", "witness", "agent")
JUDGE_ROLES = ("presiding judge", "judge", "people's assessor", "clerk", "court clerk")


class Court:
    """One generator: `sentence()` gives the next sentence, `document()` a whole document."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # --- small pieces
    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.r.choice(options)

    def person(self) -> str:
        return f"{self.pick(TITLES)} {self.pick(SURNAMES)}"

    def company(self) -> str:
        kind = self.pick(COMPANY_KINDS)
        return self.r.choice((f"a {self.pick(CITIES)} {kind}", f"the {kind}",
                              f"{self.pick(CITIES)} {self.pick(SURNAMES)} {kind}"))

    def party(self) -> str:
        return self.person() if self.r.random() < 0.5 else self.company()

    def official(self) -> str:
        return f"{self.pick(('judge', 'presiding judge', 'mediator', 'clerk'))} " \
               f"{self.pick(SURNAMES)}"

    def amount(self) -> str:
        n = self.r.choice((self.r.randint(1, 99) * 100, self.r.randint(1, 999) * 1000,
                           self.r.randint(100, 99999), self.r.randint(1, 50) * 10000))
        unit = self.pick(("yuan", "yuan", "renminbi", "yuan in damages"))
        return f"{number(n)} {unit}"

    def date(self) -> str:
        day, month = self.r.randint(1, 28), self.pick(MONTHS)
        y = year(self.r.randint(2018, 2025))
        return self.r.choice((f"{month} {ordinal(day)} {y}", f"the {ordinal(day)} of {month}",
                              f"{month} {ordinal(day)}", f"the {ordinal(day)} of {month} {y}"))

    def time(self) -> str:
        hour = self.r.randint(8, 11) if self.r.random() < 0.5 else self.r.randint(1, 5)
        minute = self.pick(("", " thirty", " fifteen", " forty five"))
        part = "in the morning" if hour >= 8 else "in the afternoon"
        return f"{number(hour)}{minute} {part}"

    def days(self) -> str:
        return self.pick(("seven", "ten", "fifteen", "thirty"))

    def item(self) -> str:
        return self.pick(GOODS)

    def side(self) -> str:
        return self.pick(("plaintiff", "defendant"))

    # --- 1. the litigation app's templates, in English
    def summons(self) -> list[str]:
        p, d, who = self.party(), self.party(), self.person()
        out = [f"in the {self.pick(CAUSES)} between {p} and {d} this court will hear the case "
               f"on {self.date()} at {self.time()} and summons {who} the "
               f"{self.pick(SIDES)} to appear in court on time",
               "the summoned party must arrive at the place of the hearing on time"]
        if self.r.random() < 0.5:
            out.append("this case will be heard online please log in to the litigation "
                       "platform fifteen minutes before the hearing to complete the identity "
                       "check and the device test")
        else:
            out.append(f"this case will be heard in {self.pick(PLACES)} please bring this "
                       "summons and proof of your identity")
        if self.r.random() < 0.6:
            out.append("this case will be heard in public")
        out.append("if the summoned party refuses to appear in court without a good reason "
                   "this court will deal with it according to law")
        if self.r.random() < 0.7:
            out.append(f"the judge of this case is judge {self.pick(SURNAMES)}")
        return out

    def acceptance_notice(self) -> list[str]:
        out = [f"to {self.party()} the statement of claim you filed on {self.date()} against "
               f"{self.party()} in the {self.pick(CAUSES)} has been received",
               "after examination the claim meets the legal conditions for acceptance and "
               f"this court decided on {self.date()} to accept the case"]
        for n, claim in enumerate(self._claims(), 1):
            out.append(f"claim {number(n)} {claim}")
        if self.r.random() < 0.6:
            out.append(f"please pay the case acceptance fee of {self.amount()} through the "
                       f"litigation platform within {self.days()} days of receiving this "
                       "notice")
            out.append("if the fee is not paid on time and no deferral is applied for the "
                       "claim will be treated as withdrawn")
        else:
            out.append(f"you have paid the case acceptance fee of {self.amount()}")
        out.append(f"this case is handled by judge {self.pick(SURNAMES)}")
        return out

    def mediation_agreement(self) -> list[str]:
        out = [f"the parties are the plaintiff {self.party()} and the defendant {self.party()}",
               f"under the mediation of mediator {self.pick(SURNAMES)} both parties "
               "voluntarily reached the following agreement"]
        terms = [f"the defendant shall refund {self.amount()} to the plaintiff before "
                 f"{self.date()}",
                 f"the defendant shall pay the plaintiff {self.amount()} in "
                 f"{self.pick(('two', 'three', 'four', 'six'))} installments",
                 f"the plaintiff shall return the {self.item()} to the defendant within "
                 f"{self.days()} days",
                 "the plaintiff withdraws the other claims against the defendant",
                 f"the case acceptance fee of {self.amount()} shall be borne by the defendant",
                 "the case acceptance fee shall be borne by both parties in equal shares",
                 "both parties have no other disputes arising from this case"]
        self.r.shuffle(terms)
        for n, term in enumerate(terms[: self.r.randint(2, 4)], 1):
            out.append(f"term {number(n)} {term}")
        if self.r.random() < 0.6:
            out.append(f"this agreement was confirmed online by both parties on {self.date()} "
                       "and takes effect from the day both parties confirm it")
        else:
            out.append("this agreement has yet to be confirmed online by both parties and "
                       "does not take effect before it is confirmed")
        return out

    # --- 2. filings
    def _claims(self) -> list[str]:
        first = self.r.choice((
            f"order the defendant to refund the price of the {self.item()} of {self.amount()}",
            f"order the defendant to pay {self.amount()} in damages",
            f"order the defendant to deliver the {self.item()} as agreed",
            f"order the defendant to repay the loan of {self.amount()} and the interest",
            "order the defendant to stop the infringement and delete the content",
            "order the defendant to make a public apology on its website",
            f"order the defendant to pay {self.amount()} for the breach of contract",
        ))
        return [first, "order the defendant to bear the litigation costs of this case"][
            : self.r.randint(1, 2)]

    def filing(self) -> list[str]:
        p, d, item = self.party(), self.party(), self.item()
        facts = self.r.choice((
            [f"the plaintiff bought a {item} from the defendant on the online platform on "
             f"{self.date()}", "the defendant did not deliver the goods as agreed"],
            [f"the plaintiff paid {self.amount()} for the {item} but the goods were damaged "
             "when they arrived", "the defendant refused to refund the price of the goods"],
            [f"the plaintiff lent {self.amount()} to the defendant on {self.date()}",
             "the defendant did not repay the loan when it was due"],
            [f"the defendant published the plaintiff's work on its website without "
             f"permission on {self.date()}", "the plaintiff asks for the infringement to stop"],
            [f"the defendant sold a {item} that did not match its description",
             "the plaintiff returned the goods but received no refund"],
        ))
        out = [f"the plaintiff {p} filed a complaint against the defendant {d} in a "
               f"{self.pick(CAUSES)}", *facts]
        out += [f"the plaintiff asks the court to {c}" for c in self._claims()]
        return out

    # --- 3. the hearing
    def hearing_sentence(self) -> str:
        s = self.side()
        other = "defendant" if s == "plaintiff" else "plaintiff"
        ev = self.pick(EVIDENCE)
        options: tuple[Callable[[], str], ...] = (
            lambda: f"this court now opens the hearing of the {self.pick(CAUSES)}",
            lambda: f"the court will now hear the case of {self.party()} against {self.party()}",
            lambda: f"the {self.pick(JUDGE_ROLES)} will check the identity of the parties",
            lambda: f"the {s} may now state the claims and the facts",
            lambda: f"the {s} please state your claims",
            lambda: f"the {s} please answer the claims of the {other}",
            lambda: f"does the {s} apply for any member of the court to withdraw",
            lambda: f"the {s} does not apply for withdrawal",
            lambda: f"the {s} submits {ev} as evidence",
            lambda: f"the {s} submitted {ev} to prove that the goods were delivered",
            lambda: f"the {s} please give your opinion on the evidence of the {other}",
            lambda: f"the {s} has no objection to the authenticity of {ev}",
            lambda: f"the {s} objects to the relevance of {ev}",
            lambda: f"the court finds {ev} authentic and admits it as evidence",
            lambda: f"the court does not admit {ev} because it is not relevant",
            lambda: f"the {s} asks the court to order the {other} to pay {self.amount()}",
            lambda: f"the {s} bought the {self.item()} on {self.date()} for {self.amount()}",
            lambda: f"the {other} did not deliver the goods within {self.days()} days",
            lambda: f"the goods were returned to the {other} on {self.date()}",
            lambda: f"the {s} says the goods were damaged when they arrived",
            lambda: f"the {s} received the goods but the quality was poor",
            lambda: f"the {s} paid {self.amount()} for the goods on {self.date()}",
            lambda: f"the {s} denies that the contract was breached",
            lambda: f"the {s} breached the contract by not delivering the {self.item()}",
            lambda: f"the {s} claims damages of {self.amount()}",
            lambda: f"objection the {other} is asking a leading question",
            lambda: self.pick(("objection sustained", "objection overruled",
                               "the objection is sustained", "the objection is overruled")),
            lambda: f"the witness {self.person()} will now testify",
            lambda: "the witness must tell the truth and may not stay in the court room",
            lambda: f"the witness saw the {s} sign the contract on {self.date()}",
            lambda: "the court will now hear the debate of the parties",
            lambda: f"the {s} may make a final statement",
            lambda: f"does the {s} agree to mediation",
            lambda: f"the {s} agrees to mediation but asks for {self.amount()}",
            lambda: "the mediation failed and the court will give its judgment",
            lambda: f"the court adjourns the hearing until {self.date()} at {self.time()}",
            lambda: f"the hearing is adjourned for {self.pick(('ten', 'fifteen', 'twenty'))}"
                    " minutes",
            lambda: "the court is in session again",
            lambda: f"the court has jurisdiction over this {self.pick(CAUSES)}",
            lambda: f"the court orders the {s} to pay {self.amount()} within "
                    f"{self.days()} days",
            lambda: f"the court orders the {s} to return the goods to the {other}",
            lambda: f"the court dismisses the other claims of the {s}",
            lambda: f"the case acceptance fee of {self.amount()} shall be borne by the {s}",
            lambda: f"the judgment will be served on the parties within {self.days()} days",
            lambda: f"if the {s} does not accept this judgment an appeal may be filed within "
                    f"{self.days()} days",
            lambda: f"the {s} will appeal to the higher court",
            lambda: f"the {s} asks the court for an injunction against the {other}",
            lambda: f"the evidence stored on the blockchain shows the order of "
                    f"{self.date()}",
            lambda: f"the arbitration clause in the contract does not apply to the {s}",
            lambda: f"the clerk will read the court record to the {s}",
            lambda: "the parties will sign the court record after the hearing",
            lambda: f"{self.official()} please continue",
            lambda: f"the {s} {self.person()} is present in court",
            lambda: f"the agent of the {s} is lawyer {self.pick(SURNAMES)}",
            lambda: f"the court will announce the judgment on {self.date()}",
            lambda: "the hearing is now closed",
        )
        return self.r.choice(options)()

    def document(self) -> list[str]:
        kind = self.r.random()
        if kind < 0.12:
            return self.summons()
        if kind < 0.24:
            return self.acceptance_notice()
        if kind < 0.36:
            return self.mediation_agreement()
        if kind < 0.5:
            return self.filing()
        return [self.hearing_sentence() for _ in range(self.r.randint(4, 12))]


def sentences(seed: int, n: int) -> list[str]:
    """n sentences of court text from one seed (whole documents, cut at n)."""
    court = Court(seed)
    out: list[str] = []
    while len(out) < n:
        out.extend(court.document())
    return out[:n]


def spoken_sentences(seed: int, n: int, max_words: int = 22,
                     avoid: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """n distinct sentences short enough to say in one breath (test clips), none in
    `avoid` (the language model's training text, so a held-out clip is unseen text)."""
    court = Court(seed)
    out: list[str] = []
    seen = set(avoid)
    while len(out) < n:
        for s in court.document():
            if s not in seen and len(s.split()) <= max_words:
                seen.add(s)
                out.append(s)
    return out[:n]


def words_of(texts: Iterator[str] | list[str]) -> set[str]:
    return {w for t in texts for w in t.split()}


# The terms a court reporter puts on the hot-word list for these hearings (the issue's
# problem words "court" and "goods" among them).
HOT_WORDS: tuple[str, ...] = (
    "court", "goods", "plaintiff", "defendant", "judgment", "evidence", "contract",
    "summons", "mediation", "refund", "damages", "appeal", "injunction", "jurisdiction",
    "arbitration", "blockchain", "objection", "witness", "claims", "hearing",
)
