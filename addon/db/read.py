"""Read models of ORM rows (or of another model): one way to turn a row into its read model."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class RowRead(BaseModel):
    """A read model whose fields are the row's attributes of the same name (the row may also be
    another pydantic model, e.g. Mailchimp's answer).

    `of(row)` validates the row itself (`from_attributes`); fields the row does not hold as such
    (renamed, derived, or from elsewhere) are given as keywords and win over the row.
    """

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: object, **computed: Any) -> Self:
        if not computed:
            return cls.model_validate(row)
        read = {name: getattr(row, name) for name in cls.model_fields if name not in computed}
        return cls.model_validate(read | computed)
