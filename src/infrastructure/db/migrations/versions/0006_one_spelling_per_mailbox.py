"""one spelling per mailbox: stored addresses rewritten to the v2 rule (NFKC, IDNA domain)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:00:00

Every address is rewritten to `Email.normalize` (domain/user.py: the rule lives there; this migration
applies it once). Accounts whose new spelling would be another account's are left as they are (each
still logs in with its stored spelling) and are reported, by id, as a warning on the `gatehouse.migrations`
log and on standard error, so an operator can merge or rename them. Downgrading leaves the rewritten
addresses as they are: v1 compared the same mailboxes by these spellings too.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from domain.user import Email

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

log = logging.getLogger("gatehouse.migrations")
users = sa.table("users", sa.column("id", sa.Uuid), sa.column("email", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email)).all()
    by_spelling: dict[str, list[tuple[object, str]]] = defaultdict(list)
    for user_id, email in rows:
        by_spelling[Email.normalize(email)].append((user_id, email))
    colliding: list[list[object]] = []
    for spelling, accounts in by_spelling.items():
        if len(accounts) > 1:
            colliding.append([user_id for user_id, _ in accounts])
            continue
        [(user_id, email)] = accounts
        if email != spelling:
            bind.execute(sa.update(users).where(users.c.id == user_id).values(email=spelling))
    if colliding:
        report = "; ".join(", ".join(str(i) for i in group) for group in colliding)
        message = (f"{len(colliding)} mailbox(es) have more than one account under the one-spelling rule; "
                   f"left as they are (each logs in with its stored spelling), accounts by id: {report}")
        log.warning(message)
        print(f"gatehouse migrate: {message}", file=sys.stderr)


def downgrade() -> None:
    """Nothing to undo: the rewritten spellings name the same mailboxes."""
