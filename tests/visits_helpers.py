"""Shared set-up for the visits and households tests: a team with members, a form post helper."""
import uuid
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.households.operations import create_household
from app.teams.models import Member, Membership, Team
from app.text import fold
from app.visits.models import Adoption, Service, Visit

TEAM_START = date(2024, 3, 1)


def make_team(commune, hamlets, name="Tổ CNSCĐ Khu vực 1"):
    team = Team(commune_id=commune.id, name=name, name_folded=fold(name), decision_date=TEAM_START)
    team.hamlets.extend(hamlets)
    db.session.add(team)
    members = []
    for i, full_name in enumerate(["Nguyễn Thị Lan", "Trần Văn Bình", "Lê Minh Khang"]):
        m = Member(full_name=full_name, name_folded=fold(full_name))
        db.session.add(m)
        db.session.add(Membership(member=m, team=team, role="leader" if i == 0 else "member",
                                  joined_on=TEAM_START))
        members.append(m)
    db.session.flush()
    return team, members


def attach(user, team, member):
    user.team_id, user.member_id = team.id, member.id
    db.session.commit()


def household(hamlet, name="Nguyễn Văn An", address="12 Lê Lợi"):
    h = create_household(hamlet.id, name, address)
    db.session.commit()
    return h


def service_id(code):
    return db.session.scalar(sa.select(Service.id).where(Service.code == code))


def form(household_id=None, on=None, members=(), services=None, key=None, **extra):
    data = {"key": key or uuid.uuid4().hex, "visited_on": (on or date.today()).isoformat(),
            "members": [str(m) for m in members], "note": ""}
    if household_id is not None:
        data["household_id"] = str(household_id)
    for code, result in (services or {}).items():
        data[f"svc-{code}"] = result
    data.update(extra)
    return data


def visit_count():
    return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def adoption(household_id, code):
    db.session.expire_all()
    return db.session.scalar(sa.select(Adoption).where(Adoption.household_id == household_id,
                                                       Adoption.service_id == service_id(code)))


class Browser:
    """A test client whose every request runs in a fresh app context.

    The `db` fixture keeps an app context pushed, and Flask-Login caches the signed-in user on its
    `g`; without a fresh context a second client would act as whoever signed in first.
    """

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def open(self, method, url, **kwargs):
        with self.app.app_context():
            return self.client.open(url, method=method, **kwargs)

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.open("POST", url, **kwargs)


_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")


def sign_in_as(app, role, unit, team=None, member=None, username=None):
    from app.auth.cli import create_user
    from tests.conftest import PASSWORD
    # Letters only: a page's figures are checked by the numbers in it, which a random username's digits
    # could otherwise contain ("leader-2cd9c410" holds 410).
    username = username or f"{role}-{uuid.uuid4().hex[:8].translate(_NO_DIGITS)}"
    user = create_user(username, role, unit, PASSWORD, full_name=f"Người dùng {username}")
    if team is not None:
        user.team_id = team.id
    if member is not None:
        user.member_id = member.id
    db.session.commit()
    browser = Browser(app)
    resp = browser.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return browser, user
