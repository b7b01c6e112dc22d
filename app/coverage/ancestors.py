"""The coverage page's loader: a unit and its breadcrumbs in one query through coverage's closure
table (unit_ancestors), instead of the unit and then `AdminUnit.ancestors()` (two round trips).

The access rules are app.scope's: 404 outside the user's area, ancestors outside it left out.
"""
import sqlalchemy as sa
from flask import abort

from app.coverage.models import UnitAncestor
from app.extensions import db
from app.scope import can_see, can_see_in_time
from app.units.models import AdminUnit


def get_unit_and_ancestors_or_404(unit_id: int, user=None) -> tuple[AdminUnit, list[AdminUnit]]:
    """The unit and, root first, the units above it today that the user may read (for breadcrumbs).

    A unit of today's area, or one of the map as it was that the user may read (scope.can_see_in_time);
    an old unit's ancestors are old units too, each checked in time."""
    found = list(db.session.scalars(
        sa.select(AdminUnit).join(UnitAncestor, UnitAncestor.ancestor_id == AdminUnit.id)
        .where(UnitAncestor.unit_id == unit_id, UnitAncestor.until.is_(None))))
    unit = next((u for u in found if u.id == unit_id), None)
    if unit is None or not can_see_in_time(unit, user):
        abort(404)
    seen = can_see if can_see(unit, user) else can_see_in_time
    above = sorted((u for u in found if u.id != unit_id and seen(u, user)), key=lambda u: len(u.path))
    return unit, above
