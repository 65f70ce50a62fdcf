"""A list member's ``language``: one of Mailchimp's contact language codes.

The spec types it as a free string ("If set/detected, the subscriber's language", linking
https://mailchimp.com/help/view-and-edit-contact-languages/); Mailchimp's own answer to what it
takes: "Setting this to one of the valid language codes in the guide should add this to the
contact's language field" (mailchimp/mailchimp-client-lib-codegen#38, a Mailchimp developer,
after a user found group names and ids sent there had no effect). The guide's codes, as
integrations copy them (kb.mailchimp.com/article/can-i-see-what-languages-my-subscribers-use
#code): two letters, with the regional ``fr_CA``, ``pt_PT`` and ``es_ES``, written exactly so.

What Mailchimp answers to another value is not published (codegen#38 suggests it is dropped
without a word): the sandbox refuses it, the stricter side, so that a client sending a code
Mailchimp does not know ("en_US", "pt-BR", "EN") learns it here rather than believing the
contact holds it. ``""`` is refused alike (nothing says it clears the field).
"""

from __future__ import annotations

from .errors import field_invalid

LANGUAGES = frozenset(
    [
        "en",
        "ar",
        "af",
        "be",
        "bg",
        "ca",
        "zh",
        "hr",
        "cs",
        "da",
        "nl",
        "et",
        "fa",
        "fi",
        "fr",
        "fr_CA",
        "de",
        "el",
        "he",
        "hi",
        "hu",
        "is",
        "id",
        "ga",
        "it",
        "ja",
        "km",
        "ko",
        "lv",
        "lt",
        "mt",
        "ms",
        "mk",
        "no",
        "pl",
        "pt",
        "pt_PT",
        "ro",
        "ru",
        "sr",
        "sk",
        "sl",
        "es",
        "es_ES",
        "sw",
        "sv",
        "ta",
        "th",
        "tr",
        "uk",
        "vi",
    ]
)


def check_language(language: str) -> None:
    """400 "Invalid Resource" naming ``language`` unless it is one of `LANGUAGES`."""
    if language not in LANGUAGES:
        raise field_invalid(
            "language",
            f"'{language}' is not one of Mailchimp's contact language codes "
            "(https://mailchimp.com/help/view-and-edit-contact-languages/).",
        )
