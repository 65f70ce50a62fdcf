"""Indexes on `installation_id` alone where another index starts with it (issue 15).

Each table of many rows per installation (`addon/db/owned.py`) had an index on
`installation_id` besides its unique key, which starts with the same column; the jobs table
had one besides `ix_jobs_lane` and its dedupe key. A lookup by installation, and the cascade
when an installation is deleted, use the longer index as well, so these only cost: every
insert, and every update that is not HOT (each change of a job's state), wrote an entry in
them. `tests/test_schema.py` keeps such an index from coming back.
"""

from alembic import op

revision: str = "0020_redundant_indexes"
down_revision: str | None = "0019_queue_indexes"

# Table -> its index on `installation_id` alone.
DROPPED = {
    table: f"ix_{table}_installation_id"
    for table in (
        "audience_field_mappings",
        "audience_groups",
        "audiences",
        "contact_states",
        "customer_addresses",
        "ecommerce_promo_usages",
        "engagement_campaigns",
        "engagement_customers",
        "engagement_days",
        "engagement_member_campaigns",
        "engagement_members",
        "engagement_orders",
        "jobs",
        "mailchimp_store_checks",
        "mailchimp_stores",
        "restored_checkouts",
    )
}


def upgrade() -> None:
    for table, name in DROPPED.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name in DROPPED.items():
        op.create_index(name, table, ["installation_id"], unique=False)
