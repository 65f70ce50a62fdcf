"""A benchmark's verdict: each of its targets printed as met or MISSED, and whether all were
met (the benchmark's exit status: 0 when they were)."""

from __future__ import annotations


def print_checks(checks: dict[str, bool]) -> bool:
    """Print each target `label: met` as `met  label` or `MISSED label`; whether all were met."""
    for label, ok in checks.items():
        print(f"{'met ' if ok else 'MISSED'} {label}")
    return all(checks.values())
