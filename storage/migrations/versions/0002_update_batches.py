"""update batches for undo

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("key_result_update", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("undoes_batch", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("old_health", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("old_confidence", sa.Float(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_key_result_update_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_key_result_update_undoes_batch"), ["undoes_batch"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("key_result_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_result_update_undoes_batch"))
        batch_op.drop_index(batch_op.f("ix_key_result_update_batch_id"))
        batch_op.drop_column("old_confidence")
        batch_op.drop_column("old_health")
        batch_op.drop_column("undoes_batch")
        batch_op.drop_column("batch_id")
