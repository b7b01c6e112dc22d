"""Who did it: the pages that say who recorded, closed or changed something name the account as everywhere else,
"Full name (username)", so two people of one name are told apart, and link to the account's page only for those
who may open it (app/scope.py: accounts_query)."""
import re
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


@pytest.fixture
def hamlet_records(db, tree):
    """Two officers of Phường I of one name, Nguyễn Văn An: one counts Khu vực 1's households and renames it, the
    other its adults and merges Khu vực 2 into it (which sets its count from that day); the tree's first count was
    recorded by no one (a set-up)."""
    from app.units import hamlet_changes
    from app.units.operations import set_adult_count, set_household_count
    first = create_user("can-bo-phuong-i", "commune", tree.commune, PASSWORD, full_name="Nguyễn Văn An")
    second = create_user("nguyen.van.an", "commune", tree.commune, PASSWORD, full_name="Nguyễn Văn An")
    set_household_count(tree.hamlet, 350, date(2025, 1, 1), user=first)
    set_adult_count(tree.hamlet, 900, date(2025, 1, 1), user=second)
    hamlet_changes.merge_hamlets(tree.hamlet2, tree.hamlet, date(2025, 7, 1), 760, user=second)
    hamlet_changes.rename_hamlet(tree.hamlet, "Khu vực Một", date(2025, 8, 1), user=first)
    _db.session.commit()
    return first, second


def _table_rows(page, caption: str) -> list[list]:
    """The cells of each body row of the table in the <details> whose summary reads `caption`; its last column is
    headed Người ghi (who recorded the line)."""
    details = next(d for d in page.find_all(tag="details") if " ".join(d.find(tag="summary").text().split()) == caption)
    assert _text(list(details.find(tag="thead").find_all(tag="th"))[-1]) == "Người ghi"
    return [list(r.find_all(tag="td")) for r in details.find(tag="tbody").find_all(tag="tr")]


def _text(element) -> str:
    return " ".join(element.text().split())


@pytest.mark.parametrize("role,unit_name,links", [("commune", "commune", False), ("district", "district", False),
                                                   ("province", "province", True)])
def test_a_hamlets_counts_and_history_name_who_recorded_each_line_linked_for_those_who_open_the_account(
        app, db, tree, hamlet_records, role, unit_name, links):
    """The household counts, the adult populations and the hamlet's changes each say who recorded them, "Full name
    (username)" (the two Nguyễn Văn An told apart), linked to the account's page only for province staff, who may
    open a commune officer's account; a count from the set-up says no one ("–")."""
    first, second = hamlet_records
    browser, _viewer = sign_in_as(app, role, getattr(tree, unit_name))
    resp = browser.get(f"/units/{tree.hamlet.id}")
    assert resp.status_code == 200
    page = parse(resp.get_data(as_text=True))
    a1, a2 = f"Nguyễn Văn An ({first.username})", f"Nguyễn Văn An ({second.username})"
    counts = _table_rows(page, "Số hộ các lần trước")
    assert [[_text(c) for c in row] for row in counts] == [["01/07/2025", "760", a2], ["01/01/2025", "350", a1],
                                                          ["01/01/2024", "320", "–"]]
    adults = _table_rows(page, "Các số liệu người trưởng thành trước đây")
    assert [[_text(c) for c in row] for row in adults] == [["01/07/2025", "900", a2], ["01/01/2025", "900", a2]]
    history = [_text(li) for li in page.find(id="hamlet-history").find_all(tag="li")]
    assert history == [f"01/07/2025: Khu vực 2 sáp nhập vào thôn, ấp này (chuyển 0 hộ đã ghi trong ứng dụng) · "
                       f"Khu vực 2 · người ghi: {a2}",
                       f"01/08/2025: đổi tên từ Khu vực 1 thành Khu vực Một · người ghi: {a1}"]
    names = {a1: first, a2: second}
    found = [(a.text(), a.attrs["href"]) for a in page.find_all(tag="a")
             if re.fullmatch(r"/users/\d+", a.attrs.get("href", ""))]
    if links:
        expected = [(a2, f"/users/{second.id}"), (a1, f"/users/{first.id}"), (a2, f"/users/{second.id}"),
                    (a2, f"/users/{second.id}"), (a2, f"/users/{second.id}"), (a1, f"/users/{first.id}")]
        assert sorted(found) == sorted(expected)
        for name, account in names.items():
            assert browser.get(f"/users/{account.id}").status_code == 200, name
    else:
        assert found == []
