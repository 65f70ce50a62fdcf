"""Retry policies: when a failed job is tried again, and when it is given up (quarantined).

The worker applies them; handlers only say what failed (see `addon.jobs.schemas`).
"""

from __future__ import annotations

# Error texts are kept on jobs and ledger records for an admin to read; Mailchimp's answers can
# be long (every field error), so they are cut to this many characters.
ERROR_TEXT_LIMIT = 2000


def error_text(error: str | BaseException) -> str:
    """What an admin reads about a failure: the message (or the error's type when it has
    none), cut to `ERROR_TEXT_LIMIT`."""
    text = str(error) or (type(error).__name__ if isinstance(error, BaseException) else "")
    return text[:ERROR_TEXT_LIMIT]
