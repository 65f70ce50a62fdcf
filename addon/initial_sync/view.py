"""How `addon sync` shows a sync in a terminal (rich): the live progress view, the outcome
sentences, and log records printed above the progress bars instead of through them.

It renders `InitialSyncRead`, the same figures as the dashboard's API; it reads nothing itself.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID
from rich.table import Column
from rich.text import Text

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.schemas import InitialSyncRead, KindProgress

# KindProgress.kind → how the CLI names it, and the phase in which it is sent.
LABELS = {"product": "Products", "customer": "Customers", "order": "Orders"}
PHASES = {"product": "products", "customer": "customers", "order": "orders"}
STATUSES = {
    RunStatus.RUNNING: ("running", "cyan"),
    RunStatus.SUCCEEDED: ("succeeded", "green"),
    RunStatus.CANCELLED: ("cancelled", "yellow"),
    RunStatus.FAILED: ("failed", "red"),
}


def _done(kind: KindProgress) -> int:
    return kind.confirmed + kind.quarantined + kind.skipped + kind.retried


def _elapsed(read: InitialSyncRead) -> float:
    return max(((read.finished_at or utcnow()) - read.started_at).total_seconds(), 0.0)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def local(moment: datetime) -> str:
    """A moment in the terminal's own time zone."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def since(read: InitialSyncRead) -> str:
    """The clause saying since when orders are sent, if the sync has that option."""
    return f", orders since {local(read.orders_since)}" if read.orders_since else ""


def print_outcome(console: Console, read: InitialSyncRead) -> None:
    """How the sync ended, and what Mailchimp refused."""
    channel = escape(read.channel)
    if read.status is RunStatus.SUCCEEDED:
        confirmed = ", ".join(
            f"{k.confirmed} {LABELS.get(k.kind, k.kind).lower()}" for k in read.kinds
        )
        console.print(
            f"[green]The initial sync of channel {channel} succeeded[/green] in "
            f"{duration(_elapsed(read))}: {confirmed} confirmed by Mailchimp."
        )
    elif read.status is RunStatus.CANCELLED:
        console.print(f"[yellow]The initial sync of channel {channel} was cancelled.[/yellow]")
    else:
        error = escape(read.error or "no reason was recorded")
        console.print(f"[red]The initial sync of channel {channel} failed: {error}[/red]")
    quarantined = {k.kind: k.quarantined for k in read.kinds if k.quarantined}
    if quarantined:
        counts = ", ".join(
            f"{n} {LABELS.get(kind, kind).lower()}" for kind, n in quarantined.items()
        )
        console.print(
            f"[yellow]Quarantined (Mailchimp refused them): {counts}.[/yellow] The app's "
            "E-commerce page lists them with Mailchimp's reason and a Retry button."
        )


class Say:
    """The sentences `addon sync` prints around the progress view, about one channel."""

    WATCH = "[bold]addon sync --channel {} --watch[/bold]"

    def __init__(self, console: Console, channel: str) -> None:
        self.console = console
        self.channel = escape(channel)
        self.watch = self.WATCH.format(self.channel)

    def started(self, read: InitialSyncRead, saleor_api_url: str) -> None:
        self.console.print(
            f"Started the initial sync of channel [bold]{self.channel}[/bold] "
            f"in {escape(saleor_api_url)}{since(read)}."
        )

    def not_waiting(self) -> None:
        self.console.print(
            "The app's workers ([bold]addon serve[/bold], [bold]addon worker[/bold]) do the "
            f"work; follow it with {self.watch}."
        )

    def cancelled(self) -> None:
        self.console.print(
            f"[yellow]Cancelled the initial sync of channel {self.channel}.[/yellow] Batches it "
            "sent that Mailchimp still holds are watched to their end by the app's worker "
            "(`addon serve` or `addon worker`): the store's automations stay paused until then."
        )

    def ended(self) -> None:
        self.console.print(
            f"The latest initial sync of channel [bold]{self.channel}[/bold] has ended "
            "(nothing is running):"
        )

    def watching(self, read: InitialSyncRead, *, attached: bool, in_process: bool) -> None:
        if attached:
            self.console.print(
                f"Watching the initial sync of channel [bold]{self.channel}[/bold] "
                f"started {local(read.started_at)}{since(read)}."
            )
        self.console.print(
            "A worker runs in this process; workers of [bold]addon serve[/bold] and "
            "[bold]addon worker[/bold] share the work. Ctrl-C stops watching."
            if in_process
            else "Progress comes from the app's workers ([bold]addon serve[/bold], "
            "[bold]addon worker[/bold]); without one it does not move. Ctrl-C stops watching."
        )

    def replaced(self, by: InitialSyncRead) -> None:
        self.console.print(
            f"[yellow]The initial sync of channel {self.channel} ended and another one was "
            f"started {local(by.started_at)}.[/yellow] Follow it with {self.watch}."
        )

    def still_running(self) -> None:
        self.console.print(
            f"[yellow]Stopped watching. The initial sync of channel {self.channel} is still "
            "running:[/yellow] the workers of [bold]addon serve[/bold] and [bold]addon "
            "worker[/bold] carry on, or it resumes where it stopped when a worker starts next. "
            f"Follow it again with {self.watch}."
        )


@contextlib.contextmanager
def rich_logging(console: Console) -> Iterator[None]:
    """Log records print above the live progress bars instead of through them: warnings and
    errors, or everything when the root logger is at DEBUG (LOG_LEVEL=DEBUG)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
    handler.setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved


class _FieldColumn(ProgressColumn):
    """Renders the text a task carries in one of its fields."""

    def __init__(self, name: str, *, left: bool = False) -> None:
        super().__init__(table_column=Column(justify="left" if left else "right"))
        self.name = name

    def render(self, task: Task) -> RenderableType:
        value = task.fields.get(self.name, "")
        return value if isinstance(value, Text) else Text(str(value))


class SyncView:
    """The live display: one line about the run, one progress bar per kind."""

    def __init__(self, read: InitialSyncRead, saleor_api_url: str) -> None:
        self.saleor_api_url = saleor_api_url
        self.progress = Progress(
            _FieldColumn("label", left=True),
            BarColumn(bar_width=32),
            _FieldColumn("count"),
            _FieldColumn("percent"),
            _FieldColumn("rate"),
            _FieldColumn("remaining"),
            _FieldColumn("details", left=True),
            auto_refresh=False,
        )
        self.tasks: dict[str, TaskID] = {
            k.kind: self.progress.add_task(k.kind, total=None) for k in read.kinds
        }
        self.read = read
        self.update(read)

    def update(self, read: InitialSyncRead) -> None:
        self.read = read
        running = read.status is RunStatus.RUNNING
        for kind in read.kinds:
            done = _done(kind)
            current = running and read.phase.value == PHASES.get(kind.kind)
            if kind.total is None:
                # Not counted yet: pulsing while it is being read, empty otherwise.
                total: float | None = None if current else 1
                completed, count, percent = 0, f"{done}/?", ""
            else:
                total, completed = max(kind.total, 1), done if kind.total else 1
                count = f"{done}/{kind.total}"
                percent = f"{min(completed / total, 1.0):.0%}"
            finished = kind.total is not None and done >= kind.total
            if finished:
                remaining = "done"
            elif not running:
                remaining = ""
            elif kind.total is None and not current:
                remaining = "waiting"
            else:
                remaining = duration(kind.eta_seconds)
            details = Text(f"sent {kind.sent}")
            details.append(" · ")
            details.append(
                f"quarantined {kind.quarantined}", style="yellow" if kind.quarantined else ""
            )
            self.progress.update(
                self.tasks[kind.kind],
                total=total,
                completed=completed,
                label=LABELS.get(kind.kind, kind.kind),
                count=count,
                percent=percent,
                rate=f"{kind.rate_per_second:g}/s" if kind.rate_per_second else "",
                remaining=remaining,
                details=details,
            )

    def header(self) -> Text:
        read = self.read
        text = Text()
        text.append(f"Initial sync of channel {read.channel}", style="bold")
        text.append(f" · {self.saleor_api_url} · ")
        text.append(*STATUSES[read.status])
        if read.status is RunStatus.RUNNING:
            text.append(f" · phase {read.phase.value}")
            batches = "batch" if read.batches_in_flight == 1 else "batches"
            text.append(f" · {read.batches_in_flight} Mailchimp {batches} in flight")
        text.append(f" · elapsed {duration(_elapsed(read))}")
        return text

    def __rich__(self) -> RenderableType:
        return Group(self.header(), self.progress)
