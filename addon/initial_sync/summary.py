"""The initial-sync status line, derived from the same per-kind state as the rows under it.

Each kind is in one state - waiting for its turn, sending, Mailchimp confirming, done, stopped
- computed from the run's streams (read completely or not) and its batches still at Mailchimp,
by the rule the engine reads by (orders wait until every product batch is applied). The line
only ever names kinds in those states, so it cannot say "sending orders" while the orders row
says they wait, or "finishing" before a single order was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind
from addon.initial_sync.models import InitialSync

KindState = Literal["waiting", "sending", "confirming", "done", "stopped"]

PLURALS = {
    EntityKind.PRODUCT: "products",
    EntityKind.CUSTOMER: "customers",
    EntityKind.ORDER: "orders",
}
LABELS: dict[str, str] = {
    "waiting": "Waits until every product is confirmed by Mailchimp",
    "sending": "Sending",
    "confirming": "Mailchimp is confirming",
    "done": "Done",
    "stopped": "Stopped",
}


@dataclass(frozen=True)
class KindView:
    kind: EntityKind
    state: KindState
    label: str


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _read_all(run: InitialSync, kind: EntityKind) -> bool:
    return bool(((run.streams or {}).get(kind.value) or {}).get("done"))


def kind_states(
    run: InitialSync, kinds: tuple[EntityKind, ...], in_flight: Mapping[str, int]
) -> list[KindView]:
    """`in_flight`: kind → batches of this run not applied yet (queued or at Mailchimp)."""
    products_pending = not _read_all(run, EntityKind.PRODUCT) or in_flight.get("product", 0) > 0
    views = []
    for kind in kinds:
        read_all, flying = _read_all(run, kind), in_flight.get(kind.value, 0) > 0
        state: KindState
        if run.status is RunStatus.SUCCEEDED or (read_all and not flying):
            state = "done"
        elif run.status is not RunStatus.RUNNING:
            state = "stopped"
        elif read_all:
            state = "confirming"
        elif kind is EntityKind.ORDER and products_pending:
            state = "waiting"
        else:
            state = "sending"
        views.append(KindView(kind, state, LABELS[state]))
    return views


def _count(progress: Mapping[str, Any], kind: EntityKind, *names: str) -> int:
    counters = progress.get(kind.value) or {}
    return sum(int(counters.get(name, 0)) for name in names)


def summary(run: InitialSync, views: list[KindView], handed: int = 0) -> str:
    """`handed`: records of the pushes the sync handed to live sync not sent yet, which it
    waits for before it clears `is_syncing` (`handoff.py`)."""
    progress = run.progress or {}
    by_state: dict[str, list[EntityKind]] = {}
    for view in views:
        by_state.setdefault(view.state, []).append(view.kind)
    if run.status is RunStatus.FAILED:
        return f"Failed: {run.error}" if run.error else "Failed."
    if run.status is RunStatus.CANCELLED:
        return "Cancelled. What was sent so far stays in Mailchimp."
    if run.status is RunStatus.SUCCEEDED:
        parts = [
            f"{_count(progress, v.kind, 'confirmed', 'skipped')} {PLURALS[v.kind]}" for v in views
        ]
        quarantined = sum(_count(progress, v.kind, "quarantined") for v in views)
        tail = f"; {quarantined} could not be sent (see Activity)" if quarantined else ""
        return f"Finished: {_join(parts)} are in Mailchimp{tail}."
    sending, confirming = by_state.get("sending", []), by_state.get("confirming", [])
    waiting = by_state.get("waiting", [])
    clauses = []
    if sending:
        clauses.append("Sending " + _join([PLURALS[k] for k in sending]))
    if confirming:
        left = sum(
            max(_count(progress, k, "sent") - _count(progress, k, "confirmed", "quarantined"), 0)
            for k in confirming
        )
        names = _join([PLURALS[k] for k in confirming])
        clauses.append(
            f"Mailchimp is confirming the last {left} {names}"
            if left
            else f"Mailchimp is confirming {names}"
        )
    if waiting:
        clauses.append(
            _join([PLURALS[k] for k in waiting]) + " wait until every product is confirmed"
        )
    if not clauses and handed:
        records = (
            "records that could not go in a batch are"
            if handed > 1
            else "record that could not go in a batch is"
        )
        return (
            f"Finishing: every kind is done; {handed} {records} being sent one by one, "
            "then the store is marked as synced."
        )
    if not clauses:
        return "Finishing: every kind is done; the store is being marked as synced."
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + "."
