"""Demo step: classes and one-stop-centre shifts for every demo commune with teams, and the
communes' monthly dossier totals. Recorded through app.activities.operations, like real entries."""
from datetime import timedelta

import sqlalchemy as sa

from app.activities import operations as ops
from app.activities.models import CentreShift, Class
from app.activities.topics import topics_for
from app.catalogue import operations as catalogue
from app.dates import now_vn, today_vn
from app.demo.visits import recorded_on
from app.extensions import db
from app.households.models import Household
from app.teams.models import Membership, Team
from app.units.models import AdminUnit

CLASSES_PER_TEAM = 5
SHIFTS_PER_TEAM = 3
DAYS_BACK = 150


def _bands(rng, total: int) -> tuple[int, int, int]:
    young = rng.randint(0, total // 10)
    old = rng.randint(total // 5, total // 2)
    return young, total - young - old, old


def seed_activities(rng, users) -> None:
    """Classes (20 to 80 learners, a few named) and shifts for each team, dossier totals per commune."""
    services = catalogue.active_services()
    dossier_services = catalogue.dossier_services()  # what a shift counts: dossiers filed online
    today, now = today_vn(), now_vn()
    recorded: dict[type, list[dict]] = {Class: [], CentreShift: []}
    communes = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(
        sa.select(Team.commune_id).where(Team.status == "active"))).order_by(AdminUnit.id)).all()
    for c_index, commune in enumerate(communes):
        topics = [t.id for t in topics_for(commune.province_id)]
        hamlets = [h.id for h in db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.parent_id == commune.id, AdminUnit.level == "hamlet", AdminUnit.retired_on.is_(None)))]
        heads = db.session.execute(sa.select(Household.head_name, Household.hamlet_id, Household.phone).where(
            Household.hamlet_id.in_(hamlets), Household.merged_into_id.is_(None)).limit(200)).all()
        teams = db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id, Team.status == "active")
                                   .order_by(Team.id)).all()
        for t_index, team in enumerate(teams):
            members = [m.member_id for m in db.session.scalars(
                sa.select(Membership).where(Membership.team_id == team.id, Membership.left_on.is_(None)))]
            if not members:
                continue
            start = team.visits_from or today - timedelta(days=DAYS_BACK)
            days = max(0, min(DAYS_BACK, (today - start).days))
            team_hamlets = [h.id for h in team.hamlets] or hamlets
            for i in range(CLASSES_PER_TEAM):
                total = rng.randint(20, 80)
                young, adult, old = _bands(rng, total)
                female = rng.randint(total // 3, total - total // 4)
                learners = []
                for name, hamlet_id, phone in rng.sample(heads, min(len(heads), rng.randint(0, 3))):
                    learners.append(ops.Learner(name=name, hamlet_id=hamlet_id, phone=phone or ""))
                results = {s.id: rng.randint(1, total // 2) for s in rng.sample(services, min(len(services), 2))}
                data = ops.ClassData(
                    commune_id=commune.id, held_on=today - timedelta(days=rng.randint(0, days)),
                    place_hamlet_id=rng.choice(team_hamlets) if team_hamlets else None,
                    place_name=rng.choice(("Nhà văn hóa ấp", "Trường tiểu học", "Hội trường xã")),
                    learners_total=total, age_15_17=young, age_18_59=adult, age_60_plus=old,
                    learners_female=female, learners_male=total - female,
                    topic_ids=rng.sample(topics, min(len(topics), 2)), team_ids=[team.id],
                    member_ids=rng.sample(members, min(len(members), 2)), results=results, learners=learners)
                klass = ops.create_class(data, f"democls{c_index:04d}{t_index:03d}{i:04d}".ljust(32, "0"))
                recorded[Class].append(_stamped(klass.id, data.held_on, now))
            for i in range(SHIFTS_PER_TEAM):
                dossiers = {s.id: rng.randint(1, 8)
                            for s in rng.sample(dossier_services, min(len(dossier_services), 2))}
                data = ops.ShiftData(commune_id=commune.id, team_id=team.id,
                                     held_on=today - timedelta(days=rng.randint(0, days)),
                                     people_helped=rng.randint(5, 30), member_ids=rng.sample(members, 1),
                                     dossiers=dossiers)
                shift = ops.create_shift(data, f"demoshf{c_index:04d}{t_index:03d}{i:04d}".ljust(32, "0"))
                recorded[CentreShift].append(_stamped(shift.id, data.held_on, now))
        year, month = today.year, today.month
        for _m in range(5):
            ops.set_dossier_total(commune, year * 100 + month, rng.randint(150, 600))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    # Recorded on the day each was held, as the demo's visits are, not at the moment of seeding:
    # a class's and a shift's page says when it was recorded.
    for model, rows in recorded.items():
        if rows:
            db.session.execute(sa.update(model), rows)


def _stamped(row_id: int, held_on, now) -> dict:
    at = recorded_on(held_on, now)
    return {"id": row_id, "created_at": at, "updated_at": at}
