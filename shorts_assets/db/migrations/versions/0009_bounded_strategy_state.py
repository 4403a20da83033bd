"""Bounded learning state: every strategy row's state becomes the fixed-size format.

A state of an earlier format held every observation the channel ever had. Each becomes the window of
its batches still maturing plus the decayed sufficient statistics of all older ones (see
``learning.state``); a state that cannot be read becomes an empty one that names what was lost in
its ``repairs``, so the next strategy decision still decides and says what it lacked. Going back
keeps only the window (the older observations are folded and cannot be unfolded).

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shorts_assets.learning.state import STATE_FORMAT, merge, read

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

strategy = sa.table("content_strategy", sa.column("id", sa.Integer), sa.column("state", sa.JSON))


def _convert(transform) -> None:
    connection = op.get_bind()
    ids = [r.id for r in connection.execute(sa.select(strategy.c.id).order_by(strategy.c.id))]
    for row_id in ids:  # one row at a time: a long history's rows are large
        state = connection.execute(sa.select(strategy.c.state).where(strategy.c.id == row_id)).scalar()
        converted = transform(state)
        if converted is not None:
            connection.execute(sa.update(strategy).where(strategy.c.id == row_id).values(state=converted))


def upgrade() -> None:
    def bounded(state):
        if isinstance(state, dict) and state.get("format") == STATE_FORMAT:
            return None
        return merge(state, [])

    _convert(bounded)


def downgrade() -> None:
    def previous(state):
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            return None
        return {"format": 2, "observations": read(state).window}

    _convert(previous)
