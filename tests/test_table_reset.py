"""The suite's fast clean on PostgreSQL (tests/table_reset.py) leaves what TRUNCATE leaves."""
from datetime import date

import pytest
import sqlalchemy as sa

from app.auth.cli import create_user
from app.extensions import db as _db
from app.visits.models import Visit
from tests import table_reset
from tests.conftest import PASSWORD, Tree
from tests.visits_helpers import household, make_team


def _world():
    """Rows in most kinds of table: units, counts, a team with members, a household, a visit, a user."""
    tree = Tree()
    team, members = make_team(tree.commune, [tree.hamlet])
    home = household(tree.hamlet)
    _db.session.add(Visit(household_id=home.id, hamlet_id=tree.hamlet.id, team_id=team.id, visited_on=date(2024, 6, 3),
                        idempotency_key="nettoyage-1"))
    create_user("to-truong", "team_leader", tree.commune, PASSWORD)
    _db.session.commit()
    _db.session.remove()


def _state(conn, tables):
    rows = {t: conn.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in tables}
    sequences = dict(conn.execute(sa.text(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")).all())
    tokens = conn.execute(sa.text("SELECT name FROM cache_tokens ORDER BY name")).scalars().all()
    return rows, sequences, tokens


def _clean(clean, tables):
    _db.session.remove()
    with _db.engine.begin() as conn:
        clean(conn, tables)


def _after(clean, tables):
    """A world made, then cleaned: the state left, and the id the next unit made gets."""
    _world()
    _clean(clean, tables)
    with _db.engine.connect() as conn:
        state = _state(conn, tables)
    next_id = Tree().province.id
    _clean(table_reset.truncate, tables)
    return state, next_id


def test_the_fast_clean_leaves_the_tables_sequences_and_token_as_truncate_does(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the fast clean is PostgreSQL's; SQLite's suite deletes rows as it always did")
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    _world()
    with db.engine.connect() as conn:
        filled, used, _tokens = _state(conn, tables)
    _clean(table_reset.truncate, tables)
    # The world is worth cleaning: rows in many tables, sequences that handed out ids.
    assert sum(1 for n in filled.values() if n) >= 8
    assert sum(1 for v in used.values() if v is not None) >= 6

    fast, fast_next_id = _after(table_reset.empty, tables)
    plain, plain_next_id = _after(table_reset.truncate, tables)

    assert fast == plain
    # Only the cache tokens remain, one per cache, as TRUNCATE's triggers leave them.
    assert {t: n for t, n in fast[0].items() if n} == {"cache_tokens": 7}
    assert set(fast[1].values()) == {None}
    assert fast[2] == ["accounts", "adult_activity", "adult_counts", "catalogue", "household_counts", "targets",
                       "teams"]
    # What a test sees: the first unit made after either clean gets id 1.
    assert fast_next_id == plain_next_id == 1
