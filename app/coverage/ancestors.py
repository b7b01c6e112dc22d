"""The coverage page's loader: a unit and its breadcrumbs in one query through coverage's closure
table (unit_ancestors), instead of the unit and then `AdminUnit.ancestors()` (two round trips).

The access rules are app.scope's: 404 outside the user's area, ancestors outside it left out.
"""
import sqlalchemy as sa

from app.coverage.models import UnitAncestor
from app.extensions import db
from app.scope import can_see, found_or_abort
from app.units.models import AdminUnit


def get_unit_and_ancestors_or_404(unit_id: int, user=None) -> tuple[AdminUnit, list[AdminUnit]]:
    """The unit and, root first, the units above it that the user sees (for breadcrumbs)."""
    found = list(db.session.scalars(
        sa.select(AdminUnit).join(UnitAncestor, UnitAncestor.ancestor_id == AdminUnit.id)
        .where(UnitAncestor.unit_id == unit_id)))
    unit = next((u for u in found if u.id == unit_id and can_see(u, user)), None)
    found_or_abort(unit)
    above = sorted((u for u in found if u.id != unit_id and can_see(u, user)), key=lambda u: len(u.path))
    return unit, above
