"""The D365 control passes the record's phone as typed; WhatsApp knows the customer by wa_id or BSUID."""

from __future__ import annotations

import re

import phonenumbers

_PHONE_LIKE = re.compile(r"[+\d\s().-]+")
# Business-scoped user ids are opaque: up to 256 letters, digits and separators (`US.1349...`).
_BSUID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9._-]{0,255}")


class InvalidCustomerId(ValueError):
    pass


def normalise_customer_id(raw: str) -> str:
    """`+44 7700 900123`, `447700900123`, `0044 7700 900123` -> `447700900123`; a BSUID as it is."""
    value = raw.strip()
    if _PHONE_LIKE.fullmatch(value) and any(ch.isdigit() for ch in value):
        digits = re.sub(r"\D", "", value)
        if value.startswith("00") or (not value.startswith("+") and digits.startswith("00")):
            digits = digits[2:]
        elif not value.startswith("+") and digits.startswith("0"):
            raise InvalidCustomerId(
                f"'{raw}' looks like a national number: include the country code, e.g. +44 7700 900123"
            )
        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException as error:
            raise InvalidCustomerId(f"'{raw}' is not a phone number: {error}") from error
        if not phonenumbers.is_possible_number(number):
            raise InvalidCustomerId(f"'{raw}' is not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    if _BSUID.fullmatch(value):
        return value
    raise InvalidCustomerId(f"'{raw}' is neither a phone number nor a WhatsApp user id")


def whatsapp_variants(customer_id: str) -> list[str]:
    """Other spellings under which WhatsApp may know the same mobile number.

    Meta rewrites some numbers it is given (WHATSAPP-NOTES.md §5): Brazilian mobiles may be known
    without the ninth digit that CRM records carry (55 AA 9XXXX-XXXX vs 55 AA XXXX-XXXX), and Mexican
    mobiles with or without the old "1" after the country code (52 1 ... vs 52 ...).
    """
    if not customer_id.isdigit():
        return []
    if customer_id.startswith("55"):
        rest = customer_id[2:]
        if len(rest) == 11 and rest[2] == "9":
            return ["55" + rest[:2] + rest[3:]]
        if len(rest) == 10 and rest[2] in "6789":
            return ["55" + rest[:2] + "9" + rest[2:]]
    if customer_id.startswith("52"):
        rest = customer_id[2:]
        if len(rest) == 11 and rest[0] == "1":
            return ["52" + rest[1:]]
        if len(rest) == 10:
            return ["521" + rest]
    return []
