"""Demo step: households and visits between two dates for the demo commune's teams.

Recorded through app.visits.operations, so adoptions are exactly what the visits imply.
"""
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.catalogue import operations as catalogue
from app.dates import VN, now_vn, today_vn
from app.extensions import db
from app.households.models import Household
from app.households.operations import create_household
from app.teams.models import Membership, Team
from app.visits.models import Visit
from app.visits.operations import VisitData, create_visit

VISITS_PER_TEAM = 60
HOUSEHOLDS_PER_HAMLET = 25
DAYS_BACK = 150


def seed_visits(rng, users, start: date | None = None, end: date | None = None,
                per_team: int = VISITS_PER_TEAM, phase: int = 0) -> None:
    """`per_team` visits by each team of the demo commune, dated from `start` to `end` (the last
    DAYS_BACK days by default); households are registered on the first call."""
    from app.demo.seed import person
    from app.units.models import AdminUnit
    commune = db.session.get(AdminUnit, users["demo-commune"].unit_id)
    author = users.get("demo-leader")
    services = catalogue.active_services()
    end = end or today_vn()
    start = start or end - timedelta(days=DAYS_BACK)
    teams = db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id).order_by(Team.id)).all()
    now, recorded = now_vn(), []
    for t_index, team in enumerate(teams):
        members = [m.member_id for m in db.session.scalars(
            sa.select(Membership).where(Membership.team_id == team.id).order_by(Membership.id))]
        households = []
        for hamlet in team.hamlets:
            registered = db.session.scalars(sa.select(Household).where(Household.hamlet_id == hamlet.id)
                                            .order_by(Household.id)).all()
            for _n in range(0 if registered else HOUSEHOLDS_PER_HAMLET):
                name, _gender = person(rng)
                registered.append(create_household(hamlet.id, name, f"Số {rng.randint(1, 300)}",
                                                   size=rng.randint(1, 7)))
            households += registered
        if not households:
            continue
        for i in range(per_team):
            household = rng.choice(households)
            chosen = rng.sample(services, rng.randint(1, 3))
            results = {s.id: rng.choice(("guided", "adopted", "adopted")) for s in chosen}
            data = VisitData(household=household, visited_on=start + timedelta(days=rng.randint(0, (end - start).days)),
                             results=results, member_ids=rng.sample(members, min(len(members), rng.randint(1, 2))))
            visit_id = create_visit(data, f"demo{phase}{t_index:04d}{i:06d}".ljust(32, "0"), team.id,
                                    user=author if t_index == 0 else None)
            at = recorded_on(data.visited_on, now)
            recorded.append({"id": visit_id, "created_at": at, "updated_at": at})
    # Recorded on the day of the visit, as a team in the field records it, not at the moment of seeding:
    # the visit's page says so, and the visit form's order of services counts what was recorded before today.
    if recorded:
        db.session.execute(sa.update(Visit), recorded)


def recorded_on(visited_on: date, now: datetime) -> datetime:
    """16:00 in Vietnam on the day of the visit, class or shift (now, for one of today before 16:00)."""
    return min(datetime.combine(visited_on, time(16), tzinfo=VN), now)
