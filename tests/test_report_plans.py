"""The monthly report's counts leave merged households out without reading every household: the few
merged ones are found through their own index, on both databases."""
import sqlalchemy as sa

from app.households.models import Household
from app.reports import queries


def _plan(db, statement) -> str:
    """The plan the database chooses for a statement, as text (SQLite's or PostgreSQL's)."""
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN (COSTS OFF) "
    return "\n".join(" ".join(str(c) for c in row) for row in db.session.execute(sa.text(explain + str(compiled))))


def test_the_merged_households_are_found_through_their_index_not_by_reading_all(db, tree):
    # Many households, a few merged: enough rows that reading them all would be the planner's worse choice.
    db.session.execute(sa.insert(Household), [
        {"hamlet_id": tree.hamlet.id, "head_name": f"Hộ {i}", "head_name_folded": f"ho {i}"} for i in range(3000)])
    ids = db.session.scalars(sa.select(Household.id).order_by(Household.id).limit(4)).all()
    db.session.execute(sa.update(Household).where(Household.id.in_(ids[1:])).values(merged_into_id=ids[0]))
    db.session.execute(sa.text("ANALYZE"))
    merged = queries._merged_households()
    assert sorted(db.session.scalars(merged)) == sorted(ids[1:])
    plan = _plan(db, merged)
    assert "ix_households_merged" in plan, plan
