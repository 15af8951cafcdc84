"""Microsoft Presidio's analyzer vs our redactor on the blind PII corpus: values left raw, false redactions, speed.

Presidio is measured, never shipped: it is not a dependency of this project. Install it in a venv of its own (no
model is downloaded, ever; the project itself goes on ``PYTHONPATH``)::

    python3 -m venv /tmp/presidio-venv
    /tmp/presidio-venv/bin/pip install presidio-analyzer python-stdnum phonenumbers faker
    PYTHONPATH=. nice /tmp/presidio-venv/bin/python bench/presidio_bench.py

Systems:

* ``presidio``: presidio-analyzer as shipped: its default recognizers for English, its lemma context enhancer with
  default settings (5 words before the match, none after, substring matching);
* ``presidio+ours``: the same, plus its own recognizers for our markets that are off by default (ABA routing, UK
  NINO / passport / driving licence, ZA ID / passport / licence / phones), its phone recognizer on our regions
  (GB, US, ZA, MX, BR, AR, CO), pattern recognizers written here from our redactor's rules (context-scored account,
  sort code, national ID, SSN/ITIN, passport and licence numbers; NANP, trunk-0 and short local phones; CPF and
  long-number cards with check digits; CURP, NINO shapes), and a context window of 3 words after the match too;
* ``ours``: ``automations.redaction.Redactor``.

Offline: spaCy model wheels are not on PyPI and nothing may be fetched at run time, so presidio runs on a blank
spaCy English pipeline saved to a temporary folder and loaded through presidio's own ``NlpEngineProvider`` (a model
path, so no download is attempted), with one component that sets each token's lemma to its lower-cased text so that
the context enhancer can work. Consequence: presidio's NER (PERSON, LOCATION, NRP, ORGANIZATION) finds nothing; its
pattern recognizers, check-digit validators and context enhancer all work. The e-mail validator's public-suffix list
is the copy bundled with ``tldextract`` (no fetch).

Each presidio system is analysed once with no score threshold, then filtered at every ``--thresholds`` value (0 is
presidio's default: every match counts, however weak; 0.4 is the score its context enhancer gives a weak pattern with
a context word). Spans of DATE_TIME and URL (kept on purpose, dates matter in support) and of the NER-only entities
are not redacted; everything else presidio reports is, as its anonymizer would.

Figures, per system: values left raw by type on ``evals/data/pii_corpus.jsonl`` (each message redacted on its own, a
value is raw when it survives verbatim or as its digits without separators: :func:`evals.pii_corpus.find_raw`, the
rule of ``autopilot eval pii``); false redactions, the share of Banking77 *train* questions changed at all
(``BANKING77_DIR`` or ``../shared/datasets/banking77``), and, because only about 2% of those questions hold a digit,
the share of 270 ordinary banking texts full of numbers that are not PII (amounts, dates, times, references, "card
ending 1234": ``bench/redaction_bench.py``'s negatives, on which our redactor was tuned, so it is favoured there);
messages per second on one CPU (the process is pinned to one core; the two timing rows are the corpus and Banking77).
The corpus is blind: only counts are printed, never its messages; ``--examples`` prints false redactions.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    import phonenumbers
    import spacy
    import tldextract
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer import predefined_recognizers as pr
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from spacy.language import Language
    from stdnum import luhn
    from stdnum.br import cpf
except ImportError as exc:  # pragma: no cover - the message is the point
    sys.exit(
        f"presidio_bench: cannot import {exc.name!r} (presidio-analyzer and what this bench needs with it). Presidio"
        " is not a project dependency; run this bench from its own venv:\n  python3 -m venv /tmp/presidio-venv\n"
        "  /tmp/presidio-venv/bin/pip install presidio-analyzer python-stdnum phonenumbers faker\n"
        "  PYTHONPATH=. nice /tmp/presidio-venv/bin/python bench/presidio_bench.py"
    )

from automations.redaction import Redactor  # noqa: E402
from bench.redaction_bench import negatives  # noqa: E402
from evals.pii_corpus import DEFAULT_PATH, KINDS, PiiItem, find_raw, read_jsonl  # noqa: E402

REGIONS = ["GB", "US", "ZA", "MX", "BR", "AR", "CO"]
# Not redacted: dates are kept on purpose; URLs are out of scope; the NER entities cannot fire on a blank pipeline.
KEPT = {"DATE_TIME", "URL", "PERSON", "LOCATION", "NRP", "ORGANIZATION"}
# Recognizers presidio has for our markets but ships disabled.
MARKET_BUILTINS = (
    "AbaRoutingRecognizer",
    "UkNinoRecognizer",
    "UkPassportRecognizer",
    "UkDrivingLicenceRecognizer",
    "ZaIdNumberRecognizer",
    "ZaPassportRecognizer",
    "ZaDriverLicenseRecognizer",
    "ZaMobileNumberRecognizer",
    "ZaTelephoneNumberRecognizer",
)
ID_CONTEXT = ["id", "identity", "identification", "dni", "cpf", "curp", "rfc", "cuit", "cuil", "nuip", "cedula"]
ID_CONTEXT += ["cédula", "rut", "nit", "nino", "insurance", "tax"]
WEAK = 0.05  # a pattern that counts only with a context word (at a 0.4 threshold)
EXT = r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?"


# ---------------------------------------------------------------------------------------------------------------------
# Presidio, offline
# ---------------------------------------------------------------------------------------------------------------------


@Language.component("lower_lemma")
def lower_lemma(doc: Any) -> Any:
    """Lemma = lower-cased text: the blank pipeline has no lemmatizer and the context enhancer reads lemmas."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def _offline_nlp_engine(folder: Path) -> Any:
    """Presidio's spaCy engine on a blank English pipeline saved under ``folder`` (a path: no download)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lower_lemma")
    folder.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(folder / "blank_en")
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(folder / "blank_en")}]}
    return NlpEngineProvider(nlp_configuration=config).create_engine()


class ChecksumRecognizer(PatternRecognizer):  # type: ignore[misc]
    """A pattern recognizer whose matches must pass ``check`` (then scored 1.0, as presidio does for validators)."""

    def __init__(self, name: str, entity: str, patterns: list[Pattern], context: list[str], check: Any) -> None:
        super().__init__(supported_entity=entity, name=name, patterns=patterns, context=context)
        self._check = check

    def validate_result(self, pattern_text: str) -> bool:
        return bool(self._check(re.sub(r"\D", "", pattern_text)))


def _card_ok(number: str) -> bool:
    if number[0] == "0" or not luhn.is_valid(number):
        return False
    return 13 <= len(number) <= 19 or (len(number) == 12 and re.match(r"50|5[6-8]|6|0604", number) is not None)


def _cpf_ok(number: str) -> bool:
    if len(number) != 11 or not cpf.is_valid(number):
        return False
    if number[0] != "0":
        return True
    try:  # a valid 0-prefixed number of 11 digits is a phone number first (our redactor's rule)
        return not phonenumbers.is_valid_number(phonenumbers.parse(number, "BR"))
    except phonenumbers.NumberParseException:
        return True


def _pattern(entity: str, name: str, regex: str, score: float, context: list[str]) -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity=entity, name=name, patterns=[Pattern(name, regex, score)], context=context
    )


def our_recognizers() -> list[EntityRecognizer]:
    """Recognizers for our markets that presidio lacks, written from ``automations.redaction``'s rules."""
    number = r"(?<![\w.,/$£€-])(?:[A-Z]{1,4}(?=\d))?\d(?:[ -]?\d){%d,%d}(?![\w$£€%%]|[.,/:]\d)"
    return [
        _pattern(
            "ACCOUNT_NUMBER",
            "OurAccountRecognizer",
            number % (5, 21),
            WEAK,
            ["account", "acct", "a/c", "member", "customer", "client", "iban", "bban", "clabe", "cbu", "cuenta"],
        ),
        _pattern("SORT_CODE", "OurSortCodeRecognizer", r"(?<![\d-])\d{2}[- ]\d{2}[- ]\d{2}(?![\d-])", WEAK, ["sort"]),
        _pattern(
            "NATIONAL_ID",
            "OurNationalIdRecognizer",
            number % (5, 15),
            WEAK,
            ID_CONTEXT,
        ),
        _pattern(
            "US_SSN",
            "OurSsnRecognizer",
            r"(?<![\d-])\d{3}(?:-\d{2}-|\s\d{2}\s)\d{4}(?![\d-])|(?<![\w-])\d{9}(?![\w-])",
            WEAK,
            ["ssn", "social", "itin", "taxpayer"],
        ),
        PatternRecognizer(
            supported_entity="US_SSN",
            name="OurDashedSsnRecognizer",
            patterns=[Pattern("dashed SSN/ITIN", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", 0.5)],
            context=["ssn", "social", "itin", "taxpayer"],
        ),
        _pattern(
            "ID_DOCUMENT",
            "OurDocumentRecognizer",
            r"(?<![\w-])(?=(?:[A-Z0-9-]*\d){3})[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){4,19}(?![\w-])",
            WEAK,
            ["passport", "licence", "license", "dl", "d/l", "driver", "driving"],
        ),
        _pattern(
            "PHONE_NUMBER",
            "OurNanpRecognizer",
            rf"(?<![\w+])(?:\+?1[ .-]?)?\(?\d{{3}}\)?[ .-]?\d{{3}}[ .-]\d{{4}}{EXT}(?!\w)",
            0.5,
            ["phone", "call", "mobile", "cell", "tel", "whatsapp"],
        ),
        _pattern(
            "PHONE_NUMBER",
            "OurTrunkPhoneRecognizer",
            rf"(?<![\w+])(?:\(0\d{{1,4}}\)|0\d{{1,4}})(?:[ .-]?\d){{6,11}}{EXT}(?![\w$£€%]|[.,/:]\d)",
            0.4,
            ["phone", "call", "mobile", "cell", "tel", "whatsapp"],
        ),
        _pattern(
            "PHONE_NUMBER",
            "OurIntlPhoneRecognizer",
            rf"(?:\+|\b00)\d{{1,3}}(?:[ .-]?\(?\d+\)?)+{EXT}(?!\w)",
            0.5,
            ["phone", "call", "mobile", "cell", "tel", "whatsapp"],
        ),
        _pattern(
            "PHONE_NUMBER",
            "OurLocalPhoneRecognizer",
            rf"(?<![\w+$£€.,/:-])\(?\d{{2,4}}\)?[ .-]?\d{{3,4}}(?:[ .-]\d{{3,4}})?{EXT}(?![\w$£€%]|[.,/:]\d)",
            WEAK,
            ["phone", "call", "mobile", "cell", "tel", "landline", "whatsapp", "ring", "text", "reach", "contact"],
        ),
        ChecksumRecognizer(
            "OurCardRecognizer",
            "CREDIT_CARD",
            [Pattern("card 12-19 digits", r"(?<![\d+])\d(?:[ -]?\d){11,18}(?![\d])", 0.5)],
            ["card", "visa", "mastercard", "amex", "maestro"],
            _card_ok,
        ),
        ChecksumRecognizer(
            "OurCpfRecognizer",
            "BR_CPF",
            [Pattern("CPF", r"(?<![\d.])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?![\d-]|\.\d)", 0.3)],
            ["cpf"],
            _cpf_ok,
        ),
        _pattern("MX_CURP", "OurCurpRecognizer", r"(?<!\w)[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d(?!\w)", 0.6, ["curp"]),
        PatternRecognizer(
            supported_entity="UK_NINO",
            name="OurNinoRecognizer",
            patterns=[
                Pattern(
                    "NINO, HMRC letters",
                    r"(?<!\w)(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-TW-Z][A-CEGHJ-NP-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)",
                    0.5,
                ),
                Pattern("NINO shape", r"(?<![\w-])[A-Z]{2}(?: ?\d{2} ?\d{2} ?\d{2}| \d{6}) ?[A-Z](?![\w-])", 0.3),
            ],
            context=["nino", "insurance", "ni"],
        ),
    ]


def build_presidio(folder: Path, *, ours: bool) -> AnalyzerEngine:
    """Presidio as shipped (``ours=False``), or with our markets' recognizers and a context window after the match."""
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # the bundled public-suffix list, no fetch
    engine = _offline_nlp_engine(folder)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    enhancer = None
    if ours:
        registry.remove_recognizer("PhoneRecognizer")
        registry.add_recognizer(pr.PhoneRecognizer(supported_regions=REGIONS))
        for name in MARKET_BUILTINS:
            registry.add_recognizer(getattr(pr, name)())
        for recognizer in our_recognizers():
            registry.add_recognizer(recognizer)
        enhancer = LemmaContextAwareEnhancer(context_prefix_count=5, context_suffix_count=3)
    return AnalyzerEngine(
        registry=registry, nlp_engine=engine, supported_languages=["en"], context_aware_enhancer=enhancer
    )


Found = list[tuple[int, int, float]]  # start, end, score


def presidio_spans(analyzer: AnalyzerEngine) -> Callable[[str], Found]:
    """Every span the analyzer reports (no threshold), less the entities we keep."""

    def spans(text: str) -> Found:
        results: list[RecognizerResult] = analyzer.analyze(text, language="en", score_threshold=0.0)
        return [(r.start, r.end, r.score) for r in results if r.entity_type not in KEPT]

    return spans


def replace(text: str, spans: Found, threshold: float) -> str:
    """``text`` with the union of the spans scoring at least ``threshold`` replaced by ``<PII>``."""
    merged: list[list[int]] = []
    for start, end, _ in sorted(s for s in spans if s[2] >= threshold):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, pos = [], 0
    for start, end in merged:
        pieces += [text[pos:start], "<PII>"]
        pos = end
    return "".join([*pieces, text[pos:]])


# ---------------------------------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------------------------------


def timed(fn: Callable[[str], Any], texts: list[str]) -> tuple[list[Any], float]:
    """Outputs of ``fn`` on ``texts`` and messages per second (one warm-up call first)."""
    fn(texts[0])
    start = time.perf_counter()
    outs = [fn(t) for t in texts]
    return outs, len(texts) / (time.perf_counter() - start)


def raw_by_kind(items: list[PiiItem], redacted: list[str]) -> Counter[str]:
    """Per kind, the values still raw after redaction (each message judged on its own output)."""
    raw: Counter[str] = Counter()
    for item, out in zip(items, redacted, strict=True):
        for kind, (found, _) in find_raw([item], out).items():
            raw[kind] += found
    return raw


def banking77_train() -> list[str]:
    folder = Path(os.environ.get("BANKING77_DIR") or ROOT.parent / "shared" / "datasets" / "banking77")
    with (folder / "train.csv").open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--thresholds", default="0,0.4", help="presidio score thresholds, comma-separated")
    parser.add_argument("--examples", type=int, default=0, help="false redactions to print per system")
    parser.add_argument("--limit", type=int, help="only the first N corpus messages and Banking77 questions")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print("command:", " ".join([sys.executable, *sys.argv]))
    print(
        f"host: {os.cpu_count()} CPUs (pinned to 1), load {os.getloadavg()[0]:.2f}, nice {os.nice(0)}; "
        f"presidio-analyzer {_version('presidio-analyzer')}, spaCy {spacy.__version__} (blank 'en', no model), "
        f"phonenumbers {_version('phonenumbers')}"
    )
    items = read_jsonl(args.corpus)[: args.limit]
    banking = banking77_train()[: args.limit]
    ordinary = negatives(10, 7)  # bench/redaction_bench.py's ordinary banking texts with numbers (not PII)
    totals = Counter(v.kind for item in items for v in item.values)
    print(f"corpus: {args.corpus.name}, {len(items)} messages, {sum(totals.values())} values; Banking77 train: "
          f"{len(banking)} questions")  # fmt: skip
    thresholds = [float(t) for t in args.thresholds.split(",")]

    columns: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, ours in (("presidio", False), ("presidio+ours", True)):
            spans = presidio_spans(build_presidio(Path(tmp) / name, ours=ours))
            corpus_spans, corpus_rate = timed(spans, [i.text for i in items])
            bank_spans, bank_rate = timed(spans, banking)
            ordinary_spans = [spans(t) for t in ordinary]
            for t in thresholds:
                columns[f"{name}@{t:g}"] = {
                    "corpus": [replace(i.text, s, t) for i, s in zip(items, corpus_spans, strict=True)],
                    "banking": [replace(q, s, t) for q, s in zip(banking, bank_spans, strict=True)],
                    "ordinary": [replace(q, s, t) for q, s in zip(ordinary, ordinary_spans, strict=True)],
                    "rates": (corpus_rate, bank_rate),
                }
    redactor = Redactor()
    corpus_out, corpus_rate = timed(lambda t: redactor.redact(t).text, [i.text for i in items])
    bank_out, bank_rate = timed(lambda t: redactor.redact(t).text, banking)
    ordinary_out = [redactor.redact(t).text for t in ordinary]
    columns["ours"] = {"corpus": corpus_out, "banking": bank_out, "ordinary": ordinary_out,
                       "rates": (corpus_rate, bank_rate)}  # fmt: skip

    names = list(columns)
    raw = {n: raw_by_kind(items, c["corpus"]) for n, c in columns.items()}
    changed = {n: [(q, o) for q, o in zip(banking, c["banking"], strict=True) if q != o] for n, c in columns.items()}
    touched = {n: [(q, o) for q, o in zip(ordinary, c["ordinary"], strict=True) if q != o] for n, c in columns.items()}
    width = max(16, *(len(n) + 2 for n in names))
    print("\nvalues left raw (of the corpus values of each type; lower is better):")
    print(f"{'type':18}{'values':>8}" + "".join(f"{n:>{width}}" for n in names))
    for kind in [k for k in KINDS if totals[k]]:
        print(f"{kind:18}{totals[kind]:>8}" + "".join(f"{raw[n][kind]:>{width}}" for n in names))
    total = sum(totals.values())
    cells = [f"{sum(raw[n].values())} ({100 * sum(raw[n].values()) / total:.1f}%)" for n in names]
    print(f"{'ALL':18}{total:>8}" + "".join(f"{c:>{width}}" for c in cells))
    print("\ncost:")
    rows = {
        "Banking77 train changed": [f"{len(changed[n])} ({100 * len(changed[n]) / len(banking):.2f}%)" for n in names],
        "ordinary numbers changed*": [
            f"{len(touched[n])} ({100 * len(touched[n]) / len(ordinary):.1f}%)" for n in names
        ],
        "msg/s corpus": [f"{columns[n]['rates'][0]:.0f}" for n in names],
        "msg/s Banking77": [f"{columns[n]['rates'][1]:.0f}" for n in names],
    }
    for label, cells in rows.items():
        print(f"{label:26}" + "".join(f"{c:>{width}}" for c in cells))
    print("(presidio columns share one analysis per system: their speed is the same at every threshold)")
    print(
        f"* {len(ordinary)} ordinary banking texts with amounts, dates, times, references, 'card ending 1234' "
        "(bench/redaction_bench.py's negatives, n=10, seed 7), written with our redactor, which was tuned on them"
    )
    for n in names:
        for before, after in (changed[n] + touched[n])[: args.examples]:
            print(f"  [{n}] {before!r} -> {after!r}")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
