"""The payload of an `ecommerce.push` job (`sync.py` runs it, `push_queue.py` queues it): which
ledger record to bring up to date, and whether it goes on its own even during a burst."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from addon.ecommerce.models import EntityKind


class PushRequest(BaseModel):
    """The payload of an `ecommerce.push` job: which ledger record to bring up to date."""

    model_config = ConfigDict(frozen=True)

    channel: str
    kind: EntityKind
    saleor_id: str
    # Pushed on its own even during a burst (what a batch could not do, see `burst.py`).
    alone: bool = False
