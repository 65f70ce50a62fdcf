"""The columns every installation-owned table starts with: many rows per installation, or one."""

from __future__ import annotations

from typing import Self

from sqlalchemy import ForeignKey, Integer, Select, select
from sqlalchemy.orm import Mapped, mapped_column


class InstallationRows:
    """Mixin for a table of many rows per installation: an integer key and the installation,
    whose deletion deletes its rows. Each such table declares a unique key that starts with
    `installation_id`: it serves the per-installation reads and the cascade, so the column has
    no index of its own (one would be written on every insert for nothing; migration 0020)."""

    # First in the table, as the migrations create them (a mixin's columns would come last).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), sort_order=-1
    )

    @classmethod
    def of_installation(cls, installation_id: int) -> Select[Self]:
        """The rows of one installation (refine with .where / .order_by)."""
        return select(cls).where(cls.installation_id == installation_id)


class InstallationKeyed:
    """Mixin for a table of one row per installation, keyed by it; deleting the installation
    deletes the row."""

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True, sort_order=-1
    )
