"""PII redaction: our Redactor vs Microsoft Presidio on recall per type, false redactions and time per text.

(a) recall per type on a synthetic set generated here from templates WRITTEN FOR THIS BENCH (values from Faker where it
has them, else made up here; nothing from any third-party PII corpus); (b) the fraction of texts where anything is
redacted on Banking77 *train* (``BANKING77_DIR`` or ``../shared/datasets/banking77``; test.csv is never read) and on
a synthetic set of ordinary banking text (amounts, dates, times, references, "card ending 1234"); (c) time per text.

Usage: ``.venv/bin/python -m bench.redaction_bench [--n 40] [--baseline /tmp/redaction_orig.py] [--no-presidio]``.
``--baseline`` loads another copy of the redactor module (e.g. the previous version) as a third system. Presidio
(``pip install '.[bench]'``) runs offline: a blank spaCy English pipeline (lemma = lower-cased token, so its context
enhancer works), its predefined recognizers plus the disabled UK/ZA/routing ones, its phone recognizer on our regions,
and pattern recognizers written here for what it lacks (context-scored accounts, CPF, CURP, ID documents, short local
phones); entities outside our scope (dates, URLs, NHS...) are ignored.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faker import Faker
from stdnum import luhn

from automations.redaction import Redactor

__all__ = ["main", "negatives", "synthetic"]

Sample = tuple[str, str, str]  # text, secret, type
_REGIONS = ["GB", "ZA", "US", "MX", "BR", "AR", "CO"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _card(fk: Faker, rng: random.Random, kind: str) -> str:
    number, sep = fk.credit_card_number(kind), rng.choice(["", " ", "-"])
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4)) if sep else number


def _za_id(rng: random.Random) -> str:
    body = f"{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(10, 28)}{_digits(rng, 4)}{rng.choice('01')}8"
    return body + luhn.calc_check_digit(body)


# Values per type: "locale.method" of Faker, "card:TYPE", "za_id", or a pattern (# digit, % digit 1-9, ? capital
# letter); a trailing ":bare" keeps only the digits. Formats written for this bench, besides Faker's own.
_VALUES: dict[str, str] = {
    "card_13_19": "card:visa16|card:mastercard|card:amex|card:discover|card:diners|card:jcb16|card:visa13|card:visa19",
    "card_12_maestro": "card:maestro",
    "account_before": "%#####|%#########|0###########|%################|en_GB.bban",
    "account_after": "%#######|0#########|%###########|%#####",
    "phone_us": "en_US.phone_number",
    "phone_gb": "en_GB.phone_number",
    "phone_za": "082 ### ####|083#######|(011) ###-####|021 ### ####|072 ### ####",
    "phone_mx": "es_MX.phone_number",
    "phone_br": "pt_BR.phone_number|pt_BR.cellphone_number",
    "phone_ar": "011 %###-####|(011) 15-%###-####|0351 %##-####|11 %###-####",
    "phone_co": "es_CO.phone_number",
    "phone_ext": "%##-%##-#### ext. ##|%##-%##-####x####|(%##) %##-#### ext ###|%##.%##.#### x#####",
    "phone_local": "%## ####|%##-####|(%#) %##-###",
    "ssn": "en_US.ssn|5## ## ####|en_US.ssn:bare",
    "itin": "en_US.itin",
    "za_id": "za_id",
    "nino": "en_GB.ssn|AB######C|JG ## ## ## A|NP ###### D|sk######b",
    "cpf": "pt_BR.cpf|pt_BR.cpf:bare",
    "curp": "es_MX.curp",
    "licence": "?????%#####??#??|?%######|?###-####-####",
    "passport": "en_US.passport_number|%########|GB%######",
    "iban": "en_GB.iban|de_DE.iban",
    "email": "en_US.email",
    "routing": "en_US.aba",
    "sort_code": "##-##-##",
}
_GROUP = {"itin": "ssn", "za_id": "national_id", "nino": "national_id", "cpf": "national_id", "curp": "national_id"}
_TEMPLATES: dict[str, str] = {
    "card": "My card number is {v}, why was it declined?|{v} was charged twice|Please block card {v}.",
    "account_before": "my account number is {v}|Acct: {v} - still frozen|a/c no {v} please check"
    "|member number {v}, can you help|Please look at account {v} today",
    "account_after": "{v} is my account|{v} is my savings account, refund it there|{v} (current account)",
    "phone": "call me on {v}|my number is {v}|{v} is my mobile|Phone: {v}|you can reach me at {v}|WhatsApp {v} please"
    "|New details: {v}|I moved, it's {v} now",
    "phone_local": "call me on {v}|my number is {v}|{v} is my new number|tel {v}|my cell is {v}",
    "ssn": "SSN {v}, please update my tax details|my social security number is {v}|ITIN: {v}",
    "national_id": "My ID number is {v}.|{v} - that's my identity number|NI number {v}|my CPF is {v}"
    "|CURP {v} for the KYC check|here is my ID {v}",
    "licence": "my driving licence number is {v}|Driver's license: {v}|DL {v}|licence no. {v} attached",
    "passport": "Passport number {v}, expires 2031|my passport no is {v}|Passport: {v}",
    "sort_code": "sort code {v}|Sort code: {v}, account to follow",
    "routing": "routing number {v}|ABA {v} for the wire|{v} is the routing number",
    "other": "Please refund {v}|Details: {v}|{v}",
}
# A second family, written after the first was used for tuning and never tuned on: run with --templates heldout.
_HELDOUT: dict[str, str] = {
    "card": "Hi, the card {v} isn't working abroad|can u cancel {v} asap|payment with {v} failed",
    "account_before": "The account I want the money in is {v}|acc. no. {v}|my bank acct number: {v}"
    "|a/c {v}, name J Smith",
    "account_after": "{v} - that's my account number|{v} = account|{v} is our joint account",
    "phone": "contact me at {v} anytime|my tel. is {v}|{v} (mobile)|Please phone {v} tomorrow|whatsapp me on {v}"
    "|Update my contact number to {v}|Thanks. {v}",
    "phone_local": "ring me on {v}|my home phone: {v}|{v} is my landline",
    "ssn": "SSN# {v}|social security no. {v}|my ITIN is {v}",
    "national_id": "ID: {v}|national ID {v}|identity number {v}|NINO {v}|CPF: {v}|the CURP is {v}",
    "licence": "My driver's licence number: {v}|driving licence no {v}|license # {v}",
    "passport": "passport # {v}|{v} is my passport number|my passport is {v}",
    "sort_code": "sort-code {v}|SC {v}",
    "routing": "ABA routing {v}|routing no. {v}",
    "other": "send to {v}|{v} please",
}
_NEGATIVE = (  # one template per "|"
    "I paid £{a},{b:03d}.50 for rent|Please send {a}00 EUR to my sister|Can I top up ${a}k at once?"
    "|The transfer on 2026-0{m}-{d:02d} still hasn't arrived|I was charged on {d:02d}/0{m}/2026 at 1{m}:30"
    "|Your fee is {m}.5% which is too high|Transfer reference REF {r4}|card ending {r4} was declined"
    "|the last 4 digits of my card are {r4}|My account balance is {a}{b:03d}0 and I want to move it"
    "|Order #{r8} was refunded {m} days ago|reference number {r8} for the payment|tracking number {r10}"
    "|ATM at 23:{d:02d} took £{a}00|I sent {a}k on {d} March 2026|I was charged 1,{b:03d},{a:03d} pence"
    "|top up {a},{b:03d} failed, is the cap 10,000?|transaction {r8} is pending since 14:0{m}"
    "|I have {m} cards and {d} accounts|Exchange rate was 1.{b:03d}4 instead of 1.17|R{a}{b:03d} sent to FNB"
    "|my card number ends in {r4}|I transferred {a}{b:03d}0 to my account yesterday|MXN {a},{b:03d}.00 pending"
    "|paguei R$ {a}.{b:03d},00 ontem|I'm {d} years old, can I open an account?|It's been {d} weeks, 2025 too"
)


def _value(spec: str, fakers: dict[str, Faker], rng: random.Random) -> str:
    spec, _, bare = spec.partition(":bare")
    if spec.startswith("card:"):
        value = _card(fakers["en_US"], rng, spec[5:])
    elif spec == "za_id":
        value = _za_id(rng)
    elif re.fullmatch(r"[a-z]{2}_[A-Z]{2}\.\w+", spec):
        locale, method = spec.split(".")
        value = str(getattr(fakers[locale], method)())
    else:
        value = fakers["en_US"].bothify(fakers["en_US"].numerify(spec), letters="ABCDEFGHJKLMNPRSTWXYZ")
    return re.sub(r"\D", "", value) if bare else value


def synthetic(n: int, seed: int, templates: dict[str, str] = _TEMPLATES) -> list[Sample]:
    """``n`` texts per type from ``templates`` (positives): (text, secret, type)."""
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in ("en_US", "en_GB", "es_MX", "pt_BR", "es_CO", "de_DE")}
    for i, fk in enumerate(fakers.values()):
        fk.seed_instance(seed * 100 + i)
    out: list[Sample] = []
    for kind, specs in _VALUES.items():
        group = kind if kind in templates else _GROUP.get(kind) or kind.split("_")[0]
        for _ in range(n):
            value = _value(rng.choice(specs.split("|")), fakers, rng)
            out.append((rng.choice(templates.get(group, templates["other"]).split("|")).format(v=value), value, kind))
    return out


def negatives(n: int, seed: int) -> list[str]:
    """``n`` ordinary banking texts per template, with numbers that are not PII."""
    r, out = random.Random(seed).randint, []
    for t in _NEGATIVE.split("|"):
        for _ in range(n):
            nums = {"a": r(1, 99), "b": r(0, 999), "m": r(1, 9), "d": r(1, 28), "r4": r(1000, 9999)}
            out.append(t.format(**nums, r8=r(10**7, 10**8 - 1), r10=r(10**9, 10**10 - 1)))
    return out


def _leaked(secret: str, out: str) -> bool:
    compact = re.sub(r"[\s\-.()/]", "", out).lower()
    return secret in out or re.sub(r"[\s\-.()/]", "", secret).lower() in compact


def _load_baseline(path: str) -> Callable[[str], str]:
    spec = importlib.util.spec_from_file_location("redaction_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redaction_baseline"] = module
    spec.loader.exec_module(module)
    baseline = module.Redactor()
    return lambda text: str(baseline.redact(text).text)


def _presidio() -> Callable[[str], str]:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer import predefined_recognizers as pr
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from spacy.language import Language

    @Language.component("lower_lemma")
    def lower_lemma(doc: Any) -> Any:
        for token in doc:
            token.lemma_ = token.lower_
        return doc

    class BlankEngine(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            nlp = spacy.blank("en")
            nlp.add_pipe("lower_lemma")
            self.nlp = {"en": nlp}

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # bundled suffix list: no download
    engine = BlankEngine()
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    registry.remove_recognizer("PhoneRecognizer")
    extra = [pr.PhoneRecognizer(supported_regions=_REGIONS), pr.AbaRoutingRecognizer(), pr.UkNinoRecognizer()]
    extra += [pr.UkDrivingLicenceRecognizer(), pr.UkPassportRecognizer(), pr.ZaIdNumberRecognizer()]
    ours = {
        "ACCOUNT": (r"\b[A-Z]{0,4}\d[\d -]{4,22}\d\b", 0.05, ["account", "acct", "a/c", "member", "iban", "sort"]),
        "BR_CPF": (r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b", 0.3, ["cpf"]),
        "MX_CURP": (r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b", 0.6, ["curp"]),
        "ID_DOCUMENT": (r"\b(?=[A-Z0-9-]*\d{3})[A-Z0-9][A-Z0-9-]{4,19}\b", 0.01, ["passport", "licence", "license"]),
        "LOCAL_PHONE": (r"(?<!\w)\(?\d{2,4}\)?[ .-]\d{3,4}(?:[ .-]\d{3,4})?\b", 0.05, ["phone", "call", "mobile"]),
    }
    extra += [
        PatternRecognizer(e, patterns=[Pattern(e, rx, score)], context=ctx) for e, (rx, score, ctx) in ours.items()
    ]
    for recognizer in extra:
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    ignore = {"DATE_TIME", "URL", "IP_ADDRESS", "UK_NHS", "NRP", "LOCATION", "PERSON", "MEDICAL_LICENSE", "CRYPTO"}
    entities = [e for e in analyzer.get_supported_entities("en") if e not in ignore]

    def redact(text: str) -> str:
        pos, pieces = 0, []
        for r in sorted(analyzer.analyze(text, "en", entities=entities, score_threshold=0.4), key=lambda r: r.start):
            if r.start >= pos:
                pieces += [text[pos : r.start], f"<{r.entity_type}>"]
                pos = r.end
        return "".join([*pieces, text[pos:]])

    return redact


def _timed(fn: Callable[[str], str], texts: list[str]) -> tuple[list[str], float]:
    start = time.perf_counter()
    out = [fn(t) for t in texts]
    return out, (time.perf_counter() - start) / max(1, len(texts)) * 1e6


def main() -> None:
    """Run the comparison and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="synthetic texts per type (and per negative template)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="path of another redaction module to compare (e.g. the old version)")
    parser.add_argument("--templates", choices=["main", "heldout"], default="main")
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args()
    print("command:", " ".join([".venv/bin/python -m bench.redaction_bench", *sys.argv[1:]]))
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Faker {version('faker')} (values depend on it)")
    ours = Redactor()
    systems: dict[str, Callable[[str], str]] = {"ours": lambda t: ours.redact(t).text}
    if args.baseline:
        systems["baseline"] = _load_baseline(args.baseline)
    if not args.no_presidio:
        systems["presidio"] = _presidio()
    samples = synthetic(args.n, args.seed, _HELDOUT if args.templates == "heldout" else _TEMPLATES)
    negs = negatives(max(1, args.n // 4), args.seed)
    data_dir = Path(
        os.environ.get("BANKING77_DIR") or Path(__file__).resolve().parents[2] / "shared/datasets/banking77"
    )
    with (data_dir / "train.csv").open(encoding="utf-8") as fh:
        banking = [row["text"] for row in csv.DictReader(fh)]
    print(
        f"synthetic: {len(samples)} positives ({args.n}/type), {len(negs)} negatives; Banking77 train: {len(banking)}"
    )
    recall: dict[str, dict[str, float]] = defaultdict(dict)
    rows: dict[str, dict[str, str]] = defaultdict(dict)
    for name, fn in systems.items():
        outs, us_synth = _timed(fn, [s[0] for s in samples])
        hits: dict[str, list[bool]] = defaultdict(list)
        for (_, secret, kind), out in zip(samples, outs, strict=True):
            hits[kind].append(not _leaked(secret, out))
        recall[name] = {k: sum(v) / len(v) for k, v in hits.items()}
        recall[name]["ALL"] = sum(sum(v) for v in hits.values()) / len(samples)
        neg_out = [fn(t) for t in negs]
        b_out, us_bank = _timed(fn, banking)
        changed = [(t, o) for t, o in zip(banking, b_out, strict=True) if t != o]
        neg_changed = [(t, o) for t, o in zip(negs, neg_out, strict=True) if t != o]
        rows[name] = {
            "Banking77 train redacted": f"{100 * len(changed) / len(banking):.2f}% of {len(banking)}",
            "synthetic negatives redacted": f"{100 * len(neg_changed) / len(negs):.2f}% of {len(negs)}",
            "us/text Banking77": f"{us_bank:.0f}",
            "us/text synthetic": f"{us_synth:.0f}",
        }
        for before, after in (changed + neg_changed)[:8]:
            print(f"  [{name}] false redaction: {before!r} -> {after!r}")
    names = list(systems)
    print("\nrecall (secret removed) per type:")
    print(f"{'type':18}" + "".join(f"{n:>10}" for n in names))
    for kind in [*sorted(k for k in recall["ours"] if k != "ALL"), "ALL"]:
        print(f"{kind:18}" + "".join(f"{100 * recall[n][kind]:9.1f}%" for n in names))
    print("\ncost:")
    for metric in rows["ours"]:
        print(f"{metric:30}" + "".join(f"{rows[n][metric]:>22}" for n in names))


if __name__ == "__main__":
    main()
