"""Team leaders and members see their own team's hamlets against the province's targets, nothing else."""
import pytest

from app.coverage import queries
from app.dates import month_end
from tests.html_tree import parse
from tests.report_data import Activity, forget_signed_in_user
from tests.visits_helpers import sign_in_as

OCTOBER = "month=2024-10"


def _page(browser) -> str:
    resp = browser.get(f"/coverage/team?{OCTOBER}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_a_leader_sees_the_team_hamlets_figures_as_coverage_counts_them(app, db, tree):
    activity = Activity(tree)
    activity.team.hamlets.remove(tree.hamlet2)  # the team now serves Khu vực 1 only
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = _page(browser)
    hamlet = queries.coverage(tree.hamlet, month_end(2024, 10)).total
    assert hamlet.households == 320 and hamlet.services["e_wallet"].adopted == 2
    assert "Khu vực 1" in html and "320 hộ" in html
    assert "0,6%" in html and "chỉ tiêu 50%" in html  # 2 of 320 against the province's 50 %
    # Below the target is said in words, the total's and the hamlet's alike; no ▼ that reads as "falling".
    hamlet_card = " ".join(html.split('class="hamlet-progress"')[1].split())
    assert "chỉ tiêu 50% · thiếu 49,4 điểm phần trăm" in hamlet_card
    assert "▼" not in html
    # Nothing of the commune's other hamlet, the other commune or its team.
    for outside in ("Khu vực 2", "410", "Ấp Nhơn Xuân", "Một Ngàn", "Phạm Quốc Đạt", activity.other_team.name):
        assert outside not in html, outside


def test_the_team_total_is_a_ratio_of_sums_over_its_hamlets(app, db, tree):
    activity = Activity(tree)
    browser, _user = sign_in_as(app, "team_member", tree.commune, activity.team)
    html = _page(browser)
    # Khu vực 1 and 2: 730 households, 3 e-wallets by the end of October (h1, h3, h4): 0,4 %.
    assert "730 hộ" in html and "0,4%" in html
    assert "Khu vực 1" in html and "Khu vực 2" in html and "Ấp Nhơn Xuân" not in html


def test_a_member_of_another_commune_sees_only_their_own_hamlet(app, db, tree):
    activity = Activity(tree)
    browser, _user = sign_in_as(app, "team_member", tree.other_commune, activity.other_team)
    html = _page(browser)
    assert "Ấp Nhơn Xuân" in html and "530 hộ" in html
    assert "Khu vực 1" not in html and "Khu vực 2" not in html and "Phường I" not in html


def test_staff_keep_their_coverage_pages_and_field_users_still_cannot_open_them(app, db, tree, login_as, client):
    activity = Activity(tree)
    login_as("commune", tree.commune)
    assert client.get(f"/coverage/team?{OCTOBER}").status_code == 403
    forget_signed_in_user()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    assert browser.get(f"/coverage/{tree.commune.id}").status_code == 403
    assert browser.get(f"/coverage/{tree.hamlet.id}").status_code == 403


def test_a_field_user_without_a_team_is_told_so_and_a_bad_month_is_a_400(app, db, tree):
    browser, _user = sign_in_as(app, "team_member", tree.commune)
    assert "chưa phụ trách ấp nào" in _page(browser)
    resp = browser.get("/coverage/team?month=2099-01")
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    # A month to come has not begun (it has not "not ended").
    html = resp.get_data(as_text=True)
    assert "Tháng này chưa bắt đầu" in html and "chưa kết thúc" not in html


@pytest.mark.parametrize("role", ["team_leader", "team_member"])
def test_a_field_account_without_a_team_is_refused_the_forms_that_log_work(app, db, tree, role):
    """A leader's or member's account bound to no team (`flask users create` without one) has no team to
    log for: the visit, class and shift forms answer 403, never a form for nobody or a 500."""
    import sqlalchemy as sa

    from app.visits.models import Visit
    browser, _user = sign_in_as(app, role, tree.commune)
    for path in ("/visits/new", "/visits/team.json", "/activities/classes/new", "/activities/shifts/new"):
        assert browser.get(path).status_code == 403, path
    assert browser.post("/visits/new", data={"key": "k-1", "visited_on": "2026-11-30"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
    assert browser.get("/teams/").status_code == 404  # "my team": there is none to show


def test_the_menu_leads_field_users_to_their_team_progress(app, db, tree):
    activity = Activity(tree)
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = browser.get("/visits/").get_data(as_text=True)
    assert 'href="/coverage/team"' in html and "Tiến độ của tổ" in html


def test_a_service_exactly_at_its_target_is_met_not_below(app, db, tree):
    from datetime import date

    from app.units.operations import set_household_count
    activity = Activity(tree)
    activity.team.hamlets.remove(tree.hamlet2)
    set_household_count(tree.hamlet, 4, date(2024, 2, 1))  # 2 e-wallets of 4 households: the 50 % target
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = " ".join(_page(browser).split())
    assert "50,0%" in html and "chỉ tiêu 50% · đạt chỉ tiêu" in html
    assert "Dưới chỉ tiêu" not in html and "▼" not in html
    # Reach, likewise a ratio of the households counted: 3 of the 4 visited.
    assert "4 hộ; đã tiếp cận 3 (75,0%)." in html and "Khu vực 1 · 4 hộ · Tỷ lệ tiếp cận 75,0%" in html


def test_a_new_hamlet_without_a_count_is_listed_and_a_retired_empty_one_is_not(app, db, tree):
    # The team takes on Khu vực 5, set up without a household count yet: the leader sees it (0 households,
    # a count to ask the commune for). Khu vực 6, retired with no household ever counted, is left out.
    from datetime import date

    from app.units.operations import create_unit
    activity = Activity(tree)
    new = create_unit("Khu vực 5", "hamlet", tree.commune)
    gone = create_unit("Khu vực 6", "hamlet", tree.commune)
    gone.retired_on = date(2024, 6, 1)
    activity.team.hamlets.extend([new, gone])
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = _page(browser)
    assert "Khu vực 5" in html and "Khu vực 1" in html
    assert "Khu vực 6" not in html
    assert "730 hộ" in html  # the total: Khu vực 1 and 2, nothing added by the new hamlet


def test_a_hamlet_merged_into_another_of_the_team_is_named_with_how_it_ended_and_counted_once(app, db, tree):
    """From the month a merge ended it, a hamlet has no households of its own (they went into the hamlet it was
    merged into, which the team serves too): it is named with how it ended, without figures, and the team's total
    counts the households once. The month before, it stood with its count."""
    from datetime import date

    from app.units.hamlet_changes import merge_hamlets
    activity = Activity(tree)
    merge_hamlets(tree.hamlet, tree.hamlet2, date(2024, 11, 1), 730)
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)

    november = browser.get("/coverage/team?month=2024-11").get_data(as_text=True)
    total = " ".join(parse(november).find(id="team-total").parent.text().split())
    # 730 households (not 320 more), 4 e-wallets among them (h1, h3 and h4, and h2 is not one): 3 of 730.
    assert "730 hộ" in total and "1.050" not in total and "0,4%" in total
    by_hamlet = [" ".join(e.text().split()) for e in parse(november).find_all(tag="summary")
                 if "hamlet-progress" in e.parent.classes()]
    assert by_hamlet == ["Khu vực 2 · 730 hộ · Tỷ lệ tiếp cận 0,5%"]
    ended = " ".join(parse(november).find(id="ended-hamlets").text().split())
    assert ended == "Khu vực 1 (đã sáp nhập vào Khu vực 2 từ 01/11/2024)"
    assert "320" not in ended

    october = _page(browser)
    assert "730 hộ" in october and "Khu vực 1 · 320 hộ" in " ".join(october.split())
    assert 'id="ended-hamlets"' not in october


def test_a_team_whose_hamlets_all_ended_is_told_it_serves_none_and_which_ended(app, db, tree):
    from datetime import date
    activity = Activity(tree)
    for hamlet in (tree.hamlet, tree.hamlet2):
        hamlet.retired_on = date(2024, 10, 1)
    db.session.commit()
    browser, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = _page(browser)
    assert "chưa phụ trách ấp nào" in html and "730" not in html and "320" not in html
    ended = " ".join(parse(html).find(id="ended-hamlets").text().split())
    assert ended == "Khu vực 1 (ngừng sử dụng từ 01/10/2024) Khu vực 2 (ngừng sử dụng từ 01/10/2024)"
