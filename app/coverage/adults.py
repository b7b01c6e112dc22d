"""The adult indicators ("Bình dân học vụ số") of any unit and month, next to the household coverage.

Adults are a measure of their own: nothing here reads or changes the household tallies, and no
figure mixes households with adults. Every share is a ratio of sums over the unit's subtree.

    adults_by_unit(units, on) -> {unit_id: adults}
        The official adults (aged 15 and over) as of `on`, rolled up as households are: a unit with
        child units counted on `on` is the sum of those children, a leaf its latest AdultCount in
        effect (0 if none); a unit retired on or before `on` no longer counts in its parent.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.units.models import AdminUnit, AdultCount


def _counted(retired_on: date | None, on: date) -> bool:
    return retired_on is None or retired_on > on


class AdultTree:
    """The units below some roots with every adult count they ever had: one query each."""

    def __init__(self, roots: list[AdminUnit]):
        self.retired: dict[int, date | None] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self._memo: dict[tuple[int, date], int] = {}
        if not roots:
            return
        cond = sa.or_(*[AdminUnit.path.startswith(r.path, autoescape=True) for r in roots])
        rows = db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on).where(cond)).all()
        for uid, _parent, retired_on in rows:
            self.retired[uid] = retired_on
        for uid, parent, _retired in rows:
            if parent in self.retired:
                self.children[parent].append(uid)
        for unit_id, effective_on, adults in db.session.execute(
                sa.select(AdultCount.unit_id, AdultCount.effective_on, AdultCount.adults)
                .where(AdultCount.unit_id.in_(sa.select(AdminUnit.id).where(cond)))
                .order_by(AdultCount.effective_on)):
            self.counts[unit_id].append((effective_on, adults))

    def adults(self, unit_id: int, on: date) -> int:
        key = (unit_id, on)
        if key not in self._memo:
            kids = [c for c in self.children.get(unit_id, ()) if _counted(self.retired[c], on)]
            if kids:
                value = sum(self.adults(k, on) for k in kids)
            else:
                value = 0
                for effective_on, adults in self.counts.get(unit_id, ()):
                    if effective_on > on:
                        break
                    value = adults
            self._memo[key] = value
        return self._memo[key]


def adults_by_unit(units: list[AdminUnit], on: date) -> dict[int, int]:
    tree = AdultTree(units)
    return {u.id: tree.adults(u.id, on) for u in units}


def adult_warning(unit: AdminUnit) -> str | None:
    """A hamlet whose adult population is below its distinct named learners: worth a second look,
    not a refusal (the population may be an old count, or learners may live elsewhere)."""
    return None
