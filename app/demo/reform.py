"""Demo step: the 2025 reform. Hậu Giang (93) is reorganized by the official plan into Cần Thơ (92)
from 1 July 2025, through the same operations as `flask units reorganize --draft` and `--plan`;
then the rest of new Cần Thơ's 103 communes, an area of the former Vị Thanh with its officer, and
the province's targets.
"""
import random
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm

from app.auth.cli import create_user
from app.auth.models import User
from app.extensions import db
from app.units import gso, reorganize
from app.units import operations as unit_ops
from app.units.models import AdminUnit, UnitSuccession
from app.visits.models import Service, Target

REFORM_ON = date(2025, 7, 1)
NEW_PROVINCE = "92"      # Cần Thơ since 1 July 2025
AREA_NAME = "Khu vực Vị Thanh"
TARGETS_DUE = date(2026, 12, 31)


def official_plan_lines(old_province: AdminUnit, new_province: str = NEW_PROVINCE,
                        on: date = REFORM_ON) -> list[reorganize.PlanLine]:
    """The official draft for the new province, kept to the lines of the old province the demo holds
    (for Cần Thơ, old Cần Thơ and Sóc Trăng are not in it), each split commune's hamlets dealt out
    in turn among the official candidates, as a province would complete the draft."""
    held = set(db.session.scalars(sa.select(AdminUnit.code).where(
        AdminUnit.within(old_province), AdminUnit.code.is_not(None))))
    lines, turn = [], {}
    for number, (day, old_code, _old_name, hamlet, new_code, new_name, account) in enumerate(
            reorganize.draft_rows(new_province, on), start=2):
        if old_code not in held:
            continue
        if hamlet and not new_code:
            candidates = [c.split(" ", 1)[0] for c in new_name.split(" | ")]
            turn[old_code] = turn.get(old_code, -1) + 1
            new_code = candidates[turn[old_code] % len(candidates)]
        lines.append(reorganize.PlanLine(line=number, effective_on=day, old_code=old_code,
                                         hamlet=hamlet, new_code=new_code, new_name=new_name, account=account))
    return lines


def reorganize_into_can_tho(old_province: AdminUnit) -> reorganize.Outcome:
    plan = reorganize.check_plan("demo: official plan for Cần Thơ (92)", official_plan_lines(old_province))
    if not plan.ok:
        raise RuntimeError("the demo's plan has problems: " + "; ".join(m for _l, m in plan.problems()[:5]))
    outcome = reorganize.apply_plan(plan)
    db.session.flush()
    # The new communes that old Cần Thơ and Sóc Trăng formed, so the province has all 103.
    gso.import_province(NEW_PROVINCE, on=REFORM_ON)
    return outcome


def seed_new_hamlets(rng: random.Random, province: AdminUnit, names: list[str], counted_on: date) -> None:
    """Made-up hamlets and counts for the communes that came from provinces outside the demo."""
    below = orm.aliased(AdminUnit)
    empty = db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.parent_id == province.id, AdminUnit.level == "commune",
        ~sa.exists().where(below.parent_id == AdminUnit.id)).order_by(AdminUnit.code)).all()
    for commune in empty:
        for name in names[:rng.randint(3, 5)]:
            hamlet = unit_ops.create_unit(name, "hamlet", commune)
            unit_ops.set_household_count(hamlet, rng.randint(150, 700), counted_on)


def seed_area(province: AdminUnit, old_district: AdminUnit, name: str = AREA_NAME) -> AdminUnit:
    """An area of the communes that received the former district's communes."""
    from app.areas.operations import create_area, set_area_communes
    old_communes = sa.select(AdminUnit.id).where(AdminUnit.parent_id == old_district.id)
    heirs = set(db.session.scalars(sa.select(UnitSuccession.new_unit_id).where(
        UnitSuccession.old_unit_id.in_(old_communes))))
    area = create_area(province, name)
    # In the demo's story the province grouped them when it took them in: the area stands from the reform's day
    # (not the seeding day), so the map as it was since then holds it, as it would in a province that made it then.
    area.valid_from = REFORM_ON
    db.session.flush()
    set_area_communes(area, heirs)
    return area


# The e-payment services' earlier milestone (DOMAIN.md: e-payment accounts 50% by 2025, 80% by 2030).
EARLIER_MILESTONE = {"e_wallet": (0.5, date(2025, 12, 31)), "bank_account": (0.5, date(2025, 12, 31))}


def seed_targets(province: AdminUnit, rng: random.Random) -> None:
    for service in db.session.scalars(sa.select(Service).where(Service.active).order_by(Service.position)):
        db.session.add(Target(service_id=service.id, province_id=province.id,
                              share=round(rng.choice((0.6, 0.7, 0.8)), 2), due_on=TARGETS_DUE))
        if service.code in EARLIER_MILESTONE:
            share, due_on = EARLIER_MILESTONE[service.code]
            db.session.add(Target(service_id=service.id, province_id=province.id, share=share, due_on=due_on))


def seed_area_officer(area: AdminUnit, password: str) -> User:
    return create_user("demo-area", "district", area, password, full_name="Lê Văn Phúc")


def rename_clashing_hamlets(province: AdminUnit) -> int:
    """Hamlets of merged communes that now share a name with a sibling get their old commune's
    name added, from the reform's day, as a commune does in its hamlet review (the first keeps it)."""
    from app.text import fold
    from app.units.hamlet_changes import rename_hamlet
    from app.units.models import UnitPlacement
    hamlets = db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.within(province), AdminUnit.level == "hamlet").order_by(AdminUnit.id)).all()
    seen, renamed = set(), 0
    for hamlet in hamlets:
        key = (hamlet.parent_id, fold(hamlet.name))
        if key in seen:
            old = db.session.scalar(sa.select(AdminUnit).join(UnitPlacement, UnitPlacement.parent_id == AdminUnit.id)
                                    .where(UnitPlacement.unit_id == hamlet.id))
            if old is not None:
                rename_hamlet(hamlet, f"{hamlet.name} ({old.name})", REFORM_ON)
                renamed += 1
        seen.add(key)
    return renamed
