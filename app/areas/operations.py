"""Making areas and moving communes between them, each audited, in the caller's transaction.

An area is an AdminUnit of level "area" between its province and the communes it groups, so
scope (a path prefix) and the coverage roll-up (unit_ancestors) work through it like any unit.
An area is today's grouping, not a step of the map's history: a commune moved into an area brings
its whole history with it, and the area it left keeps none of it (no placement is recorded). On the
map as it was on a day before an area was made, its communes stand under the province
(app.units.history.map_on).
"""
import sqlalchemy as sa

from app.audit.models import record
from app.auth.models import User
from app.dates import today_vn
from app.extensions import db
from app.text import by_name
from app.units import operations as unit_ops
from app.units.models import AdminUnit

AREA = "area"


def province_communes(province: AdminUnit) -> list[AdminUnit]:
    """The province's current communes directly under it or in one of its areas (a province still
    on three levels has its communes under districts: areas are for the two-level map)."""
    holders = sa.select(AdminUnit.id).where(AdminUnit.parent_id == province.id, AdminUnit.level == AREA)
    return by_name(db.session.scalars(
        sa.select(AdminUnit).where(sa.or_(AdminUnit.parent_id == province.id, AdminUnit.parent_id.in_(holders)),
                                   AdminUnit.level == "commune", AdminUnit.retired_on.is_(None))).all())


def province_areas(province: AdminUnit) -> list[AdminUnit]:
    return by_name(db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == province.id, AdminUnit.level == AREA,
                                   AdminUnit.retired_on.is_(None))).all())


def create_area(province: AdminUnit, name: str, user=None) -> AdminUnit:
    """An area is valid from the day it is made: on today's map it shows its communes' whole
    history, and as the map was before that day it did not exist."""
    area = unit_ops.create_unit(name, AREA, province, user=user)
    area.valid_from = today_vn()
    return area


def move_subtree(unit: AdminUnit, parent: AdminUnit) -> None:
    """Hang `unit`, with everything below it, under `parent`: new paths and depths, level by
    level from the top, so each row's trigger finds its ancestors already at their new paths."""
    old_path, old_depth = unit.path, unit.depth
    unit.place_under(parent)
    db.session.flush()
    shift = unit.depth - old_depth
    table = AdminUnit.__table__
    below = db.session.execute(
        sa.select(table.c.id, table.c.path, table.c.depth)
        .where(AdminUnit.within(old_path), table.c.id != unit.id)
        .order_by(table.c.depth, table.c.id)).all()
    for row in below:
        db.session.execute(sa.update(table).where(table.c.id == row.id)
                           .values(path=unit.path + row.path[len(old_path):], depth=row.depth + shift))
    # Objects of the session loaded before the move would keep their old paths.
    db.session.expire_all()


def recount_tallies(unit_ids: list[int]) -> None:
    """Recompute these units' coverage tallies and totals through unit_ancestors as it now is:
    exact after a move, for the few units (areas) a move changes."""
    from app.coverage import hamlet_recount
    hamlet_recount.recount({int(u) for u in unit_ids})


def set_area_communes(area: AdminUnit, commune_ids: set[int], user=None) -> dict[str, list[str]]:
    """Make exactly these communes of the province the area's: the ticked ones move in (from the
    province or another area), the unticked ones of the area go back directly under the province.
    Returns the names moved in and out, for the message and the audit trail."""
    province = area.parent
    moved_in, moved_out, touched = [], [], {area.id}
    for commune in province_communes(province):
        if commune.id in commune_ids and commune.parent_id != area.id:
            touched.add(commune.parent_id)
            move_subtree(commune, db.session.get(AdminUnit, area.id))
            moved_in.append(commune.name)
        elif commune.id not in commune_ids and commune.parent_id == area.id:
            move_subtree(commune, db.session.get(AdminUnit, province.id))
            moved_out.append(commune.name)
    touched.discard(province.id)
    if moved_in or moved_out:
        db.session.flush()
        recount_tallies(sorted(touched))
        record("set_communes", "unit", area.id, area.id, before={"communes_out": moved_out},
               after={"communes_in": moved_in}, user=user)
    return {"in": moved_in, "out": moved_out}


def accounts_bound(area: AdminUnit) -> list[User]:
    """The accounts bound to the area (its officers), disabled ones too, by username."""
    return list(db.session.scalars(sa.select(User).where(User.unit_id == area.id).order_by(User.username)))


def remove_area(area: AdminUnit, user=None) -> list[str]:
    """Return the area's communes to the province and delete the area: a grouping of today has no history
    of its own (its communes bring theirs back with them). The caller has checked that no account is bound
    to it. Returns the names of the communes returned."""
    province_id, area_id, name = area.parent_id, area.id, area.name
    returned = set_area_communes(area, set(), user=user)["out"]
    record("remove_area", "unit", area_id, province_id, before={"name": name}, user=user)
    db.session.delete(db.session.get(AdminUnit, area_id))
    db.session.flush()
    return returned
