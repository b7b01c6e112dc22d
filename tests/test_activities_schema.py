"""The classes-and-shifts tables: the database itself refuses counts that do not add up."""
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities.models import Class, Topic
from app.activities.topics import DEFAULT_TOPICS


def _class(tree, **counts):
    values = dict(key="k-" + str(len(counts)), commune_id=tree.commune.id, held_on=date(2026, 3, 2),
                  learners_total=30, age_15_17=2, age_18_59=20, age_60_plus=8)
    values.update(counts)
    return Class(**values)


def test_every_database_starts_with_the_default_topics(db):
    codes = set(db.session.scalars(sa.select(Topic.code).where(Topic.province_id.is_(None))))
    assert codes == {code for code, _vi, _en in DEFAULT_TOPICS}


def test_a_class_whose_age_bands_add_up_and_whose_sex_is_not_recorded_is_stored(db, tree):
    db.session.add(_class(tree))
    db.session.commit()
    assert db.session.scalar(sa.select(Class.learners_total)) == 30


@pytest.mark.parametrize("counts", [
    {"age_60_plus": 7},                                   # bands add up to 29, not 30
    {"learners_female": 20, "learners_male": 9},         # sexes add up to 29
    {"learners_female": 30},                             # one sex given, the other missing
])
def test_the_database_refuses_a_class_whose_counts_do_not_add_up(db, tree, counts):
    db.session.add(_class(tree, **counts))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
