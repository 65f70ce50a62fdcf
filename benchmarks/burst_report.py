"""What the burst benchmark measures of each run (`Run`: one worker count, its live burst and
its backlog drain), and its report: the figures side by side for each worker count, and the
targets met or missed."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from benchmarks.targets import print_checks

TARGET_AFTER_LAST_DELIVERY = 120.0
TARGET_SPEEDUP = 1.6


@dataclass
class Drain:
    """One backlog drain's figures, filled in by `benchmarks.burst.drain`."""

    delivery_seconds: float = 0.0
    failed: int = 0
    seconds: float | None = None  # from the first worker's start line (see burst._ready)
    startup_seconds: float = 0.0  # processes started -> first worker ready
    # From the first worker's start line: the last webhook job handled, the last push job ended.
    webhooks_by: float | None = None
    pushes_by: float | None = None
    cpu_seconds: float = 0.0  # the workers' CPU (user + system) during the drain
    webhooks: int = 0
    machine_busy: float = 0.0  # of all the machine's cores, from the first start line
    stack_cpu_seconds: float = 0.0  # the Saleor sandbox's (and the app's web side's)
    mailchimp_cpu_seconds: float = 0.0  # the Mailchimp sandbox's process
    equal_at_end: bool = False


@dataclass
class Run:
    """One worker count's figures: its live burst, and its drains (`benchmarks.burst`)."""

    workers: int
    live_delivery_seconds: float = 0.0
    live_failed: int = 0
    live_after_last: float | None = None
    peak_concurrency: int = 0
    cap: int = 0
    mailchimp_requests: int = 0
    saleor_requests: int = 0
    drains: list[Drain] = field(default_factory=list)

    @property
    def median(self) -> Drain:
        """The drain of median time (of an even count, the slower of the middle two); a
        drain that never ended counts as the slowest."""
        ordered = sorted(self.drains, key=lambda d: math.inf if d.seconds is None else d.seconds)
        return ordered[len(ordered) // 2]


def print_report(runs: list[Run], products: int, latency: float) -> bool:
    """Print the figures and the targets; whether every target was met."""
    print()
    print(f"burst: {products:,} product updates, {latency * 1000:.0f} ms per request to Saleor "
          "and Mailchimp, PostgreSQL")  # fmt: skip
    print(f"{'':44}" + "".join(f"{f'{r.workers} worker(s)':>16}" for r in runs))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:44}" + "".join(f"{v:>16}" for v in values))

    def secs(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.1f} s"

    row("live: deliveries took", [secs(r.live_delivery_seconds) for r in runs])
    row("live: deliveries failed (3 attempts)", [str(r.live_failed) for r in runs])
    row("live: all in Mailchimp after last delivery", [secs(r.live_after_last) for r in runs])
    row("live: Mailchimp HTTP requests", [f"{r.mailchimp_requests:,}" for r in runs])
    row("live: Saleor GraphQL requests", [f"{r.saleor_requests:,}" for r in runs])
    medians = [r.median for r in runs]
    for r in runs:
        times = ", ".join(secs(d.seconds) for d in r.drains)
        print(f"drain: each of {r.workers} worker(s), in turns: {times}")
    print("the median drain of each worker count:")
    row("drain: deliveries stored in", [secs(d.delivery_seconds) for d in medians])
    row("drain: deliveries failed (3 attempts)", [str(d.failed) for d in medians])
    row("drain: workers' start-up (not counted)", [secs(d.startup_seconds) for d in medians])
    row("drain: backlog applied in", [secs(d.seconds) for d in medians])
    row("  webhooks all handled at", [secs(d.webhooks_by) for d in medians])
    row("  pushes all taken into batches or sent at", [secs(d.pushes_by) for d in medians])
    row(
        "drain: worker CPU per stored webhook",
        [f"{1000 * d.cpu_seconds / max(d.webhooks, 1):.2f} ms" for d in medians],
    )
    row("drain: Saleor sandbox's process CPU", [f"{d.stack_cpu_seconds:.1f} s" for d in medians])
    row(
        "drain: Mailchimp sandbox's process CPU",
        [f"{d.mailchimp_cpu_seconds:.1f} s" for d in medians],
    )
    row(
        f"drain: machine CPU busy ({os.cpu_count()} cores)",
        [f"{100 * d.machine_busy:.0f} %" for d in medians],
    )
    row(
        "peak concurrent Mailchimp connections",
        [f"{r.peak_concurrency} (cap {r.cap})" for r in runs],
    )
    row(
        "Mailchimp equal to Saleor at the end",
        ["yes" if all(d.equal_at_end for d in r.drains) else "NO" for r in runs],
    )
    checks = {
        f"all applied <= {TARGET_AFTER_LAST_DELIVERY:.0f} s after the last delivery": all(
            r.live_after_last is not None and r.live_after_last <= TARGET_AFTER_LAST_DELIVERY
            for r in runs
            if r.live_delivery_seconds  # not with --live-seconds 0
        ),
        "connections never above the cap": all(r.peak_concurrency <= r.cap for r in runs),
        "Mailchimp equal to Saleor at the end": all(d.equal_at_end for r in runs for d in r.drains),
    }
    one = next((r.median for r in runs if r.workers == 1), None)
    two = next((r.median for r in runs if r.workers == 2), None)
    if one and two and one.seconds and two.seconds:
        speedup = one.seconds / two.seconds
        print(f"{'drain speed-up, 2 workers vs 1 (medians)':44}{speedup:>16.2f}x")
        if two.machine_busy:
            # The two-worker drain's CPU (workers, sandboxes, PostgreSQL: the whole machine's,
            # so only meaningful on a quiet machine) could not take less than busy x time even
            # with every core busy throughout: the most a second worker could gain here.
            bound = one.seconds / (two.machine_busy * two.seconds)
            print(f"{'  the most the cores allow (its CPU at 100 %)':44}{bound:>16.2f}x")
        checks[f"2 workers drain >= {TARGET_SPEEDUP}x faster than 1"] = speedup >= TARGET_SPEEDUP
    elif one and two:
        checks[f"2 workers drain >= {TARGET_SPEEDUP}x faster than 1"] = False
    print()
    return print_checks(checks)
