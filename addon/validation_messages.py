"""A request's validation errors said in words a store admin reads (the pages show the message
as it comes; its code, `INVALID_INPUT`, and status are behind their Details toggle).

pydantic says `tracking_rules.1.carrier: String should have at most 255 characters`; this says
`Tracking rules, row 2, carrier is too long: at most 255 characters.`: the field by its words,
a list's item counted from one as the page shows its rows, the rule as a plain sentence. A rule
not listed here keeps pydantic's own message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Where a value came from, not part of its name.
_SOURCES = {"body", "query", "path", "header", "cookie"}
_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}
# A value error's message that reads on from the field's name ("… is in the future").
_PREDICATES = ("is ", "must ", "has ", "may ", "cannot ")
_WORDS = {"api": "API", "url": "URL", "urls": "URLs", "id": "ID", "ids": "IDs", "utm": "UTM"}


def field_words(loc: Iterable[Any]) -> str:
    """`("body", "tracking_rules", 1, "carrier")` → "Tracking rules, row 2, carrier"."""
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"row {part + 1}")
        elif part not in _SOURCES:
            words = str(part).replace("_", " ").split()
            parts.append(" ".join(_WORDS.get(w.lower(), w) for w in words))
    text = ", ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def _rule(kind: str, ctx: Mapping[str, Any], message: str) -> str | None:
    """The broken rule as the end of a sentence about the field ("… is too long: …")."""
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        least = ctx.get("min_length")
        return "must not be empty" if least == 1 else f"is too short: at least {least} characters"
    if kind == "too_long":
        return f"has too many items: at most {ctx.get('max_length')}"
    if kind == "timezone_aware":
        return "must include its time zone (an offset such as +01:00)"
    if kind in ("literal_error", "enum") and ctx.get("expected"):
        return f"must be {ctx['expected']}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not something this form takes"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(ctx.values()), '')}"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type", "decimal_parsing"):
        return "must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    return None


def plain_message(errors: Iterable[Mapping[str, Any]]) -> str:
    """Every problem of a request as sentences, one each."""
    sentences = []
    for error in errors:
        where = field_words(error.get("loc", ())) or "The request's body"
        message = str(error.get("msg", ""))
        rule = _rule(str(error.get("type", "")), error.get("ctx") or {}, message)
        if rule is None:
            sentence = f"{where}: {message}"
        elif error.get("type") == "value_error" and not rule.startswith(_PREDICATES):
            sentence = f"{where}: {rule}"
        else:
            sentence = f"{where} {rule}"
        sentences.append(sentence if sentence.endswith((".", "?", "!", "…")) else sentence + ".")
    return " ".join(sentences)
