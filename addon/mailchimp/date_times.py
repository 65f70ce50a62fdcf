"""Date-times as Mailchimp answers them: some it sends as ``""`` while they are unset.

A campaign report's ``opens.last_open`` and ``clicks.last_click`` are ``""`` until the campaign
has an open / a click (airbytehq/airbyte, source-mailchimp ``streams.py``,
``Reports.remove_empty_datetime_fields``: "In some cases, the 'clicks.last_click' and
'opens.last_open' fields are returned as an empty string, which causes validation errors on the
date-time format"), though the spec types them ``date-time``. Read with :data:`UnsetDateTime`,
``""`` is None, as an absent field is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["UnsetDateTime"]


def _empty_is_unset(value: object) -> object:
    return None if value == "" else value


UnsetDateTime = Annotated[datetime | None, BeforeValidator(_empty_is_unset)]
"""An optional date-time Mailchimp may answer as ``""`` (None)."""
