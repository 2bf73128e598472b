"""summarised task lights for the dashboard

Revision ID: 5721bb1a7677
Revises: a35c37c3f3eb
Create Date: 2026-11-25 12:00:52.237350
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import tracker.db


revision = '5721bb1a7677'
down_revision = 'a35c37c3f3eb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('round_light_summaries',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=True),
    sa.Column('computed_dt', tracker.db.UTCDateTime(), nullable=True),
    sa.Column('lease_until', tracker.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['reporting_rounds.id'], name=op.f('fk_round_light_summaries_round_id_reporting_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_light_summaries'))
    )
    op.create_table('task_light_summaries',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('light', sa.Enum('green', 'yellow', 'red', name='light', native_enum=False, length=32), nullable=True),
    sa.Column('computed_dt', tracker.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['reporting_rounds.id'], name=op.f('fk_task_light_summaries_round_id_reporting_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_light_summaries_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'task_id', name=op.f('pk_task_light_summaries'))
    )
    with op.batch_alter_table('task_light_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_task_light_summaries_round_id_section_id', ['round_id', 'section_id', 'light'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_light_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_task_light_summaries_round_id_section_id')

    op.drop_table('task_light_summaries')
    op.drop_table('round_light_summaries')
