"""The communes' adult month sums, named learners' first months and dossier totals read once and
added up per unit (app/coverage/by_commune.py) equal the plain queries joined through unit_ancestors,
on the adult world, on a reorganized one (former ancestors included), and after the tree changes."""
import sqlalchemy as sa

from app.areas.operations import move_subtree
from app.coverage import activity_months, adults, by_commune, named_learners, rollup
from app.extensions import db as _db
from app.units.models import AdminUnit
from tests import adult_world
from tests.test_adult_maps import build

RANGES = [(202501, 202501), (202503, 202503), (202408, 202603), (202603, 202603), (202609, 202612)]


def _assert_as_plain() -> None:
    upper = sorted(_db.session.scalars(sa.select(AdminUnit.id).where(AdminUnit.level != "hamlet")))
    token, _retired = rollup.adult_token_and_retired(list(_db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.id.in_(upper)))))
    for asked in [upper, upper[:1], upper[1:3]]:
        communes = by_commune.commune_map(asked, token)
        for first, last in RANGES:
            plain = sorted((u, m, s, int(n), int(c))
                           for u, m, s, n, c in activity_months.upper_sums(asked, first, last))
            assert sorted(by_commune.upper_sums(communes, first, last)) == plain, (asked, first, last)
            firsts = {u: by_m for u, by_m in named_learners.upper_firsts(asked, first, last).items()}
            assert by_commune.upper_firsts(communes, first, last) == firsts, (asked, first, last)
            keys = list(range(first, last + 1))
            assert by_commune.dossier_totals(communes, keys) == adults.dossier_totals(asked, keys)


def test_the_communes_read_once_equal_the_plain_queries_on_the_adult_world(db, tree):
    adult_world.build(tree)
    _assert_as_plain()
    move_subtree(tree.commune, tree.other_district)  # the remembered map must follow the move
    db.session.commit()
    _assert_as_plain()


def test_the_communes_read_once_equal_the_plain_queries_across_a_reorganization(db):
    world = build()
    _assert_as_plain()
    move_subtree(world.phuong_7, world.chau_thanh_a)
    db.session.commit()
    _assert_as_plain()
