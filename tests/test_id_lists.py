"""A list of ids in a statement (app/id_lists.py): one array on PostgreSQL, chunks of an expanding IN on
SQLite; both find the same rows as the plain expanding IN, for lists longer than one chunk."""
import random

import sqlalchemy as sa

from app.extensions import db as _db
from app.households.models import Household
from app.id_lists import CHUNK, IdListStatement

FIND = IdListStatement(lambda among: sa.select(Household.id).where(among(Household.id, "ids")))


def test_a_long_list_of_ids_finds_the_same_rows_either_way(db, tree):
    _db.session.execute(sa.insert(Household), [
        {"hamlet_id": tree.hamlet.id, "head_name": f"Hộ {i}", "head_name_folded": f"ho {i}"} for i in range(1200)])
    all_ids = list(_db.session.scalars(sa.select(Household.id)))
    asked = random.Random(7).sample(all_ids, 1100) + [max(all_ids) + 1000]  # one id that is nobody's
    runs = list(FIND.chunked(asked))
    found = [i for statement, ids in runs for i in _db.session.scalars(statement, {"ids": ids})]
    plain = set(_db.session.scalars(sa.select(Household.id).where(Household.id.in_(asked))))
    assert sorted(found) == sorted(plain) and len(plain) == 1100
    if _db.engine.dialect.name == "postgresql":
        assert len(runs) == 1  # one statement whatever the length; its text does not change with it
        short = list(FIND.chunked(asked[:3]))[0][0]
        assert str(short.compile(_db.engine)) == str(runs[0][0].compile(_db.engine))
        assert "ANY" in str(runs[0][0].compile(_db.engine))
    else:
        assert [len(ids) for _s, ids in runs] == [CHUNK, CHUNK, 101]
    assert list(FIND.chunked([])) in ([], [(FIND.forms["postgresql"], [])])
