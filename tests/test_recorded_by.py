"""Who did it: the pages that say who recorded, closed or changed something name the account as everywhere else,
"Full name (username)", so two people of one name are told apart, and link to the account's page only for those
who may open it (app/scope.py: accounts_query)."""
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from app.activities.operations import ClassData, ShiftData, create_class, create_shift
from app.auth.cli import create_user
from app.extensions import db as _db
from app.reports.closing import close_month
from app.reports.models import MonthClosure
from app.teams import operations as team_ops
from app.visits.operations import VisitData, create_visit
from tests.conftest import PASSWORD
from tests.html_tree import parse
from tests.visits_helpers import household, make_team, service_id, sign_in_as

ON = date(2026, 3, 12)


@pytest.fixture
def two_ans(db, tree):
    """Two team leaders of one name, Nguyễn Văn An, each with a visit, a class and a shift recorded in Phường I."""
    team, members = make_team(tree.commune, [tree.hamlet])
    h = household(tree.hamlet, "Trần Thị Bé")
    out = []
    for username in ("0912000001", "0912000002"):
        user = create_user(username, "team_leader", tree.commune, PASSWORD, full_name="Nguyễn Văn An")
        user.team_id = team.id
        visit_id = create_visit(VisitData(h, ON, {service_id("vneid"): "guided"}), uuid.uuid4().hex, team.id, user)
        klass = create_class(ClassData(commune_id=tree.commune.id, held_on=ON, place_hamlet_id=tree.hamlet.id,
                                       place_name="", learners_total=10, age_15_17=0, age_18_59=10, age_60_plus=0,
                                       team_ids=[team.id]), uuid.uuid4().hex, user)
        shift = create_shift(ShiftData(commune_id=tree.commune.id, team_id=team.id, held_on=ON, people_helped=5),
                             uuid.uuid4().hex, user)
        out.append((user, {"visit": f"/visits/{visit_id}", "class": f"/activities/classes/{klass.id}",
                           "shift": f"/activities/shifts/{shift.id}"}))
    _db.session.commit()
    return out


def _recorded_by(html: str):
    """The page's "Recorded by" line: its text, and the link it holds, if any."""
    line = next(e for e in parse(html).find_all(tag="p") if "meta" in e.classes() and "ghi lúc" in e.text())
    link = line.find(tag="a")
    return " ".join(line.text().split()), (link.attrs["href"] if link is not None else None)


@pytest.mark.parametrize("kind", ["visit", "class", "shift"])
def test_two_people_of_one_name_who_recorded_a_visit_class_or_shift_are_told_apart_by_username(
        app, db, tree, two_ans, kind):
    browser, _officer = sign_in_as(app, "commune", tree.commune)
    for user, pages in two_ans:
        resp = browser.get(pages[kind])
        assert resp.status_code == 200
        text, link = _recorded_by(resp.get_data(as_text=True))
        assert text.startswith(f"Do Nguyễn Văn An ({user.username}) ghi lúc "), text
        assert link is None  # a commune officer opens no account page


@pytest.mark.parametrize("kind", ["visit", "class", "shift"])
def test_province_staff_get_a_link_to_the_recorders_account_page_and_it_opens(app, db, tree, two_ans, kind):
    browser, _staff = sign_in_as(app, "province", tree.province)
    for user, pages in two_ans:
        text, link = _recorded_by(browser.get(pages[kind]).get_data(as_text=True))
        assert text.startswith(f"Do Nguyễn Văn An ({user.username}) ghi lúc ")
        assert link == f"/users/{user.id}"
        account = browser.get(link)
        assert account.status_code == 200 and f"<h1>Nguyễn Văn An ({user.username})</h1>" in account.get_data(
            as_text=True)


def test_a_link_is_given_exactly_where_the_account_page_opens(app, db, tree):
    """Each viewer and author: the name is a link only when the viewer's own request for the page succeeds (province
    staff do not open an administrator's account, their own, or another province's)."""
    from app.units import operations as unit_ops
    other_province = unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    h = household(tree.hamlet, "Lê Văn Cường")
    authors = {
        "admin": create_user("quan-tri", "admin", tree.province, PASSWORD, full_name="Phạm Quản Trị"),
        "commune": create_user("can-bo-xa", "commune", tree.commune, PASSWORD, full_name="Võ Thị Xã"),
        "elsewhere": create_user("can-bo-soc-trang", "province", other_province, PASSWORD, full_name="Lý Văn Xa"),
    }
    visits = {k: create_visit(VisitData(h, ON, {}), uuid.uuid4().hex, None, u) for k, u in authors.items()}
    _db.session.commit()
    viewers = {role: sign_in_as(app, role, unit) for role, unit in
               (("admin", tree.province), ("province", tree.province), ("district", tree.district))}
    seen = {}
    for role, (browser, _viewer) in viewers.items():
        for key, visit_id in visits.items():
            text, link = _recorded_by(browser.get(f"/visits/{visit_id}").get_data(as_text=True))
            author = authors[key]
            assert text.startswith(f"Do {author.full_name} ({author.username}) ghi lúc ")
            opens = browser.get(f"/users/{author.id}").status_code == 200
            assert (link == f"/users/{author.id}") == opens and (link is None) == (not opens), (role, key)
            seen[role, key] = opens
    assert seen == {("admin", "admin"): True, ("admin", "commune"): True, ("admin", "elsewhere"): True,
                    ("province", "admin"): False, ("province", "commune"): True, ("province", "elsewhere"): False,
                    ("district", "admin"): False, ("district", "commune"): False, ("district", "elsewhere"): False}


def test_the_closed_months_list_and_the_reopen_page_name_who_closed_the_month_with_the_username(app, db, tree):
    closer = create_user("nguyen.van.an", "province", tree.province, PASSWORD, full_name="Nguyễn Văn An")
    admin = create_user("an.admin", "admin", tree.province, PASSWORD, full_name="Nguyễn Văn An")
    close_month(tree.province, 2026, 1, closer)
    close_month(tree.province, 2026, 2, admin)
    _db.session.commit()
    january, february = (_db.session.scalar(sa.select(MonthClosure.id).where(MonthClosure.month == m)) for m in (1, 2))
    browser, _staff = sign_in_as(app, "province", tree.province)
    page = parse(browser.get("/reports/closing").get_data(as_text=True))
    rows = {" ".join(r.find(tag="td").text().split()): r.find_all(tag="td") for r in page.find_all(tag="tr")
            if r.find(tag="td") is not None}
    by = {month: list(cells)[2] for month, cells in rows.items()}
    # Province staff open neither account: another province officer's, or an administrator's.
    assert " ".join(by["01/2026"].text().split()) == "Nguyễn Văn An (nguyen.van.an)"
    assert " ".join(by["02/2026"].text().split()) == "Nguyễn Văn An (an.admin)"
    assert by["01/2026"].find(tag="a") is None and by["02/2026"].find(tag="a") is None
    reopen = browser.get(f"/reports/closing/{january}/reopen").get_data(as_text=True)
    assert "người khóa: Nguyễn Văn An (nguyen.van.an)." in reopen
    # An administrator opens both.
    admin_browser, _ = sign_in_as(app, "admin", tree.province)
    reopen = parse(admin_browser.get(f"/reports/closing/{february}/reopen").get_data(as_text=True))
    line = next(p for p in reopen.find_all(tag="p") if "người khóa" in p.text())
    assert line.find(tag="a").attrs["href"] == f"/users/{admin.id}"


def test_a_teams_history_and_the_audit_trail_name_who_changed_it_with_the_username(app, db, tree):
    officer = create_user("can-bo-phuong-i", "commune", tree.commune, PASSWORD, full_name="Nguyễn Văn An")
    team = team_ops.create_team(tree.commune, "Tổ CNSCĐ Khu vực 1", "", None, [tree.hamlet], user=officer)
    _db.session.commit()
    for role, unit, pages in (("commune", tree.commune, [f"/teams/{team.id}"]),
                              ("district", tree.district, [f"/teams/{team.id}", "/audit/"]),
                              ("province", tree.province, [f"/teams/{team.id}", "/audit/"])):
        browser, _viewer = sign_in_as(app, role, unit)
        for url in pages:
            html = browser.get(url).get_data(as_text=True)
            assert "Nguyễn Văn An (can-bo-phuong-i)" in " ".join(parse(html).text().split()), (role, url)
            links = [a.text() for a in parse(html).find_all(tag="a", href=f"/users/{officer.id}")]
            # Only province staff open a commune officer's account.
            assert links == (["Nguyễn Văn An (can-bo-phuong-i)"] if role == "province" else []), (role, url)
