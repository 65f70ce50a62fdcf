"""Catching up with what Saleor did not deliver while the app was deactivated, or while no web
process answered for longer than Saleor retries (`outage.py`).

Saleor delivers no webhook to an inactive app and keeps none for it (`missed_queue.py`), so
when processing resumes the app rebuilds what it missed from Saleor's state since then
(`Installation.missed_since`). The `installation.missed` job fans out:

* the replay of the deliveries Saleor did not send (`replay.py`): customers, orders and
  checkouts changed since, orders shipped lately (a tracking number or a later shipment changes
  no date of the order), and customers deleted since, each stored as the delivery of each
  document subscribing to its event, so every capability handles it as it handles Saleor's;
* what other capabilities do on resume (`ON_RESUME`): e-commerce sends its catalogue and promo
  codes again, since stock, prices, promotions and vouchers change without touching a listed
  date (each push sends nothing for a record that did not change).
"""

from __future__ import annotations

from addon.installations.missed_queue import MISSED_JOB, Missed
from addon.installations.replay import REPLAY_JOB, Replay, Source, handle_replay
from addon.installations.replay_deleted import DELETED_JOB, handle_deleted
from addon.installations.resume_ports import ON_RESUME
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import RetryPolicy
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.saleor.client import SaleorError
from addon.services import Services


async def handle_missed(job: ClaimedJob, missed: Missed, services: Services) -> None:
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        for source in Source:
            replay = Replay(source=source, **dict(missed))
            await jobs.enqueue(job.installation_id, REPLAY_JOB, replay.model_dump(mode="json"))
        await jobs.enqueue(job.installation_id, DELETED_JOB, {}, coalesce_key=DELETED_JOB)
        for queue in services.ports[ON_RESUME]:
            await queue(session, job.installation_id)
        await complete_in(session)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(MISSED_JOB, handle_missed, payload=Missed)
    registry.register(
        REPLAY_JOB,
        handle_replay,
        payload=Replay,
        retry=RetryPolicy(expected=(SaleorError,)),
    )
    registry.register(
        DELETED_JOB,
        handle_deleted,
        payload=NoPayload,
        retry=RetryPolicy(expected=(SaleorError,)),
    )
