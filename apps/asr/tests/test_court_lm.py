"""The court-domain language model: what it is built from, that the shipped file is what
the build gives, and that the estimate and the hot-word boost are proper distributions."""

from __future__ import annotations

import math

import pytest
from asr import court_lm, court_text, synth
from asr.domain.arpa import Arpa
from asr.domain.engine import COURT_LM, PocketSphinxEngine
from asr.settings import Settings, SettingsError


def _total(model: Arpa, history: tuple[str, ...]) -> float:
    vocabulary = sorted(model.vocabulary() - {"<s>"})
    return sum(10 ** model.log10p(w, history) for w in vocabulary)


def test_witten_bell_estimate_is_normalised_and_backs_off() -> None:
    model = Arpa.estimate(["the court is in session", "the court adjourns",
                           "the plaintiff asks the court"])
    for history in [(), ("<s>",), ("the",), ("the", "court"), ("court", "is"), ("xyz",)]:
        assert _total(model, history) == pytest.approx(1.0, abs=1e-4)
    # seen continuations are likelier than unseen ones, which still get some mass
    assert model.log10p("court", ("<s>", "the")) > model.log10p("plaintiff", ("<s>", "the"))
    assert -99 < model.log10p("session", ("the", "plaintiff")) < -1


def test_boost_multiplies_hot_words_and_stays_normalised() -> None:
    model = Arpa.estimate(court_text.sentences(7, 400))
    boosted = model.boosted({"court", "goods"}, 10.0)
    for history in [(), ("the",), ("the", "court"), ("pay", "the")]:
        assert _total(boosted, history) == pytest.approx(1.0, abs=1e-4)
    before = 10 ** model.log10p("court", ("<s>", "the"))
    after = 10 ** boosted.log10p("court", ("<s>", "the"))
    assert 1.5 < after / before <= 10.0  # up, by at most the boost (renormalised)
    assert boosted.log10p("party", ("<s>", "the")) < model.log10p("party", ("<s>", "the"))
    # a name the model lacks becomes a word it can hear
    named = model.boosted({"alibaba"}, 10.0)
    assert model.log10p("alibaba", ()) == -99.0 and named.log10p("alibaba", ()) > -4


def test_the_shipped_model_is_what_the_court_texts_give() -> None:
    assert court_lm.main(["--check"]) == 0
    shipped = Arpa.parse(COURT_LM.read_text(encoding="utf-8"))
    assert shipped.order == 3
    text = court_lm.training_text()
    assert shipped.vocabulary() == court_text.words_of(text) | {"<s>", "</s>"}


def test_the_model_is_built_from_court_texts_only_not_from_any_test_sentence() -> None:
    training = set(court_lm.training_text())
    tests = [*synth.SENTENCES, *synth.NAME_SENTENCES]
    assert not training & set(tests)
    held_out = court_text.spoken_sentences(court_lm.HELD_OUT_SEED, 60, avoid=training)
    tuning = court_text.spoken_sentences(court_lm.TUNING_SEED, 60, avoid=training)
    assert not training & set(held_out) and not training & set(tuning)
    assert set(held_out) != set(tuning)
    # the seeds are the generator's only input: same seed, same text
    assert court_text.sentences(court_lm.LM_SEED, 50) == court_lm.training_text()[:50]
    # the litigation app's three templates and its filings are all rendered
    court = court_text.Court(1)
    assert any("summons" in s for s in court.summons())
    assert any("case acceptance fee" in s for s in court.acceptance_notice())
    assert any("mediation" in s for s in court.mediation_agreement())
    assert any("complaint" in s for s in court.filing())


def test_numbers_are_spoken_as_words() -> None:
    assert court_text.number(1250) == "one thousand two hundred fifty"
    assert court_text.number(90_000) == "ninety thousand"
    assert court_text.ordinal(21) == "twenty first" and court_text.ordinal(30) == "thirtieth"
    assert court_text.year(2019) == "twenty nineteen" and court_text.year(2005) == \
        "two thousand five"
    with pytest.raises(ValueError):
        court_text.number(-1)


def test_court_model_is_the_default_and_selectable(engine: PocketSphinxEngine) -> None:
    assert engine.language_model == "court"
    info = engine.describe()
    assert info["language_model"] == "court" and "court-domain" in info["model"]
    assert Settings().language_model == ""  # the engine's default: court
    with pytest.raises(SettingsError, match="ASR_LANGUAGE_MODEL"):
        Settings.from_env({"ASR_LANGUAGE_MODEL": "courtroom"})
    assert Settings.from_env({"ASR_LANGUAGE_MODEL": "generic"}).language_model == "generic"


def test_mixture_scores_sequences_under_both_models(engine: PocketSphinxEngine) -> None:
    court_phrase = ["the", "court", "orders", "the", "defendant", "to", "return", "the", "goods"]
    plain_phrase = ["please", "be", "seated", "everyone"]
    # the court's phrasing is likelier under the mixture than under the generic model alone
    only_generic = engine._mixture_ln(None, court_phrase)
    mixed = engine._mixture_ln(engine._arpa, court_phrase)
    assert mixed > only_generic
    # everyday speech the court model lacks keeps (half) its generic probability
    assert engine._mixture_ln(engine._arpa, plain_phrase) == pytest.approx(
        engine._mixture_ln(None, plain_phrase) + math.log(0.5), abs=0.01)
