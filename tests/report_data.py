"""A small month of activity on the conftest tree, built straight on the models (no visits UI needed)."""
import uuid
from datetime import date

from app.extensions import db
from app.households.models import Household
from app.teams.models import Member, Membership, Team
from app.text import fold
from app.visits.models import Adoption, Target, Visit, VisitService


def make_services(province):
    from tests.conftest import only_services
    wallet, vneid = only_services(
        dict(code="e_wallet", pillar="economy", name_vi="Ví điện tử / Mobile Money",
             name_en="E-wallet / Mobile Money", position=1),
        dict(code="vneid", pillar="government", name_vi="Định danh điện tử VNeID mức 2",
             name_en="VNeID level-2 e-identity", position=2))
    db.session.add(Target(service_id=wallet.id, province_id=province.id, share=0.5, due_on=date(2025, 12, 31)))
    return wallet, vneid


def make_team(commune, hamlets, names, left=()):
    team = Team(commune=commune, name=f"Tổ CNSCĐ {commune.name}", name_folded=fold(commune.name),
                decision_date=date(2022, 3, 15))
    team.hamlets.extend(hamlets)
    db.session.add(team)
    for i, name in enumerate(names):
        m = Member(full_name=name, name_folded=fold(name), phone=f"09120000{len(name):02d}{i}")
        db.session.add(m)
        db.session.add(Membership(member=m, team=team, joined_on=date(2022, 3, 15),
                                  left_on=date(2024, 9, 1) if name in left else None))
    db.session.flush()
    return team


def household(hamlet, name):
    h = Household(hamlet_id=hamlet.id, head_name=name, head_name_folded=fold(name))
    db.session.add(h)
    db.session.flush()
    return h


def visit(h, on, team, results):
    v = Visit(household_id=h.id, hamlet_id=h.hamlet_id, team_id=team.id, visited_on=on,
              idempotency_key=uuid.uuid4().hex)
    db.session.add(v)
    db.session.flush()
    for service, result in results.items():
        db.session.add(VisitService(visit_id=v.id, service_id=service.id, result=result))
        if result == "adopted" and db.session.get(Adoption, (h.id, service.id)) is None:
            db.session.add(Adoption(household_id=h.id, service_id=service.id, hamlet_id=h.hamlet_id,
                                    adopted_on=on, visit_id=v.id))
    db.session.flush()
    return v


class Activity:
    """October 2024 on the tree: 4 visits, 3 new e-wallets (4 cumulative), 1 VNeID."""

    def __init__(self, tree):
        self.wallet, self.vneid = make_services(tree.province)
        self.team = make_team(tree.commune, [tree.hamlet, tree.hamlet2],
                              ["Nguyễn Văn An", "Trần Thị Hà", "Lê Minh Tài"])
        self.other_team = make_team(tree.other_commune, [tree.other_hamlet],
                                    ["Phạm Quốc Đạt", "Võ Thị Lan"], left=("Võ Thị Lan",))
        h1, h2, h3 = (household(tree.hamlet, n) for n in ("Hộ Một", "Hộ Hai", "Hộ Ba"))
        h4 = household(tree.hamlet2, "Hộ Bốn")
        h5 = household(tree.other_hamlet, "Hộ Năm")
        visit(h3, date(2024, 9, 20), self.team, {self.wallet: "adopted"})
        visit(h1, date(2024, 10, 1), self.team, {self.wallet: "adopted"})
        visit(h2, date(2024, 10, 15), self.team, {self.wallet: "guided"})
        visit(h4, date(2024, 10, 31), self.team, {self.wallet: "adopted", self.vneid: "adopted"})
        visit(h5, date(2024, 10, 7), self.other_team, {self.wallet: "adopted"})
        # November: must not show in October's figures.
        visit(h2, date(2024, 11, 1), self.team, {self.vneid: "adopted"})
        self.households = {"h1": h1, "h2": h2, "h3": h3, "h4": h4, "h5": h5}
        db.session.commit()


def forget_signed_in_user():
    """The test app context outlives requests, so Flask-Login's per-request user (g._login_user)
    would carry over to the next client, as would the language chosen for them; drop both before acting
    as someone else."""
    from flask import g
    g.pop("_login_user", None)
    g.pop("_flask_babel", None)  # and the language Flask-Babel kept for them
