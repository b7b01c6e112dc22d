"""Load a province from the official list in force on a date (app.units.official).

Before 1 July 2025: the 63-province, three-level list (province, district, commune). From then:
the 34-province, two-level list (province, commune), each commune with its kind (xã, phường, đặc
khu). Codes are written as the GSO writes them: province 2 digits, district 3, commune 5.
"""
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.units import official
from app.units import operations as unit_ops
from app.units.models import AdminUnit


class ListConflict(ValueError):
    """The list cannot be loaded over what the database holds (a reorganization is needed)."""


def import_province(code: str, on: date | None = None, user=None) -> dict[str, int]:
    """Create or rename the province's units valid on `on`; existing units keep their ids and records.

    A unit of the list matches the unit bearing its code on that day. The two-level list's new
    units are valid from 1 July 2025; loading it where the old list's units still bear its codes
    is refused: that is a reorganization (`flask units reorganize`), which keeps their history.
    """
    from app.dates import today_vn
    on = on or today_vn()
    units = official.province_units(code, on)
    valid_from = official.TWO_LEVELS_FROM if official.two_levels(on) else None
    codes = [u.code for u in units]
    same_list = AdminUnit.valid_on_clause(on)
    if valid_from is not None:
        # Units of the old map are still valid on that day until a reorganization ends them.
        same_list = sa.and_(same_list, AdminUnit.valid_from >= valid_from)
    valid = {u.code: u for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.code.in_(codes), same_list))}
    current = {u.code: u for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.code.in_(codes), AdminUnit.retired_on.is_(None)))}
    clash = sorted(c for c, u in current.items() if c not in valid)
    if clash:
        raise ListConflict(_("%(count)d code(s) of this list are borne today by units of an earlier list "
                             "(%(codes)s): apply a reorganization plan instead.",
                             count=len(clash), codes=", ".join(clash[:5])))
    stats = {"created": 0, "updated": 0}
    made: dict[str, AdminUnit] = {}
    for u in units:
        unit = valid.get(u.code)
        if unit is None:
            parent = made.get(u.parent_code) if u.parent_code else None
            unit = unit_ops.create_unit(u.name, u.level, parent, u.code, user=user)
            unit.kind, unit.valid_from = u.kind, valid_from
            stats["created"] += 1
        else:
            if unit.name != u.name:
                unit_ops.rename_unit(unit, u.name, user=user)
                stats["updated"] += 1
            unit.kind = unit.kind or u.kind
        made[u.code] = unit
    return stats
