"""dashboard figures kept by the scheduler

Revision ID: 934b4758394d
Revises: 5721bb1a7677
Create Date: 2026-11-25 12:54:38.122805
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import tracker.db


revision = '934b4758394d'
down_revision = '5721bb1a7677'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_figures',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('computed_dt', tracker.db.UTCDateTime(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['reporting_rounds.id'], name=op.f('fk_dashboard_figures_round_id_reporting_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_dashboard_figures'))
    )


def downgrade() -> None:
    op.drop_table('dashboard_figures')
