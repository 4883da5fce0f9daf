"""Masking of personal data in values that reports show: phones and e-mail addresses.

Failing samples of the data-quality checks, quarantined records and anything else a BI user
or an auditor reads go through here (DuckDB SQL has its own copy in the dbt macro
``mask_contacts`` for the published tables).
"""

from __future__ import annotations

import re

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_EMAIL = re.compile(r"^([^@\s])[^@\s]*@([^@\s]+)$")


# Columns that hold contact data: their failing samples are always masked (mask_contact).
CONTACT_COLUMNS = frozenset({"phone", "email"})


def mask_contact(value: str) -> str:
    """Mask a value of a contact column even when it is malformed: as mask_value when it looks
    like a phone or an email, otherwise only its first character is kept (zhang san@x -> z***)."""
    masked = mask_value(value)
    if masked != value or value in ("", "null"):
        return masked
    return value[:1] + "***"


def mask_value(value: str) -> str:
    """Hide personal data in a value shown as a sample. Phones and emails are masked, other values are unchanged.

    A phone is 11 digits, optionally with a +86/86 prefix and spaces, hyphens or
    parentheses. It keeps its first 3 and last 4 digits and its separators
    (13812341234 -> 138****1234). An email keeps its first character and its domain
    (zhang.san@example.com -> z***@example.com).
    """
    text = str(value)
    digits_only = _PHONE_SEPARATORS.sub("", text).removeprefix("+")
    if (
        digits_only.isascii()
        and digits_only.isdigit()
        and (len(digits_only) == 11 or (len(digits_only) == 13 and digits_only.startswith("86")))
    ):
        # mask the 4th to 7th digit of the 11-digit national number, in place
        national_start = len(digits_only) - 11
        masked, seen = [], 0
        for char in text:
            if char.isdigit():
                if national_start + 3 <= seen < national_start + 7:
                    char = "*"
                seen += 1
            masked.append(char)
        return "".join(masked)
    email = _EMAIL.match(text)
    if email:
        return f"{email.group(1)}***@{email.group(2)}"
    return text
