"""Postman's ``{{name}}`` placeholders written as Orchestra templates.

Postman variable names may hold any character (``base-url``, ``user.id``); Orchestra's are identifiers.
Each Postman name gets one identifier for the whole import (``base-url`` → ``base_url``, a reserved word such
as ``env`` → ``pm_env``), and every placeholder is written with it. Dynamic variables (``{{$guid}}`` …) become
calls of the template functions; text around the placeholders is escaped, so it is sent as written.
"""

from __future__ import annotations

import re

from orchestra.definitions.testcase_model import RESERVED_NAMES
from orchestra.importers.requests import ImportRefused, escape_template

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_FAKE_OF = {
    "$randomFirstName": "first_name",
    "$randomLastName": "last_name",
    "$randomFullName": "name",
    "$randomNamePrefix": "prefix",
    "$randomNameSuffix": "suffix",
    "$randomJobTitle": "job",
    "$randomPhoneNumber": "phone_number",
    "$randomCity": "city",
    "$randomStreetName": "street_name",
    "$randomStreetAddress": "street_address",
    "$randomCountry": "country",
    "$randomCountryCode": "country_code",
    "$randomLatitude": "latitude",
    "$randomLongitude": "longitude",
    "$randomCompanyName": "company",
    "$randomCatchPhrase": "catch_phrase",
    "$randomEmail": "email",
    "$randomExampleEmail": "safe_email",
    "$randomUserName": "user_name",
    "$randomUrl": "url",
    "$randomDomainName": "domain_name",
    "$randomDomainWord": "domain_word",
    "$randomWord": "word",
    "$randomLoremWord": "word",
    "$randomLoremSentence": "sentence",
    "$randomLoremParagraph": "paragraph",
    "$randomColor": "safe_color_name",
    "$randomHexColor": "hex_color",
    "$randomIP": "ipv4",
    "$randomIPV6": "ipv6",
    "$randomMACAddress": "mac_address",
    "$randomPassword": "password",
    "$randomLocale": "locale",
    "$randomUserAgent": "user_agent",
    "$randomFileName": "file_name",
    "$randomFileExt": "file_extension",
    "$randomMimeType": "mime_type",
    "$randomCurrencyCode": "currency_code",
    "$randomCurrencyName": "currency_name",
    "$randomWeekday": "day_of_week",
    "$randomMonth": "month_name",
    "$randomBankAccountIban": "iban",
}
DYNAMIC = {
    "$guid": "uuid4()",
    "$randomUUID": "uuid4()",
    "$timestamp": "timestamp()",
    "$isoTimestamp": "now()",
    "$randomInt": "random_int(0, 1000)",
    "$randomAlphaNumeric": "random_alphanumeric(1)",
    "$randomBoolean": "random_boolean()",
    **{name: f"fake('{kind}')" for name, kind in _FAKE_OF.items()},
}


class Names:
    """One Orchestra identifier per Postman variable name."""

    def __init__(self) -> None:
        self.identifiers: dict[str, str] = {}

    def identifier(self, name: str) -> str:
        if name in self.identifiers:
            return self.identifiers[name]
        base = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "var"
        if base[0].isdigit() or base in RESERVED_NAMES or base in ("loop", "item", "suite", "params"):
            base = f"pm_{base}"
        taken = set(self.identifiers.values())
        chosen = (
            base
            if base not in taken
            else next(f"{base}_{n}" for n in range(2, 100_000) if f"{base}_{n}" not in taken)
        )
        self.identifiers[name] = chosen
        return chosen

    def expression(self, name: str) -> str:
        """The Orchestra expression a placeholder's content stands for."""
        if name.startswith("$"):
            if name not in DYNAMIC:
                known = ", ".join(sorted(DYNAMIC))
                raise ImportRefused(
                    f"the dynamic variable {{{{{name[:60]}}}}} is not supported (supported: {known})"
                )
            return DYNAMIC[name]
        return self.identifier(name)

    def template(self, text: str) -> str:
        """``text`` with its placeholders as Orchestra templates, the rest escaped."""
        parts: list[str] = []
        position = 0
        for match in PLACEHOLDER.finditer(text):
            literal = escape_template(text[position : match.start()])
            if literal.endswith("{"):  # "{" + "{{ x }}" would read as markup
                literal = literal[:-1] + "{{ '{' }}"
            parts.append(literal)
            parts.append(f"{{{{ {self.expression(match.group(1))} }}}}")
            position = match.end()
        parts.append(escape_template(text[position:]))
        return "".join(parts)


def placeholders(text: str) -> list[str]:
    """The variable names (not dynamic ones) ``text`` refers to."""
    return [name for name in PLACEHOLDER.findall(text) if not name.startswith("$")]
