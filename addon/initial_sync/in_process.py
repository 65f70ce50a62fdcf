"""The worker `addon sync` runs in its own process (`cli.py`): beside the watcher while the
sync runs, and for a moment after a cancel or a failure, so that the step clearing Mailchimp's
`is_syncing` runs even when no other worker does.
"""

from __future__ import annotations

import asyncio
import logging

from addon.jobs.worker import Worker
from addon.services import Services

logger = logging.getLogger("addon.initial_sync.cli")  # the command's own messages


class InProcessWorker:
    """A `Worker` running beside the watcher; stopping it lets its current jobs finish."""

    def __init__(self, services: Services) -> None:
        self.worker = Worker(services)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.worker.run(self._stop))

    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def problem(self) -> str | None:
        """Why the worker's task ended early (it keeps going through failed rounds)."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        exc = self._task.exception()
        return f"{type(exc).__name__}: {exc}" if exc else None

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None and not self._task.done():
            await self._task  # a second Ctrl-C cancels the command and, with it, this task


async def settle(worker: Worker, seconds: float, stop: asyncio.Event) -> None:
    """Let `worker` process what is due for up to `seconds` (the step that clears Mailchimp's
    `is_syncing` after a cancel or a failure). Never interrupts a job."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline and not stop.is_set():
        try:
            if not await worker.run_once():
                return
        except Exception:  # the database may be briefly unavailable; the next worker does it
            logger.exception("Worker round failed")
            return
