"""The columns every installation-owned table starts with."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column


class InstallationRows:
    """Mixin for a table of many rows per installation: an integer key and the installation
    (indexed: rows are always read per installation), whose deletion deletes its rows."""

    # First in the table, as the migrations create them (a mixin's columns would come last).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True, sort_order=-1
    )
