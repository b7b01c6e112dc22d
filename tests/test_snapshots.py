"""tests/snapshots.py, which the browser tests start from: a world put back is the world built, row for row, and
the database goes on from it as from a real build (triggers on, sequences past the rows, fresh cache tokens)."""
from datetime import date

import sqlalchemy as sa

from app.demo.seed import seed_demo
from app.extensions import db as _db
from app.units import operations as unit_ops
from app.units.models import AdminUnit
from tests import snapshots
from tests.conftest import empty_database


def _rows() -> dict[str, list[tuple]]:
    return {t.name: sorted((tuple(r) for r in _db.session.execute(sa.select(t))), key=repr)
            for t in _db.metadata.sorted_tables if t.name != "cache_tokens"}


def _tokens() -> dict[str, float]:
    return dict(_db.session.execute(sa.text("SELECT name, token FROM cache_tokens")).tuples().all())


def test_the_demo_put_back_is_the_demo_built_and_goes_on_as_after_a_build(app, db):
    builds = []

    def build():
        builds.append(1)
        return seed_demo()

    counts = snapshots.world("demo, put back", build)
    built, tokens = _rows(), _tokens()
    assert counts["units"] > 800 and len(built["visits"]) > 300

    empty_database()
    assert _db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0
    assert snapshots.world("demo, put back", build) == counts
    assert builds == [1]  # put back, not built again
    assert _rows() == built
    # Every cache token is new: a worker keeps no figure from before under it.
    assert set(_tokens()) == set(tokens) and not set(_tokens().items()) & set(tokens.items())

    verify = app.test_cli_runner().invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output
    # The triggers are on again and the sequences go on past the rows put back.
    hamlet = _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "hamlet",
                                                            AdminUnit.retired_on.is_(None))).first()
    before = _tokens()["household_counts"]
    count = unit_ops.set_household_count(hamlet, 321, date(2026, 1, 1))
    _db.session.commit()
    assert count.id > max(row[0] for row in built["household_counts"])
    assert _tokens()["household_counts"] != before


def test_a_test_that_wrote_first_gets_the_world_built_again(db):
    builds = []

    def build():
        builds.append(1)
        return unit_ops.create_unit("Tỉnh Thử", "province", None, "96").id

    first = snapshots.world("a province", build)
    empty_database()
    unit_ops.create_unit("Xã Đã Có", "commune", None)
    _db.session.commit()
    second = snapshots.world("a province", build)
    assert builds == [1, 1]
    assert sorted(_db.session.scalars(sa.select(AdminUnit.name))) == ["Tỉnh Thử", "Xã Đã Có"]
    assert second != first
