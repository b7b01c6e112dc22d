"""The first-run checklist: what an admin or province staff still has to do before the province
can work (load the units, set the targets, create the officers' accounts), each step ticked when done."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.units.models import AdminUnit

CHECKLIST_ROLES = ("admin", "province")


@dataclass
class Checklist:
    province: AdminUnit
    units_loaded: bool
    targets_set: bool
    officers_created: bool

    @property
    def done(self) -> bool:
        return self.units_loaded and self.targets_set and self.officers_created


def first_run_checklist(user, unit: AdminUnit) -> Checklist | None:
    """The checklist for the user's own province page, or None when it has nothing left to show."""
    from app.auth.models import User
    from app.visits.models import Service, Target
    if user.role not in CHECKLIST_ROLES or unit.id != user.unit_id or unit.level != "province":
        return None
    below = AdminUnit.subtree_ids(unit)
    # One round trip for the three questions: the landing page is opened often.
    row = db.session.execute(sa.select(
        sa.exists().where(AdminUnit.within(unit), AdminUnit.level == "commune"),
        # Each service: the step says "for each service", and one target of ten is not the step done.
        ~sa.exists().where(Service.active, ~sa.exists().where(Target.service_id == Service.id,
                                                             Target.province_id == unit.id)),
        sa.exists().where(User.role.in_(("district", "commune")), User.unit_id.in_(below)),
    )).one()
    checklist = Checklist(unit, *map(bool, row))
    return None if checklist.done else checklist
