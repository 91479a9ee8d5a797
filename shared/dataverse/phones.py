"""The spellings a customer's number is usually stored under in D365 phone columns.

Dataverse compares phone columns as plain strings, so a lookup has to ask for each spelling:
`+15551234567`, `15551234567`, `+1 555-123-4567`, `(555) 123-4567`, `5551234567`, ...
"""

from __future__ import annotations

import re

import phonenumbers

_DIGITS = re.compile(r"\d{6,15}")


def stored_formats(wa_id: str) -> list[str]:
    """Every usual spelling of a WhatsApp number (`wa_id`: E.164 digits without `+`), most likely first.

    The national spellings lack the country code; they are asked for together with the international
    ones and an ambiguous answer is never linked, so a same-digits number abroad cannot be confused.
    """
    if not _DIGITS.fullmatch(wa_id):
        return []
    e164 = "+" + wa_id
    found = [e164, wa_id, "00" + wa_id]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return found
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    found += [
        international,  # +1 555-123-4567, +44 7700 900123
        international.replace("-", " "),  # +1 555 123 4567
        national,  # (555) 123-4567, 07700 900123
        re.sub(r"\D", "", national),  # 5551234567, 07700900123
        national.replace("(", "").replace(")", "").replace(" ", "-"),  # 555-123-4567
    ]
    return list(dict.fromkeys(found))
