"""Join the three schema changes made side by side from 0007 (security, dashboard, versions)
into one head again, so `alembic upgrade head` and `downgrade 0008_*` keep working.
"""

from collections.abc import Sequence

revision: str = "0009_merge"
down_revision: str | Sequence[str] | None = ("0008_security", "0008_dashboard", "0008_versions")


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
