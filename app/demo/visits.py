"""Demo step: households and a few hundred visits over recent months for the demo commune's teams.

Recorded through app.visits.services, so adoptions are exactly what the visits imply.
"""
from datetime import timedelta

import sqlalchemy as sa

from app.catalogue import operations as catalogue
from app.dates import today_vn
from app.extensions import db
from app.households.services import create_household
from app.teams.models import Membership, Team
from app.visits.services import VisitData, create_visit

VISITS_PER_TEAM = 60
HOUSEHOLDS_PER_HAMLET = 25
DAYS_BACK = 150


def seed_visits(rng, users) -> None:
    from app.demo.seed import person
    commune = users["demo-commune"].unit
    author = users.get("demo-leader")
    services = catalogue.active_services()
    today = today_vn()
    teams = db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id).order_by(Team.id)).all()
    for t_index, team in enumerate(teams):
        members = [m.member_id for m in db.session.scalars(
            sa.select(Membership).where(Membership.team_id == team.id).order_by(Membership.id))]
        households = []
        for hamlet in team.hamlets:
            for _n in range(HOUSEHOLDS_PER_HAMLET):
                name, _gender = person(rng)
                households.append(create_household(hamlet.id, name, f"Số {rng.randint(1, 300)}",
                                                   size=rng.randint(1, 7)))
        if not households:
            continue
        for i in range(VISITS_PER_TEAM):
            household = rng.choice(households)
            chosen = rng.sample(services, rng.randint(1, 3))
            results = {s.id: rng.choice(("guided", "adopted", "adopted")) for s in chosen}
            data = VisitData(household=household, visited_on=today - timedelta(days=rng.randint(0, DAYS_BACK)),
                             results=results, member_ids=rng.sample(members, min(len(members), rng.randint(1, 2))))
            create_visit(data, f"demo{t_index:04d}{i:06d}".ljust(32, "0"), team.id,
                         user=author if t_index == 0 else None)
