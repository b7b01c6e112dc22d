"""A small world for the access matrix: one area inside every test user's scope, three outside it.

Inside: Phường I (district 930 of province 93), its hamlet, team A, a member, a household, a visit.
Outside, near: Thị trấn Một Ngàn in district 931 of the same province (outside a district,
commune or team user's scope). Outside, far: province 94 (outside the province user's scope).
Outside, sibling: another team of Phường I serving its other hamlet, with its own members,
household and visit (outside a team leader's or member's scope: a team sees only itself).
Users are made with a ready password hash and signed in through the session, so a world costs
milliseconds, not a key derivation per role.
"""
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.api.models import issue_token
from app.audit.models import record
from app.auth.models import User
from app.coverage.models import AdultTarget
from app.dates import today_vn
from app.extensions import db
from app.households.models import Household
from app.reports.models import MonthClosure
from app.teams.models import Member, Membership, Team
from app.text import fold
from app.units import operations as units
from app.visits.models import Adoption, Service, Target, Visit, VisitService, visit_members

ROLES = ("admin", "province", "district", "commune", "team_leader", "team_member")
_HASH = generate_password_hash("mat-khau-thu-nghiem", method="scrypt")


@dataclass
class Area:
    """The records of one commune, one of each kind the routes take."""
    province: object
    district: object
    commune: object
    hamlet: object
    team: object = None
    member: object = None
    household: object = None
    visit: object = None
    closure: object = None
    token: object = None
    account: object = None  # a commune officer's account, for the account pages
    klass: object = None    # a class the area's team held
    target: object = None   # a milestone of the province's target for the world's service
    adult_target: object = None  # a milestone of the province's adult target (named learners)
    shift: object = None    # a one-stop-centre shift of the area's team
    extra: dict = field(default_factory=dict)
    # The units of this area that a user outside it does not see (not the ancestors it shares).
    own_units: list = field(default_factory=list)

    def names(self) -> list[str]:
        """What a page would show of this area's records: none may appear to a user outside it."""
        from app.teams.operations import format_phone
        people = [self.member, self.extra.get("second")]
        phones = [p.phone for p in people if p is not None] + [self.household.phone]
        return ([self.household.head_name, self.household.address, self.team.name]
                + [p.full_name for p in people if p is not None]
                + phones + [format_phone(p) for p in phones]
                + [u.name for u in self.own_units] + self.extra.get("labels", []))

    def ids(self) -> dict:
        """The value of each kind of URL argument for this area."""
        return {"commune": self.commune.id, "hamlet": self.hamlet.id, "team": self.team.id,
                "member": self.member.id, "household": self.household.id, "visit": self.visit.id,
                "closure": self.closure.id, "token": self.token.id, "province": self.province.id,
                "account": self.account.id, "class": self.klass.id, "shift": self.shift.id,
                "area": self.extra["area"].id, "target": self.target.id, "adult_target": self.adult_target.id,
                "commune_code": self.commune.code}


def _team(commune, hamlet, label):
    team = Team(commune_id=commune.id, name=f"Tổ CNSCĐ {label}", name_folded=fold(f"To CNSCD {label}"),
                decision_date=date(2022, 3, 15))
    team.hamlets.append(hamlet)
    db.session.add(team)
    db.session.flush()
    return team


def _member(team, name, phone):
    member = Member(full_name=name, name_folded=fold(name), phone=phone)
    db.session.add(member)
    db.session.flush()
    db.session.add(Membership(member_id=member.id, team_id=team.id, joined_on=date(2022, 3, 15)))
    db.session.flush()
    return member


def _household(hamlet, name, phone="0912345678", address="12 Lê Lợi"):
    h = Household(hamlet_id=hamlet.id, head_name=name, head_name_folded=fold(name), phone=phone,
                  address=address)
    db.session.add(h)
    db.session.flush()
    return h


def _visit(household, team, member, on):
    wallet = db.session.scalar(sa.select(Service).where(Service.code == "e_wallet"))
    v = Visit(household_id=household.id, hamlet_id=household.hamlet_id, team_id=team.id, visited_on=on,
              idempotency_key=uuid.uuid4().hex)
    db.session.add(v)
    db.session.flush()
    db.session.add(VisitService(visit_id=v.id, service_id=wallet.id, result="adopted"))
    db.session.execute(visit_members.insert().values(visit_id=v.id, member_id=member.id))
    db.session.add(Adoption(household_id=household.id, service_id=wallet.id, hamlet_id=household.hamlet_id,
                            adopted_on=on, visit_id=v.id))
    db.session.flush()
    return v


def _class_and_shift(area, on):
    """A class and a shift of the area's team, taught and staffed by its member."""
    from app.activities.models import CentreShift, Class
    area.klass = Class(key=uuid.uuid4().hex, commune_id=area.commune.id, held_on=on, place_name="Trường tiểu học",
                       learners_total=20, age_15_17=0, age_18_59=15, age_60_plus=5)
    area.klass.teams.append(area.team)
    area.klass.members.append(area.member)
    area.shift = CentreShift(key=uuid.uuid4().hex, commune_id=area.commune.id, team_id=area.team.id, held_on=on,
                             people_helped=6)
    area.shift.members.append(area.member)
    db.session.add_all([area.klass, area.shift])
    db.session.flush()
    from app.coverage import activity_months
    activity_months.ClassChange().done(area.klass)  # as the class and shift operations do
    activity_months.ShiftChange().done(area.shift)


def _target(service, province, due_on):
    target = Target(service_id=service.id, province_id=province.id, share=Decimal("0.8"), due_on=due_on)
    db.session.add(target)
    db.session.flush()
    return target


def _adult_target(province, due_on):
    target = AdultTarget(province_id=province.id, indicator="named_share", share=Decimal("0.8"), due_on=due_on)
    db.session.add(target)
    db.session.flush()
    return target


def user(username, role, unit, team=None, member=None):
    u = User(username=username, role=role, unit_id=unit.id, full_name=f"Người dùng {username}",
             password_hash=_HASH, team_id=team.id if team else None, member_id=member.id if member else None)
    db.session.add(u)
    db.session.flush()
    return u


class World:
    def __init__(self, tree):
        far_province = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
        far_district = units.create_unit("Thành phố Sóc Trăng", "district", far_province, "941")
        far_commune = units.create_unit("Phường 1", "commune", far_district, "31471")
        far_hamlet = units.create_unit("Khóm 1", "hamlet", far_commune)
        units.set_household_count(far_hamlet, 300, date(2024, 1, 1))
        self.inside = Area(tree.province, tree.district, tree.commune, tree.hamlet)
        self.near = Area(tree.province, tree.other_district, tree.other_commune, tree.other_hamlet)
        self.far = Area(far_province, far_district, far_commune, far_hamlet)
        self.near.own_units = [tree.other_district, tree.other_commune, tree.other_hamlet]
        self.far.own_units = [far_province, far_district, far_commune, far_hamlet]
        # The commune's other hamlet and its team: every user of the commune sees the hamlet.
        self.sibling = Area(tree.province, tree.district, tree.commune, tree.hamlet2)
        for i, (area, label) in enumerate(((self.inside, "Phường I"), (self.near, "Một Ngàn"),
                                           (self.far, "Phường 1 Sóc Trăng"), (self.sibling, "Khu vực Hai"))):
            area.team = _team(area.commune, area.hamlet, label)
            area.member = _member(area.team, f"Nguyễn Thị Ánh {i}", f"09180000{i}1")
            area.extra["second"] = _member(area.team, f"Trần Văn Đức {i}", f"09180000{i}2")
            area.household = _household(area.hamlet, f"Lê Văn Hùng {i}", f"09130000{i}3", f"{i + 21} Lê Lợi")
            area.visit = _visit(area.household, area.team, area.member, today_vn())
            _class_and_shift(area, today_vn())
            record("update", "household", area.household.id, area.hamlet.id, before={"note": ""},
                   after={"note": f"Ghi chú về {area.household.head_name}"}, user=None)
        for area in (self.inside, self.far):
            area.closure = MonthClosure(province_id=area.province.id, year=2023, month=1, snapshot="{}")
            db.session.add(area.closure)
        db.session.flush()
        self.near.closure = self.far.closure  # closures belong to provinces
        # An area (a group of communes) in each province, empty: the area pages are the province's.
        for area, label in ((self.inside, "Vị Thanh"), (self.far, "Sóc Trăng")):
            area.extra["area"] = units.create_unit(f"Cụm {label}", "area", area.province)
        self.near.extra["area"] = self.sibling.extra["area"] = self.inside.extra["area"]
        self.far.own_units.append(self.far.extra["area"])
        self.sibling.closure = self.inside.closure
        inside = self.inside
        self.users = {
            "admin": user("qt", "admin", tree.province),
            "province": user("tinh", "province", tree.province),
            "district": user("huyen", "district", tree.district),
            "commune": user("xa", "commune", tree.commune),
            "team_leader": user("totruong", "team_leader", tree.commune, inside.team, inside.member),
            "team_member": user("tovien", "team_member", tree.commune, inside.team, inside.extra["second"]),
        }
        far_staff = user("tinh-soc-trang", "province", far_province)
        inside.token, self.inside_secret = issue_token(self.users["province"], "Trung tâm điều hành")
        self.far.token, self.far_secret = issue_token(far_staff, "Mã của Sóc Trăng")
        self.far.extra["labels"] = ["Mã của Sóc Trăng"]
        self.near.token = self.sibling.token = inside.token  # tokens belong to province staff
        for area, label in ((inside, "a"), (self.near, "b"), (self.far, "c")):
            area.account = user(f"can-bo-xa-{label}", "commune", area.commune)
            area.extra.setdefault("labels", []).append(area.account.username)
        self.sibling.account = inside.account  # the commune's officer: no team role may open accounts
        self.service = db.session.scalar(sa.select(Service).where(Service.code == "vneid"))
        for area in (inside, self.far):  # targets belong to provinces
            area.target = _target(self.service, area.province, date(2030, 12, 31))
            area.adult_target = _adult_target(area.province, date(2030, 12, 31))
        self.near.target = self.sibling.target = inside.target
        self.near.adult_target = self.sibling.adult_target = inside.adult_target
        db.session.commit()

    def fresh_inside(self, n: int) -> Area:
        """New records of each kind inside the area (same commune and team), for a request that
        may change or delete the one it names; the next role gets records of its own."""
        inside = self.inside
        hamlet = units.create_unit(f"Khu vực mới {n}", "hamlet", inside.commune)
        area = Area(inside.province, inside.district, inside.commune, hamlet, team=inside.team)
        area.extra["area"] = units.create_unit(f"Cụm mới {n}", "area", inside.province)  # one a request may remove
        area.member = _member(inside.team, f"Phạm Thị Mới {n}", f"09170000{n:02d}")
        area.household = _household(inside.hamlet, f"Hộ Mới {n}")
        area.visit = _visit(area.household, inside.team, area.member, today_vn())
        _class_and_shift(area, today_vn())
        area.closure = MonthClosure(province_id=inside.province.id, year=2022 - n // 12, month=n % 12 + 1,
                                    snapshot="{}")
        db.session.add(area.closure)
        area.token, _secret = issue_token(self.users["province"], f"Mã mới {n}")
        area.account = user(f"can-bo-moi-{n}", "commune", inside.commune)
        area.target = _target(self.service, inside.province, date(2029, 1, 1) + timedelta(days=n))
        area.adult_target = _adult_target(inside.province, date(2029, 1, 1) + timedelta(days=n))
        db.session.commit()
        return area

    def outside_for(self, role: str) -> Area | None:
        """The nearest area outside the role's scope (an administrator has none)."""
        return {"admin": None, "province": self.far}.get(role, self.near)

    def areas_outside(self, role: str) -> list[Area]:
        """The nearest areas outside the role's scope: a team's sibling team, then the next district
        (or province). Records there are refused, and lists show nothing of them."""
        nearest = self.outside_for(role)
        sibling = [self.sibling] if role in ("team_leader", "team_member") else []
        return sibling + ([nearest] if nearest is not None else [])

    def names_outside(self, role: str) -> list[str]:
        """Every name and phone of every area outside the role's scope: none may reach the user."""
        areas = self.areas_outside(role)
        if areas and self.far not in areas:
            areas = areas + [self.far]
        return [name for area in areas for name in area.names()]


def fingerprint() -> tuple:
    """Every row of every table: a refused request must leave this unchanged. On PostgreSQL a digest of each
    table's rows as text, in one statement (the rows themselves, one statement a table, were a third of the
    matrix's time there)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return tuple(sorted(db.session.execute(sa.text(" UNION ALL ".join(
            f"SELECT '{t.name}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM \"{t.name}\" r"
            for t in db.metadata.sorted_tables))).tuples()))
    out = []
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        out.append((table.name, sorted(tuple(map(str, r)) for r in rows)))
    return tuple(out)
