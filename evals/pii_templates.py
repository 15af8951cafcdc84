"""Message templates of the blind PII corpus (see :mod:`evals.pii_corpus`).

Templates are (text, language). Slots are {kind} or {kind#2} for a second value of the same kind; the filler slots
{amount}, {date}, {merchant}, {sort_code} and {last4} are not personal data (sort codes name a branch, last4 is the
masked form banks print) and are not recorded. Language "en" fits any locale; "es" and "pt" pin es_MX and pt_BR.
"""

from __future__ import annotations

import re

__all__ = ["FILLERS", "LOCALE_OF_KIND", "LOCALE_OF_LANG", "SLOT", "TEMPLATES", "template_kinds"]

TEMPLATES: tuple[tuple[str, str], ...] = (
    # card numbers
    ("Hi, my card {card_number} was declined at {merchant} yesterday, can you check why?", "en"),
    ("{card_number} <- this card got charged {amount} twice", "en"),
    ("pls block card no:{card_number} asap!!! i lost my wallet", "en"),
    ("Is the card ending in {last4} the same one as {card_number}? I have two and I'm confused", "en"),
    ("I want to dispute a charge of {amount} on {date}. Card number {card_number}, email {email}.", "en"),
    ("card: {card_number} / exp 08/27 -- is it activated yet?", "en"),
    ("why was {card_number} frozen??", "en"),
    ("Hello, I tried to add my card {card_number} to Apple Pay and it just says 'invalid card'.", "en"),
    ("I think I was scammed... they have my card {card_number} and my email {email}", "en"),
    ("Can someone call me? {phone}. It's about the card {card_number}", "en"),
    ("Mi tarjeta {card_number} fue rechazada en {merchant}, ¿qué pasó?", "es"),
    ("Meu cartão {card_number} foi bloqueado sem motivo", "pt"),
    # account numbers
    ("Hi, my account number is {account_number} and I can't log in.", "en"),
    ("acct no. {account_number} - the statement for {date} is missing", "en"),
    ("please transfer {amount} from a/c {account_number} to my savings", "en"),
    ("My member number is {account_number}, I need to update my address", "en"),
    ("sort code {sort_code} account {account_number}, can you confirm the payee name?", "en"),
    ("a/c {account_number}. Direct debit to {merchant} failed, why?", "en"),
    ("I paid {amount} into acct no.{account_number} by mistake, can I get it back", "en"),
    ("my email {email} and phone {phone} are both wrong on account number {account_number}", "en"),
    ("account number {account_number}, iban {iban} -- please confirm they're the same account", "en"),
    ("Hola, my account number is {account_number}; mi correo es {email}", "es"),
    ("Minha conta é {account_number}, agência 0001. Não caiu o Pix de {amount}", "pt"),
    ("Member number {account_number}", "en"),
    # routing numbers
    ("Account {account_number} routing {routing_number} - is that right for direct deposit?", "en"),
    ("my account number is {account_number} and the routing number is {routing_number}, payroll needs it", "en"),
    ("what's your routing number? I have {routing_number} on my checks but the app shows something else", "en"),
    ("Is {routing_number} the correct routing number for wires or only for ACH?", "en"),
    ("ABA/routing: {routing_number}, account: {account_number}. Setting up direct deposit with my employer.", "en"),
    ("{routing_number} is the routing # my employer has on file, is that yours??", "en"),
    # IBANs
    ("I need to receive money from abroad, is my IBAN {iban}?", "en"),
    ("Sent {amount} to IBAN {iban} on {date} and it still hasn't arrived", "en"),
    ("iban:{iban} bic? the sender is asking for both", "en"),
    ("Please refund to {iban} instead, thanks", "en"),
    ("{iban} -- that's the IBAN on my statement but the transfer bounced", "en"),
    ("Can I pay {amount} to my landlord's IBAN ({iban}) from the app?", "en"),
    # US SSN
    ("I'm opening an account and it keeps rejecting my SSN {us_ssn}", "en"),
    ("my social is {us_ssn}, can you verify my identity so I can reset my PIN", "en"),
    ("SSN: {us_ssn} DOB {date} - still locked out!", "en"),
    ("Someone opened a credit card with my ssn ({us_ssn})!!! What do I do", "en"),
    ("{us_ssn} is my social security number. phone {phone}, please call back", "en"),
    ("Verify me: card {card_number}, SSN {us_ssn}, phone {phone}.", "en"),
    # US ITIN
    ("I don't have an SSN, I use my ITIN {us_itin}. Can I still open a checking account?", "en"),
    ("the tax form has the wrong ITIN, it should be {us_itin} not the old one", "en"),
    ("ITIN# {us_itin}. Also my passport number is {passport}.", "en"),
    ("my taxpayer id is {us_itin} (ITIN) -- please update it on the 1099", "en"),
    # UK National Insurance
    ("My national insurance number is {uk_nino}, do you need it for the ISA?", "en"),
    ("NI no. {uk_nino} - the form won't accept it", "en"),
    ("NINO:{uk_nino}; sort code {sort_code}; acct no. {account_number}", "en"),
    ("Hi there, {uk_nino} is my NI number and my driving licence number is {driving_licence}", "en"),
    ("the app asks for my NI number... it's {uk_nino}", "en"),
    # South African ID
    ("My ID number is {za_id}, why is my FICA verification still pending?", "en"),
    ("SA ID {za_id} -- I can't register for the app", "en"),
    ("id no {za_id}, cell {phone}, please help", "en"),
    ("I updated my ID to {za_id} but the statement still shows the old one.", "en"),
    # Brazilian CPF
    ("Meu CPF é {br_cpf}, não consigo acessar a conta", "pt"),
    ("CPF {br_cpf} - the Pix key isn't working", "en"),
    ("Hi, my CPF is {br_cpf} and my email is {email}, I need a statement", "en"),
    ("{br_cpf} é o meu CPF, pode verificar o cadastro?", "pt"),
    ("cpf:{br_cpf}; telefone {phone}", "pt"),
    # Mexican CURP
    ("Mi CURP es {mx_curp}, ¿por qué rechazaron mi solicitud?", "es"),
    ("CURP {mx_curp} - trying to open an account from Mexico", "en"),
    ("they asked for my CURP, here it is: {mx_curp}", "en"),
    ("{mx_curp} es mi CURP y mi número es {phone}", "es"),
    # e-mail
    ("Please send the statement to {email}", "en"),
    ("{email} is my new email, please update your records", "en"),
    ("I never got the reset link at {email}??", "en"),
    ("Change my email from {email} to {email#2} please", "en"),
    ("contact me: {email} or {phone}", "en"),
    ("email me at <{email}>, thanks", "en"),
    ("ok here it is {email}", "en"),
    ("Por favor manden el estado de cuenta a {email}", "es"),
    # phone
    ("my number changed to {phone}, please update it", "en"),
    ("Call me back on {phone} after 5pm", "en"),
    ("I'm not getting the OTP texts on {phone}", "en"),
    ("{phone} - that's my mobile, the one on file is old", "en"),
    ("You can reach me at {phone} or my work line {phone#2}", "en"),
    ("Number: {phone}. Email: {email}. Card: {card_number}.", "en"),
    ("Hola, mi número es {phone}, necesito ayuda con una transferencia", "es"),
    ("Meu celular é {phone}, não recebo o código", "pt"),
    ("tel.{phone}", "en"),
    # driving licence
    ("My driving licence number is {driving_licence}, is that enough for ID?", "en"),
    ("driver's license {driving_licence} was scanned but verification failed", "en"),
    ("DL number: {driving_licence}. DOB {date}.", "en"),
    ("Here's my driver's license # {driving_licence} and SSN {us_ssn}", "en"),
    ("I uploaded my driving licence ({driving_licence}) three times already!!", "en"),
    ("DL#{driving_licence} -- pls verify me, can't wait any longer", "en"),
    # passport
    ("My passport number is {passport}, it expires next month, do I need to update it?", "en"),
    ("passport number: {passport} (new one), the old one was stolen", "en"),
    ("I'm abroad and lost my card. Passport number {passport}, call me on {phone}", "en"),
    ("Is passport number {passport} on file? I renewed it", "en"),
    ("{passport} is my passport number, I need to verify my identity", "en"),
    ("Update my docs pls: passport number {passport}; driving licence {driving_licence}", "en"),
    ("Mi número de pasaporte es {passport}, ¿lo tienen registrado?", "es"),
)

# Kinds that fix the locale of a message (one country issues them).
LOCALE_OF_KIND: dict[str, str] = {
    "routing_number": "en_US",
    "us_ssn": "en_US",
    "us_itin": "en_US",
    "uk_nino": "en_GB",
    "za_id": "en_ZA",
    "br_cpf": "pt_BR",
    "mx_curp": "es_MX",
}
LOCALE_OF_LANG: dict[str, str] = {"es": "es_MX", "pt": "pt_BR"}

SLOT = re.compile(r"\{([a-z_0-9]+)(?:#\d)?\}")
FILLERS = frozenset({"amount", "date", "merchant", "sort_code", "last4"})


def template_kinds(text: str) -> list[str]:
    """The personal-value kinds a template's slots ask for, in order (fillers left out, repeats kept)."""
    return [m.group(1) for m in SLOT.finditer(text) if m.group(1) not in FILLERS]
