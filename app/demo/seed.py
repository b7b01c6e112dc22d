"""Demo data: Hậu Giang (GSO 93) with hamlets, household counts and one account per role.

Sized from the source articles (Hậu Giang 2024: 8 district-level units, 75 communes, one team
per hamlet). Deterministic, so screenshots and tests see the same names every time.
"""
import random
from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.cli import create_user
from app.auth.models import User
from app.dates import today_vn
from app.extensions import db
from app.units import gso
from app.units import operations as unit_ops
from app.units.models import AdminUnit

DEMO_PASSWORD = "matkhau-demo-2024"
PROVINCE = "93"          # Hậu Giang
DISTRICT = "930"         # Thành phố Vị Thanh
OTHER_DISTRICT = "931"   # Thành phố Ngã Bảy
HAMLET_NAMES = ["Ấp 1", "Ấp 2", "Ấp 3", "Ấp Thạnh Hòa", "Khu vực Ngã Tư", "Ấp Mỹ Lợi", "Ấp Đông Bình"]
COUNTED_ON = date(2024, 1, 1)


def by_code(code: str) -> AdminUnit:
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code))


def first_commune(district_code: str) -> AdminUnit:
    district = by_code(district_code)
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.parent_id == district.id)
                             .order_by(AdminUnit.code).limit(1))


def seed_units(rng: random.Random) -> None:
    gso.import_province(PROVINCE, on=date(2025, 6, 30))  # the demo is a province of the old map
    db.session.flush()
    province = by_code(PROVINCE)
    communes = db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.level == "commune", AdminUnit.within(province))
        .order_by(AdminUnit.code)).all()
    for commune in communes:
        n_hamlets = rng.randint(4, len(HAMLET_NAMES))
        for name in HAMLET_NAMES[:n_hamlets]:
            hamlet = unit_ops.create_unit(name, "hamlet", commune)
            households = rng.randint(120, 650)
            unit_ops.set_household_count(hamlet, households, COUNTED_ON)
            # About 2.6 adults (15 and over) per household; derived, so the demo's other figures stay as they were.
            unit_ops.set_adult_count(hamlet, households * 26 // 10, COUNTED_ON)


def seed_users() -> dict[str, User]:
    commune = first_commune(DISTRICT)
    other_commune = first_commune(OTHER_DISTRICT)
    accounts = [
        ("demo-admin", "admin", by_code(PROVINCE), "Quản trị hệ thống"),
        ("demo-province", "province", by_code(PROVINCE), "Trần Thị Hồng Nhung"),
        ("demo-district", "district", by_code(DISTRICT), "Lê Văn Phúc"),
        ("demo-commune", "commune", commune, "Nguyễn Thị Thu Hà"),
        ("demo-commune-2", "commune", other_commune, "Phạm Quốc Đạt"),
    ]
    return {u: create_user(u, role, unit, DEMO_PASSWORD, full_name=name)
            for u, role, unit, name in accounts}


SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = {"female": ["Thị", "Ngọc", "Thị Kim", "Thị Thu", "Thị Mỹ"], "male": ["Văn", "Minh", "Quốc", "Hữu", "Thanh"]}
GIVEN = {"female": ["Hà", "Lan", "Nhung", "Trang", "Thảo", "Duyên", "Hạnh", "Yến"],
         "male": ["An", "Bình", "Dũng", "Phúc", "Tài", "Khang", "Đạt", "Hiếu"]}
AFFILIATION_CYCLE = ["youth_union", "womens_union", "commune_police", "post_office", "telecom",
                     "teacher", "hamlet_head", "farmers_union"]


def person(rng: random.Random) -> tuple[str, str]:
    gender = rng.choice(["female", "male"])
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}", gender


def seed_teams(rng: random.Random, users: dict[str, User]) -> None:
    """One team per hamlet in the demo commune (DOMAIN.md: Hậu Giang has one per hamlet)."""
    from app.teams.models import Member, Membership, Team
    from app.text import fold
    commune = users["demo-commune"].unit
    province = by_code(PROVINCE)
    hamlets = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id)
                                 .order_by(AdminUnit.name)).all()
    phone_seq = iter(range(912000100, 912999999, 7))
    for i, hamlet in enumerate(hamlets, start=1):
        name = f"Tổ công nghệ số cộng đồng {hamlet.name}"
        team = Team(commune=commune, name=name, name_folded=fold(name), decision_number=f"{100 + i}/QĐ-UBND",
                    decision_date=date(2022, 3, 15), status="active")
        team.hamlets.append(hamlet)
        db.session.add(team)
        for j in range(rng.randint(4, 6)):
            full_name, gender = person(rng)
            member = Member(full_name=full_name, name_folded=fold(full_name), gender=gender,
                            birth_year=rng.randint(1965, 2003), phone=f"0{next(phone_seq)}",
                            affiliation=AFFILIATION_CYCLE[(i + j) % len(AFFILIATION_CYCLE)],
                            province_id=province.id)
            member.active_phone = member.phone
            db.session.add(member)
            role = "leader" if j == 0 else "deputy" if j == 1 else "member"
            db.session.add(Membership(member=member, team=team, role=role, joined_on=date(2022, 3, 15)))
            db.session.flush()
            if i == 1 and j in (0, 2):
                username = "demo-leader" if j == 0 else "demo-member"
                user = create_user(username, "team_leader" if j == 0 else "team_member", commune,
                                   DEMO_PASSWORD, full_name=full_name)
                user.team_id, user.member_id = team.id, member.id
                users[username] = user


HISTORY_FROM = date(2023, 1, 1)
VISITS_BEFORE_REFORM = 70   # per team, from HISTORY_FROM to 30 June 2025
VISITS_SINCE_REFORM = 40    # per team, from 1 July 2025 to today


# Features append their own steps here (households, visits ...), each taking (rng, users).
def _seed_visits(rng, users):
    from app.demo.reform import REFORM_ON
    from app.demo.visits import seed_visits
    seed_visits(rng, users, HISTORY_FROM, REFORM_ON - timedelta(days=1), VISITS_BEFORE_REFORM, phase=1)


def _reform(rng, users):
    """Hậu Giang becomes part of Cần Thơ on 1 July 2025; the teams go on visiting since."""
    from app.demo import reform
    from app.demo.visits import seed_visits
    old_province, old_district = by_code(PROVINCE), by_code(DISTRICT)
    reform.reorganize_into_can_tho(old_province)
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == reform.NEW_PROVINCE,
                                                            AdminUnit.retired_on.is_(None)))
    reform.rename_clashing_hamlets(province)
    reform.seed_new_hamlets(rng, province, HAMLET_NAMES, reform.REFORM_ON)
    users["demo-area"] = reform.seed_area_officer(reform.seed_area(province, old_district), DEMO_PASSWORD)
    reform.seed_targets(province, rng)
    db.session.flush()
    for user in users.values():
        db.session.refresh(user)
    seed_visits(rng, users, reform.REFORM_ON, today_vn(), VISITS_SINCE_REFORM, phase=2)


def _seed_activities(rng, users):
    from app.demo.activities import seed_activities
    seed_activities(rng, users)


EXTRA_STEPS: list = [seed_teams, _seed_visits, _reform, _seed_activities]


def is_seeded() -> bool:
    return db.session.scalar(sa.select(User.id).limit(1)) is not None


def seed_demo() -> dict[str, int]:
    rng = random.Random(93)
    seed_units(rng)
    users = seed_users()
    db.session.flush()
    for step in EXTRA_STEPS:
        step(rng, users)
    db.session.commit()
    return {"units": db.session.scalar(sa.select(sa.func.count(AdminUnit.id))),
            "users": db.session.scalar(sa.select(sa.func.count(User.id)))}
