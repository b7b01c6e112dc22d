"""A province carried through the 2025 reform: a plan with a merge, a reused code and a split along
hamlets, applied in one step; every past figure kept."""
import base64
import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.cli import create_user
from app.auth.models import User
from app.coverage import queries
from app.coverage.models import CoverageTally
from app.extensions import db as _db
from app.reports import closing, exports
from app.reports.summary import build_summary
from app.teams.models import Team
from app.units import operations as units
from app.units.models import AdminUnit, Reorganization, UnitSuccession, unit_for_code
from app.visits.models import Adoption, Visit
from tests.html_tree import parse
from tests.report_data import forget_signed_in_user
from tests.test_coverage import households, make_services, visit

REFORM = date(2025, 7, 1)


def plan_csv(tmp_path, rows, name="plan.csv", day="2025-07-01"):
    """The plan's lines are (old code, hamlet, new code); the header is line 1."""
    text = "effective_on,old_code,hamlet,new_code,account\n" + "".join(
        f"{day},{old},{hamlet},{new},\n" for old, hamlet, new in rows)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Phường I and III of Vị Thanh merge into Phường Vị Thanh, which takes Phường III's code 31321;
# Thị trấn Một Ngàn is split along its hamlets between Xã Tân Hòa and Xã Thạnh Xuân.
PLAN = [("93", "", "92"), ("31318", "", "31321"), ("31321", "", "31321"),
        ("31338", "Ấp Nhơn Xuân", "31342"), ("31338", "Ấp Nhơn Thuận", "31360")]


@pytest.fixture
def world(db, tree):
    """Visits over several months in every hamlet, March closed, teams and accounts on the old map."""
    from tests.visits_helpers import make_team
    wallet, vneid = make_services()
    tree.hamlet3 = units.create_unit("Khu vực 3", "hamlet", tree.sibling_commune)
    tree.other_hamlet2 = units.create_unit("Ấp Nhơn Thuận", "hamlet", tree.other_commune)
    units.set_household_count(tree.hamlet3, 150, date(2024, 1, 1))
    units.set_household_count(tree.other_hamlet2, 200, date(2024, 1, 1))
    team_i, _m = make_team(tree.commune, [tree.hamlet, tree.hamlet2], name="Tổ Phường I")
    team_split, _m = make_team(tree.other_commune, [tree.other_hamlet, tree.other_hamlet2], name="Tổ Một Ngàn")
    days = [date(2025, 3, 4), date(2025, 5, 20), date(2025, 7, 3)]
    for hamlet, n in ((tree.hamlet, 3), (tree.hamlet2, 2), (tree.hamlet3, 2), (tree.other_hamlet, 2),
                      (tree.other_hamlet2, 3)):
        for i, h in enumerate(households(hamlet, n)):
            first, second = (wallet, vneid) if i % 2 == 0 else (vneid, wallet)
            visit(h, days[i % 3], adopted=[first], guided=[second])
            if i == 0:
                visit(h, days[2], adopted=[vneid])
    staff = create_user("staff-93", "province", tree.province, "matkhau-dai-du-12")
    create_user("xa-31318", "commune", tree.commune, "matkhau-dai-du-12")
    create_user("xa-31338", "commune", tree.other_commune, "matkhau-dai-du-12")
    create_user("huyen-930", "district", tree.district, "matkhau-dai-du-12")
    _db.session.flush()
    closing.close_month(tree.province, 2025, 3, staff)
    _db.session.commit()
    tree.teams = (team_i.id, team_split.id)
    # Plain ids: the CLI's commit detaches the objects the tests hold.
    return type("World", (), {name: value.id for name, value in vars(tree).items()
                              if isinstance(value, AdminUnit)} | {"teams": tree.teams})


def tally(unit_id, month, service_id=0):
    return _db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(CoverageTally.households), 0)).where(
        CoverageTally.unit_id == unit_id, CoverageTally.month == month, CoverageTally.service_id == service_id))


def reorganize(runner, path, *extra):
    return runner.invoke(args=["units", "reorganize", "--plan", str(path), *extra])


def test_a_plan_with_a_merge_a_reused_code_and_a_split_keeps_every_past_figure(app, runner, world, tmp_path):
    tree = world
    march = build_summary(_db.session.get(AdminUnit, tree.province), 2025, 3)
    before_xlsx, before_csv = exports.write_xlsx(march), exports.write_csv(march)
    may_csv = exports.write_csv(build_summary(_db.session.get(AdminUnit, tree.province), 2025, 5))
    visits, adoptions = (_db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Visit, Adoption))
    old_ids = {n: getattr(tree, n) for n in ("province", "commune", "sibling_commune", "other_commune")}
    old_tallies = {(n, m): tally(i, m) for n, i in old_ids.items() for m in (202503, 202505, 202507)}

    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    reorganization_id = _db.session.scalar(sa.select(Reorganization.id))
    assert result.output.endswith(f"applied: reorganization #{reorganization_id} effective 2025-07-01\n")
    _db.session.remove()

    # The closed month's exports are byte for byte the same; no visit or adoption lost or added.
    march = build_summary(_db.session.get(AdminUnit, tree.province), 2025, 3)
    assert march.closed_at is not None
    assert exports.write_csv(march) == before_csv
    assert exports.write_xlsx(march) == before_xlsx
    # An open month before the reform, counted now on the map as it was: the old province holds the
    # hamlets, and their households and adoptions, it held then.
    may = build_summary(_db.session.get(AdminUnit, tree.province), 2025, 5)
    before_may = may_csv.decode("utf-8-sig").splitlines()[1].split(",")
    after_may = exports.write_csv(may).decode("utf-8-sig").splitlines()[1].split(",")
    assert may.closed_at is None and after_may[9:12] == before_may[9:12] and after_may[9] == "1610"
    assert visits == _db.session.scalar(sa.select(sa.func.count()).select_from(Visit))
    assert adoptions == _db.session.scalar(sa.select(sa.func.count()).select_from(Adoption))

    # The code names the unit that bore it on the day asked; the old one is neither renamed nor hidden.
    old_iii, vi_thanh = unit_for_code("31321", on=date(2025, 3, 15)), unit_for_code("31321", on=date(2025, 8, 1))
    assert (old_iii.name, old_iii.retired_on) == ("Phường III", REFORM)
    assert (vi_thanh.name, vi_thanh.kind, vi_thanh.valid_from) == ("Phường Vị Thanh", "phuong", REFORM)
    assert unit_for_code("31321").id == vi_thanh.id
    tan_hoa, thanh_xuan = unit_for_code("31342"), unit_for_code("31360")
    new_province = unit_for_code("92")
    assert vi_thanh.parent_id == tan_hoa.parent_id == new_province.id  # two levels

    # Each new commune's months before the reform are the sums of the hamlets it holds now...
    for month in (202503, 202505, 202507):
        for new, hamlets in ((vi_thanh, (tree.hamlet, tree.hamlet2, tree.hamlet3)), (tan_hoa, (tree.other_hamlet,)),
                             (thanh_xuan, (tree.other_hamlet2,))):
            assert tally(new.id, month) == sum(tally(h, month) for h in hamlets), (new.name, month)
            assert tally(new.id, month, 1) + tally(new.id, month, 2) == sum(
                tally(h, month, 1) + tally(h, month, 2) for h in hamlets)
        assert tally(new_province.id, month) == sum(tally(u.id, month) for u in (vi_thanh, tan_hoa, thanh_xuan))
    assert min(tally(u.id, 202503) for u in (vi_thanh, tan_hoa, thanh_xuan)) > 0
    # Household counts carry over with their hamlets: on today's units for every month...
    in_may = date(2025, 5, 31)
    assert queries.households_by_unit([vi_thanh, thanh_xuan], in_may) == {vi_thanh.id: 320 + 410 + 150,
                                                                          thanh_xuan.id: 200}
    # ...and on the old ones for the months they were valid.
    old_commune = _db.session.get(AdminUnit, tree.commune)
    assert queries.households_by_unit([old_commune], in_may) == {old_commune.id: 320 + 410}
    # ...and the old units keep what they had before it, and count nothing from the reform day on.
    for (name, month), value in old_tallies.items():
        assert tally(old_ids[name], month) == (value if month < 202507 else 0), (name, month)
    assert old_tallies[("province", 202507)] > 0

    # Successions say where figures before the reform come from.
    sources = _db.session.scalars(sa.select(UnitSuccession.old_unit_id).where(
        UnitSuccession.new_unit_id == vi_thanh.id)).all()
    assert sorted(sources) == sorted([tree.commune, tree.sibling_commune])
    split = _db.session.scalars(sa.select(UnitSuccession.split).where(
        UnitSuccession.old_unit_id == tree.other_commune)).all()
    assert split == [True, True]

    # Teams follow their hamlets; accounts of ended units are moved or deactivated, each listed.
    team_i, team_split = (_db.session.get(Team, i) for i in world.teams)
    assert team_i.commune_id == vi_thanh.id and team_split.commune_id in (tan_hoa.id, thanh_xuan.id)
    accounts = {u.username: u for u in _db.session.scalars(sa.select(User))}
    assert accounts["staff-93"].unit_id == new_province.id and accounts["xa-31318"].unit_id == vi_thanh.id
    assert not accounts["xa-31338"].is_enabled and not accounts["huyen-930"].is_enabled
    for line in ("Account xa-31338 deactivated", "Account huyen-930 deactivated",
                 "Account xa-31318 moved to Phường Vị Thanh", "Tổ Phường I moved from Phường I to Phường Vị Thanh"):
        assert line in result.output

    # March stays closed for the visits of the hamlets that were in the old province then.
    moved = _db.session.get(AdminUnit, tree.hamlet)
    assert closing.is_closed(moved, date(2025, 3, 4)) and not closing.is_closed(moved, date(2025, 5, 4))

    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output
    vi_thanh_id = vi_thanh.id
    rebuilt = runner.invoke(args=["coverage", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    _db.session.remove()
    assert tally(vi_thanh_id, 202503) == sum(tally(h, 202503) for h in (tree.hamlet, tree.hamlet2, tree.hamlet3))
    assert tally(old_ids["commune"], 202507) == 0 and tally(old_ids["commune"], 202505) > 0


def test_a_visit_corrected_after_the_reform_moves_between_old_and_new_units_by_its_date(app, runner, world,
                                                                                       tmp_path):
    tree = world
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    wallet, vneid = make_services()
    h = households(_db.session.get(AdminUnit, tree.hamlet), 1)[0]
    vi_thanh = unit_for_code("31321")
    visit(h, date(2025, 5, 2), adopted=[wallet])   # late paper record from before the reform
    visit(h, date(2025, 8, 2), adopted=[vneid])
    # The reform's own day belongs to the new map: the old commune (ended that day) does not count it.
    july = tally(vi_thanh.id, 202507, wallet.id)
    on_the_day = households(_db.session.get(AdminUnit, tree.hamlet), 1)[0]
    visit(on_the_day, REFORM, adopted=[wallet])
    _db.session.commit()
    assert tally(tree.commune, 202505, wallet.id) == tally(vi_thanh.id, 202505, wallet.id) - tally(
        tree.sibling_commune, 202505, wallet.id)
    assert tally(tree.commune, 202508, vneid.id) == 0 and tally(vi_thanh.id, 202508, vneid.id) == 1
    assert tally(tree.commune, 202507, wallet.id) == 0 and tally(vi_thanh.id, 202507, wallet.id) == july + 1
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_hamlet_retired_after_the_reform_still_counts_in_its_new_commune_until_then(app, runner, world, tmp_path):
    """Today's map leaves out the units the reform ended, not a hamlet of a new commune retired by hand later:
    it counts in Phường Vị Thanh (and in Cần Thơ) until the day it was retired, and in no month after."""
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    units.retire_unit(_db.session.get(AdminUnit, world.hamlet3), date(2025, 9, 1))
    _db.session.commit()
    vi_thanh, province = unit_for_code("31321"), unit_for_code("92")
    august, september = date(2025, 8, 15), date(2025, 9, 15)
    assert queries.households_by_unit([vi_thanh], august) == {vi_thanh.id: 320 + 410 + 150}
    assert queries.households_by_unit([vi_thanh], september) == {vi_thanh.id: 320 + 410}
    assert queries.households_by_unit([province], august)[province.id] == \
        queries.households_by_unit([province], september)[province.id] + 150


def test_a_month_the_old_province_closed_stays_closed_for_its_moved_hamlets_and_for_nobody_else(
        app, runner, world, tmp_path):
    """March 2025 was closed by Hậu Giang: after the reform its hamlets, now in Cần Thơ, still count it
    closed (their visits of March are locked); a hamlet of another province, which closed nothing, is not
    bound by it, nor are the moved hamlets in May, which nobody closed."""
    tree = world
    soc_trang = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    far_hamlet = units.create_unit("Ấp Hòa Thành", "hamlet", units.create_unit(
        "Phường 1", "commune", units.create_unit("Thành phố Sóc Trăng", "district", soc_trang, "941"), "31507"))
    _db.session.commit()
    far_hamlet_id = far_hamlet.id
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    moved = _db.session.get(AdminUnit, tree.hamlet)
    assert moved.province_id == unit_for_code("92").id
    assert closing.is_closed(moved, date(2025, 3, 10))
    assert not closing.is_closed(moved, date(2025, 5, 10))
    assert not closing.is_closed(_db.session.get(AdminUnit, far_hamlet_id), date(2025, 3, 10))


def test_a_dry_run_shows_everything_and_writes_nothing(runner, world, tmp_path):
    count = _db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
    result = reorganize(runner, plan_csv(tmp_path, PLAN), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Merged into Phường Vị Thanh (31321): Phường I (31318), Phường III (31321)." in result.output
    assert ("Split: Thị trấn Một Ngàn (31338): Ấp Nhơn Xuân to Xã Tân Hòa (31342); Ấp Nhơn Thuận to Xã Thạnh "
            "Xuân (31360).") in result.output
    assert "Tổ Phường I moved from Phường I to Phường Vị Thanh" in result.output
    assert "dry run: nothing was written" in result.output and "after today" not in result.output
    assert "applied:" not in result.output
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == count
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III"


@pytest.mark.parametrize("rows, expected", [
    # A hamlet of a split commune left out.
    (PLAN[:-1], ["plan.csv:5: Hamlet Ấp Nhơn Thuận of Thị trấn Một Ngàn, which is split, is not assigned."]),
    # One old unit to two new ones without saying which hamlets go where.
    (PLAN[:3] + [("31338", "", "31342"), ("31338", "", "31360")],
     ["plan.csv:6: Thị trấn Một Ngàn goes to 31342, 31360: say which hamlets go where"]),
    # A code absent from the list in force.
    (PLAN[:1] + [("31318", "", "99999")] + PLAN[2:],
     ["plan.csv:3: The code 99999 is not in the list in force on 2025-07-01."]),
    # A code of the list before the reform only (Thành phố Vị Thanh, a district, gone on 1 July 2025).
    (PLAN[:1] + [("31318", "", "930")] + PLAN[2:],
     ["plan.csv:3: The code 930 is not in the list in force on 2025-07-01."]),
    # An old code no unit bore the day before, and a commune of the province missing.
    (PLAN[:1] + [("31399", "", "31321")] + PLAN[2:],
     ["plan.csv:3: No unit bears the code 31399 on 2025-06-30.", "Phường I (31318) is not in the plan."]),
])
def test_a_bad_plan_lists_every_problem_by_line_and_applies_nothing(runner, world, tmp_path, rows, expected):
    result = reorganize(runner, plan_csv(tmp_path, rows))
    assert result.exit_code != 0
    for text in expected:
        assert text in result.stderr and text not in result.stdout  # problems on stderr, as a job's log keeps
    assert "nothing applied" in result.output
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III"


def test_a_plan_overlapping_an_earlier_reorganization_is_refused(runner, world, tmp_path):
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    earlier = reorganize(runner, plan_csv(tmp_path, PLAN, name="earlier.csv", day="2025-06-01"))
    assert earlier.exit_code != 0
    assert "earlier.csv: This plan overlaps the reorganization effective on 2025-07-01." in earlier.output
    # The same plan again, on the same day: the province it names ended that day, by that plan.
    again = reorganize(runner, plan_csv(tmp_path, PLAN, name="again.csv"))
    assert again.exit_code != 0
    assert "again.csv: This plan overlaps the reorganization effective on 2025-07-01." in again.output
    again = reorganize(runner, plan_csv(tmp_path, [("92", "", "92")], name="again.csv"))
    assert again.exit_code != 0
    assert "again.csv:2: No unit bears the code 92 on 2025-06-30." in again.output
    _db.session.remove()
    # The same plan a second time: its old units are no longer valid the day before.
    twice = reorganize(runner, plan_csv(tmp_path, PLAN, name="twice.csv"))
    assert twice.exit_code != 0 and "nothing applied" in twice.output
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 1


def test_a_plan_arriving_after_visits_on_its_new_units_is_refused(runner, world, tmp_path):
    wallet, _vneid = make_services()
    province = units.create_unit("Thành phố Cần Thơ (nhập tay)", "province", None, "92")
    commune = units.create_unit("Xã Tân Hòa", "commune", province, "31342")
    hamlet = units.create_unit("Ấp 1", "hamlet", commune)
    for u in (province, commune):
        u.valid_from = REFORM
    visit(households(hamlet, 1)[0], date(2025, 7, 10), adopted=[wallet])
    _db.session.commit()
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code != 0
    assert "Visits were already logged on the new unit Xã Tân Hòa (31342) since 2025-07-10" in result.output
    _db.session.remove()
    assert unit_for_code("31321").name == "Phường III"


def test_a_plan_dated_after_today_is_shown_by_a_dry_run_and_applied_by_nothing(app, client, login_as, runner, world,
                                                                               tmp_path):
    """Applied ahead, a plan would move hamlets, teams and accounts now, before its day: the dry run and the web
    preview show all it would do, so that it is reviewed in advance; applying it is refused (as a hamlet change
    dated after today is), on the command line and the web, and the web offers no confirmation before its day."""
    from app.dates import today_vn
    from app.units.reorganize_views import _serializer
    day = (today_vn() + timedelta(days=40)).isoformat()
    path = plan_csv(tmp_path, PLAN, name="ahead.csv", day=day)
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, path)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "/units/reorganize/confirm" not in html
    local_day = date.fromisoformat(day).strftime("%d/%m/%Y")
    notice = parse(html).find(id="plan-ahead")
    assert (f"Phương án có hiệu lực từ {local_day}, sau hôm nay: chỉ áp dụng được từ ngày đó trở đi."
            in " ".join(notice.text().split()))
    for line in ("Sáp nhập thành Phường Vị Thanh (31321): Phường I (31318), Phường III (31321).",
                 "Tài khoản xa-31338 bị vô hiệu hóa", "Tổ Phường I chuyển từ Phường I về Phường Vị Thanh"):
        assert line in html  # the full preview, as for a plan of today
    assert "Chưa có gì thay đổi. Hãy sửa phương án" not in html and "plan-problems" not in html  # no problem listed
    assert unit_for_code("31321").name == "Phường III"  # the preview changed nothing
    # A confirmation sent before the day all the same (a form kept from elsewhere) is refused, nothing applied.
    with app.test_request_context():
        payload = _serializer().dumps({"province": world.province, "name": "ahead.csv",
                                       "data": base64.b64encode(path.read_bytes()).decode()})
    early = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert early.status_code == 409
    assert f"Phương án có hiệu lực từ {local_day}, sau hôm nay" in early.get_data(as_text=True)
    dry = reorganize(runner, path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Tổ Phường I" in dry.output and "Phường Vị Thanh (31321)" in dry.output
    assert f"the plan takes effect on {day}, after today: it can be applied from that day on" in dry.output
    applied = reorganize(runner, path)
    assert applied.exit_code != 0 and "nothing applied" in applied.output
    assert f"ahead.csv: The plan takes effect on {day}, after today" in applied.output  # the command line's English
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0
    assert unit_for_code("31321").name == "Phường III"
    assert _db.session.get(Team, world.teams[0]).commune_id == world.commune


def test_a_plan_dated_today_in_vietnam_is_not_ahead_and_a_plan_that_is_no_spreadsheet_is_refused_in_a_line(
        runner, world, tmp_path):
    from app.dates import today_vn
    dry = reorganize(runner, plan_csv(tmp_path, PLAN, day=today_vn().isoformat()), "--dry-run")
    assert dry.exit_code == 0 and "dry run: nothing was written" in dry.output, dry.output
    assert "after today" not in dry.output
    broken = tmp_path / "plan.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    result = reorganize(runner, broken)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0


def upload(client, path, url="/units/reorganize"):
    with open(path, "rb") as fh:
        return client.post(url, data={"file": (fh, path.name)}, content_type="multipart/form-data")


def test_the_preview_and_the_applied_page_name_an_account_by_its_person_then_its_username(
        client, login_as, world, tmp_path):
    account = _db.session.scalar(sa.select(User).where(User.username == "xa-31338"))
    account.full_name = "Lê Thị Hoa"
    _db.session.commit()
    login_as("province", _db.session.get(AdminUnit, world.province))
    html = upload(client, plan_csv(tmp_path, PLAN)).get_data(as_text=True)
    assert "Tài khoản Lê Thị Hoa (xa-31338) bị vô hiệu hóa" in html
    assert "Tài khoản xa-31318 chuyển sang Phường Vị Thanh" in html  # no name given: the username alone
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert "Tài khoản Lê Thị Hoa (xa-31338) bị vô hiệu hóa" in client.get(done.headers["Location"]).get_data(
        as_text=True)


def test_province_staff_preview_a_plan_in_the_web_ui_then_confirm_it(client, login_as, world, tmp_path):
    login_as("province", _db.session.get(AdminUnit, world.province))
    preview = upload(client, plan_csv(tmp_path, PLAN))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    for line in ("Sáp nhập thành Phường Vị Thanh (31321): Phường I (31318), Phường III (31321).",
                 "Tài khoản xa-31338 bị vô hiệu hóa", "Tổ Phường I chuyển từ Phường I về Phường Vị Thanh"):
        assert line in html
    assert unit_for_code("31321").name == "Phường III"  # the preview changed nothing
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    assert unit_for_code("31321").name == "Phường Vị Thanh"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "xa-31338" in page and "Đã áp dụng phương án sắp xếp hiệu lực từ 01/07/2025." in page
    # The same payload again (a double tap, the back button) is refused, saying it is applied already, on the page
    # of what it did; a payload of a province that is not the staff's, nor went into it, stays a bad request.
    again = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert again.status_code == 409
    assert ("Phương án này đã được áp dụng rồi: dưới đây là những gì nó đã làm."
            in " ".join(again.get_data(as_text=True).split()))
    assert "xa-31338" in again.get_data(as_text=True)
    client.post("/auth/logout")
    forget_signed_in_user()
    login_as("province", units.create_unit("Tỉnh Sóc Trăng", "province", None, "94"))
    assert client.post("/units/reorganize/confirm", data={"payload": payload}).status_code == 400
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 1


SECOND = [("92", "", "92"), ("31321", "", "31321"), ("31342", "", "31321"), ("31360", "", "31360")]


def items(html: str) -> list[str]:
    """The text of each list item, tags taken out."""
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", html, re.S)]


def test_a_second_plan_previews_the_communes_that_change_in_full_and_folds_those_that_carry_on(
        client, login_as, runner, world, tmp_path):
    """Cần Thơ again from 2026-01-01, Xã Tân Hòa joining Phường Vị Thanh: applying ends every commune and makes
    each again (units live in time), but the preview lists the merge, says Xã Thạnh Xuân carries on unchanged,
    and its team stays there; the page of the plan applied says the same."""
    from tests.visits_helpers import make_team
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    thanh_xuan = unit_for_code("31360")
    make_team(thanh_xuan, list(thanh_xuan.children), name="Tổ Thạnh Xuân")
    create_user("xa-31360", "commune", thanh_xuan, "matkhau-dai-du-12")
    _db.session.commit()
    login_as("province", unit_for_code("92"), username="staff-92")
    preview = upload(client, plan_csv(tmp_path, SECOND, name="second.csv", day="2026-01-01"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    section = html.split('id="preview"')[1]
    said = items(section)
    assert "Tỉnh: Thành phố Cần Thơ (92) giữ nguyên." in said
    assert "Sáp nhập thành Phường Vị Thanh (31321): Phường Vị Thanh (31321), Xã Tân Hòa (31342)." in said
    assert "<h3>Xã, phường thay đổi (1)</h3>" in section and "<h3>Xã, phường giữ nguyên (1)</h3>" in section
    assert ("1 xã, phường giữ nguyên mã, tên và các thôn, ấp. Từ 01/01/2026, mỗi xã, phường được ghi thành một đơn "
            "vị mới mang cùng mã") in section
    # The commune carrying on, its team and its account are folded away (<details>), not listed as changes.
    folded = [items(d) for d in re.findall(r"<details[^>]*>(.*?)</details>", section, re.S)]
    assert ["Xã Thạnh Xuân (31360)"] in folded and ["Tổ Thạnh Xuân ở lại Xã Thạnh Xuân"] in folded
    # An account by its person's name, the username after it (the signed-in staff's); by its username without one.
    assert ["Tài khoản Người dùng 1 (staff-92) vẫn thuộc Thành phố Cần Thơ",
            "Tài khoản staff-93 vẫn thuộc Thành phố Cần Thơ", "Tài khoản xa-31360 vẫn thuộc Xã Thạnh Xuân"] in folded
    # The team and the officer of the merged commune that keeps its code stay there, in sight; the other team moves.
    assert "Tổ Phường I ở lại Phường Vị Thanh" in said and "Tài khoản xa-31318 vẫn thuộc Phường Vị Thanh" in said
    assert "Tổ Một Ngàn chuyển từ Xã Tân Hòa về Phường Vị Thanh" in said
    assert not [line for line in said if "Đơn vị mới" in line or "Chấm dứt" in line]
    assert not re.search(r"chuyển từ (.+) về \1\b", section)
    # Applied, each commune really is a new unit, Xã Thạnh Xuân too; the page says what the preview said.
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    assert unit_for_code("31360").id != thanh_xuan.id and unit_for_code("31360").valid_from == date(2026, 1, 1)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    body = page.split("<h1>")[1].split("</section>")[0]
    # What the preview said it would do, said as done: the settings carried over "sẽ" in the preview, "đã" once applied.
    carried = ("Tỉnh {} giữ các thiết lập của mình ở đơn vị mới: {} chuyển sang 0 mốc chỉ tiêu dịch vụ, 0 mốc chỉ "
               "tiêu về người trưởng thành và 0 nội dung buổi học riêng của tỉnh.")
    assert carried.format("sẽ", "sẽ") in said and not [line for line in said if "đã chuyển" in line]
    assert carried.format("", "đã").replace("  ", " ") in items(body)
    assert ([line for line in items(body) if "đã chuyển" not in line]
            == [line for line in items(section.split("</form>")[0]) if "sẽ chuyển" not in line])
    assert "<h2>Xã, phường giữ nguyên (1)</h2>" in body


def test_an_area_whose_communes_merge_among_themselves_carries_on_with_its_officer_and_the_preview_says_so(
        client, login_as, runner, world, tmp_path):
    """Cần Thơ's area Khu vực Vị Thanh holds Phường Vị Thanh and Xã Tân Hòa, which the second plan merges; another
    area holds Xã Thạnh Xuân, which carries on. Each area goes on with the new commune its own went into, and the
    area officer keeps the account, bound to the area: the preview says so, in the future; applied, as done.
    (tests/test_reorganize_areas.py: an area that ends, a split, a commune of two areas.)"""
    from app.areas.operations import create_area, set_area_communes
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    can_tho = unit_for_code("92")
    vi_thanh, thanh_xuan = create_area(can_tho, "Khu vực Vị Thanh"), create_area(can_tho, "Khu vực Thạnh Xuân")
    vi_thanh.valid_from = thanh_xuan.valid_from = date(2025, 8, 1)
    set_area_communes(vi_thanh, {unit_for_code("31321").id, unit_for_code("31342").id})
    set_area_communes(thanh_xuan, {unit_for_code("31360").id})
    create_user("cum-vi-thanh", "district", _db.session.get(AdminUnit, vi_thanh.id), "matkhau-dai-du-12")
    _db.session.commit()
    login_as("province", unit_for_code("92"), username="staff-92")
    preview = upload(client, plan_csv(tmp_path, SECOND, name="second.csv", day="2026-01-01"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    section = html.split('id="preview"')[1]
    areas = items(section.split("<h3>Cụm xã</h3>")[1].split("</ul>")[0])
    assert areas == [
        "Cụm xã Khu vực Thạnh Xuân sẽ tiếp tục, gồm Xã Thạnh Xuân (31360).",
        "Cụm xã Khu vực Vị Thanh sẽ tiếp tục, gồm Phường Vị Thanh (31321); cán bộ của cụm: Tài khoản cum-vi-thanh "
        "vẫn thuộc Khu vực Vị Thanh."]
    # Among the accounts, the officer staying with the area is folded with those staying with their unit.
    folded = [items(d) for d in re.findall(r"<details[^>]*>(.*?)</details>", section, re.S)]
    assert any("Tài khoản cum-vi-thanh vẫn thuộc Khu vực Vị Thanh" in f for f in folded)
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    account = _db.session.scalar(sa.select(User).where(User.username == "cum-vi-thanh"))
    area = _db.session.get(AdminUnit, account.unit_id)
    assert account.is_enabled and (area.name, area.valid_from, area.retired_on) == (
        "Khu vực Vị Thanh", date(2026, 1, 1), None)
    assert unit_for_code("31321").parent_id == area.id and area.parent_id == unit_for_code("92").id
    assert _db.session.get(AdminUnit, vi_thanh.id).retired_on == date(2026, 1, 1)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    applied = items(page.split("<h2>Cụm xã</h2>")[1].split("</ul>")[0])
    assert applied == [line.replace(" sẽ ", " ") for line in areas]


def test_the_page_of_a_plan_applied_before_the_communes_were_recorded_lists_its_units_as_recorded(
        client, login_as, runner, world, tmp_path):
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    reorg = _db.session.scalar(sa.select(Reorganization))
    reorg.summary = {"effective_on": "2025-07-01", "created": [["31321", "Phường Vị Thanh"]],
                     "retired": [["31321", "Phường III"]], "hamlets_moved": 5,
                     "teams": [["Tổ Phường I", "Phường I", "Phường Vị Thanh"], ["Tổ A", "Phường X", "Phường X"]],
                     "accounts": [["xa-31338", "deactivated", "Thị trấn Một Ngàn"]], "carried": {}, "areas_ended": []}
    _db.session.commit()
    login_as("province", unit_for_code("92"))
    said = items(client.get("/units/reorganize/done").get_data(as_text=True).split("<h1>")[1])
    for line in ("Đơn vị mới: 31321 Phường Vị Thanh", "Chấm dứt: 31321 Phường III", "Số thôn, ấp đã chuyển: 5",
                 "Tổ Phường I chuyển từ Phường I về Phường Vị Thanh", "Tổ A ở lại Phường X",
                 "Tài khoản xa-31338 bị vô hiệu hóa (trước thuộc Thị trấn Một Ngàn)"):
        assert line in said


def test_a_bad_plan_uploaded_lists_its_problems_by_line_and_offers_no_confirmation(client, login_as, world,
                                                                                  tmp_path):
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, plan_csv(tmp_path, PLAN[:-1]))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Ấp Nhơn Thuận" in html and "/units/reorganize/confirm" not in html
    not_a_sheet = tmp_path / "plan.xlsx"
    not_a_sheet.write_bytes(b"not a workbook")
    refused = upload(client, not_a_sheet)
    error = re.search(r'<p id="file-error" class="error" role="alert">([^<]+)</p>', refused.get_data(as_text=True))
    assert refused.status_code == 400 and error and error.group(1) == "Tệp này không phải là tệp Excel đọc được."


def test_a_plan_with_hundreds_of_problems_from_one_cause_says_each_kind_once_with_its_lines(
        client, login_as, world, tmp_path):
    """Forty lines for communes the province does not have (another province's, say) and twelve dated a month
    late: each kind of problem is said once, the first few in full, then how many more and on which lines."""
    path = plan_csv(tmp_path, PLAN + [(str(31400 + i), "", "31321") for i in range(40)])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2025-08-01,31318,,31321,\n" * 12)
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, path)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Có 52 lỗi." in html
    said = items(html.split('class="plan-problems"')[1].split("</ul>")[0])
    assert said == [
        "Dòng 7: Không có đơn vị nào mang mã 31400 vào ngày 30/06/2025.",
        "Dòng 8: Không có đơn vị nào mang mã 31401 vào ngày 30/06/2025.",
        "Dòng 9: Không có đơn vị nào mang mã 31402 vào ngày 30/06/2025.",
        "Cùng lỗi này ở 37 dòng khác: 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 …",
        "Dòng 47, 48, 49, 50, 51, 52, 53, 54, 55, 56 … (12 dòng): Mọi dòng của phương án phải có hiệu lực cùng một "
        "ngày (01/07/2025).",
    ]
    assert "31439" not in html and "/units/reorganize/confirm" not in html
    # A plan with a problem or two says each, as before.
    resp = upload(client, plan_csv(tmp_path, PLAN[:1] + [("31399", "", "31321")] + PLAN[2:]))
    said = items(resp.get_data(as_text=True).split('class="plan-problems"')[1].split("</ul>")[0])
    assert said == ["Phường I (31318) không có trong phương án.",
                    "Dòng 3: Không có đơn vị nào mang mã 31399 vào ngày 30/06/2025."]


def test_a_bad_plan_uploaded_says_its_dates_the_vietnamese_way(client, login_as, world, tmp_path):
    login_as("province", _db.session.get(AdminUnit, world.province))
    rows = PLAN[:1] + [("31399", "", "31321"), ("31318", "", "99999")] + PLAN[2:]
    html = upload(client, plan_csv(tmp_path, rows)).get_data(as_text=True)
    assert "Không có đơn vị nào mang mã 31399 vào ngày 30/06/2025." in html
    assert "Mã 99999 không có trong danh mục có hiệu lực vào ngày 01/07/2025." in html
    preview = html.split('id="preview"')[1]
    assert "2025-06-30" not in preview and "2025-07-01" not in preview


def test_a_line_whose_old_code_has_a_typo_says_the_code_its_commune_has_and_not_that_the_commune_is_missing(
        client, login_as, world, tmp_path):
    """313181 typed for Phường I's 31318, its name beside it: the line says which code Phường I has, and the plan
    does not also claim Phường I is missing. A wrong code beside a name no commune has says only what it did."""
    plan = tmp_path / "typo.csv"
    plan.write_text("Ngày hiệu lực,Mã đơn vị cũ,Tên đơn vị cũ,Thôn ấp,Mã đơn vị mới\n"
                    "01/07/2025,93,Tỉnh Hậu Giang,,92\n"
                    "01/07/2025,313181,phường i,,31321\n"        # the name as typed: case and accents aside
                    "01/07/2025,31321,Phường III,,31321\n"
                    "01/07/2025,313388,Thị trấn Một Nghìn,Ấp Nhơn Xuân,31342\n"
                    "01/07/2025,31338,Thị trấn Một Ngàn,Ấp Nhơn Thuận,31360\n", encoding="utf-8")
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = upload(client, plan)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    said = items(html.split('id="preview"')[1])
    assert "Dòng 3: Mã 313181 không có; Phường I có mã 31318?" in said
    assert not [line for line in said if "Phường I (31318)" in line or "Không có đơn vị nào mang mã 313181" in line]
    assert "Dòng 5: Không có đơn vị nào mang mã 313388 vào ngày 30/06/2025." in said
    assert unit_for_code("31318").name == "Phường I"


def test_staff_of_another_province_cannot_reorganize_this_one_and_an_administrator_may(
        app, client, login_as, world, tmp_path):
    elsewhere = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    _db.session.commit()
    login_as("province", elsewhere)
    resp = upload(client, plan_csv(tmp_path, PLAN))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Phương án này không sắp xếp tỉnh của bạn (Tỉnh Sóc Trăng)." in html
    assert "/units/reorganize/confirm" not in html
    forget_signed_in_user()
    admin = app.test_client()
    login_as("admin", elsewhere, http=admin)
    assert upload(admin, plan_csv(tmp_path, PLAN)).status_code == 200
    assert unit_for_code("31321").name == "Phường III"


def test_a_plan_form_without_a_file_or_a_confirmation_without_its_preview_is_refused(
        client, login_as, world, tmp_path):
    login_as("province", _db.session.get(AdminUnit, world.province))
    # The page of what the last reorganization did, before there is one: the upload page.
    done = client.get("/units/reorganize/done")
    assert done.status_code == 302 and done.headers["Location"].endswith("/units/reorganize")
    assert client.get(done.headers["Location"]).status_code == 200
    resp = client.post("/units/reorganize", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Hãy chọn một tệp." in resp.get_data(as_text=True)
    assert client.post("/units/reorganize/confirm", data={}).status_code == 400
    forged = client.post("/units/reorganize/confirm", data={"payload": "not-signed"})
    assert forged.status_code == 400 and "Yêu cầu không hợp lệ" in forged.get_data(as_text=True)
    assert unit_for_code("31321").name == "Phường III"


def test_a_plan_confirmed_after_the_units_changed_is_checked_again_and_not_applied(
        client, login_as, world, tmp_path):
    login_as("province", _db.session.get(AdminUnit, world.province))
    html = upload(client, plan_csv(tmp_path, PLAN)).get_data(as_text=True)
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    # Meanwhile the split commune gets a hamlet the plan does not assign.
    units.create_unit("Ấp Nhơn Mới", "hamlet", _db.session.get(AdminUnit, world.other_commune))
    _db.session.commit()
    resp = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert resp.status_code == 409
    assert "Dữ liệu đã thay đổi từ lúc xem trước." in resp.get_data(as_text=True)
    assert unit_for_code("31321").name == "Phường III"
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 0


def test_a_commune_officer_cannot_reorganize(client, login_as, world, tmp_path):
    login_as("commune", _db.session.get(AdminUnit, world.commune))
    refused = upload(client, plan_csv(tmp_path, PLAN))
    assert refused.status_code == 403
    assert "Tài khoản của bạn không được xem hoặc thay đổi nội dung này." in refused.get_data(as_text=True)
    assert unit_for_code("31321").name == "Phường III"


def test_a_draft_from_the_official_links_lists_hau_giangs_communes_and_the_hamlets_of_its_split_ones(
        runner, db, tmp_path):
    assert runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-06-30"]).exit_code == 0
    phu_huu = unit_for_code("31378", on=date(2025, 6, 30))   # Xã Phú Hữu, split by the official links
    for name in ("Ấp Phú Lợi", "Ấp Phú Xuân"):
        units.create_unit(name, "hamlet", phu_huu)
    _db.session.commit()
    out = tmp_path / "draft.csv"
    result = runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--on", "2025-07-01",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert result.output.startswith(f"{out}: {len(rows) - 1} lines from vietnamadminunits ")
    assert "assign the hamlets of split communes, then apply it with --plan" in result.output
    assert rows[0][:5] == ["Ngày hiệu lực", "Mã đơn vị cũ", "Tên đơn vị cũ", "Thôn, ấp", "Mã đơn vị mới"]
    assert ["01/07/2025", "93", "", "", "92"] == rows[1:][1][:5]         # Hậu Giang goes into Cần Thơ
    merged = {r[1]: r[4] for r in rows[1:] if r[2].startswith("Phường")}
    assert merged["31318"] == merged["31321"] == merged["31330"] == "31321"  # Phường I, III, VII
    split = [r for r in rows[1:] if r[1] == phu_huu.code]
    assert [r[3] for r in split] == ["Ấp Phú Lợi", "Ấp Phú Xuân"] and {r[4] for r in split} == {""}
    assert "Xã Phú Hữu" in split[0][5] and "|" in split[0][5]          # the candidates, to choose from


def read_xlsx(data: bytes) -> list[list]:
    """The plan sheet's cells ("" for an empty one; a date cell as its date)."""
    from datetime import datetime
    from io import BytesIO

    from openpyxl import load_workbook
    return [[cell.date() if isinstance(cell, datetime) else "" if cell is None else cell for cell in row]
            for row in load_workbook(BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True)]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def date_field(html: str) -> str:
    """The value of the draft's date field, as the page fills it."""
    return re.search(r'<input [^>]*name="on"[^>]* type="date" value="([^"]*)"', html).group(1)


def test_province_staff_download_the_draft_the_command_writes_kept_to_their_province_and_upload_it(
        client, login_as, runner, world, tmp_path):
    """The page offers the draft the command line writes, for the day chosen (01/07/2025 first): the province's
    own lines; a split commune's hamlets each on a line, the candidates beside; completed, it previews."""
    phu_huu = units.create_unit("Xã Phú Hữu", "commune", _db.session.get(AdminUnit, world.other_district), "31378")
    for name in ("Ấp Phú Lợi", "Ấp Phú Xuân"):
        units.create_unit(name, "hamlet", phu_huu)
    _db.session.commit()
    login_as("province", _db.session.get(AdminUnit, world.province))
    page = client.get("/units/reorganize").get_data(as_text=True)
    assert 'action="/units/reorganize/draft"' in page and "Tải về phương án nháp (Excel)" in page
    assert date_field(page) == "2025-07-01"
    assert "flask units reorganize --draft" in page.split("Dành cho cán bộ kỹ thuật")[1]  # for IT staff only

    resp = client.get("/units/reorganize/draft?on=2025-07-01")
    assert resp.status_code == 200 and resp.mimetype == XLSX_TYPE
    assert "phuong-an-sap-xep-93-2025-07-01.xlsx" in resp.headers["Content-Disposition"]
    rows = read_xlsx(resp.data)
    assert rows[0] == ["Ngày hiệu lực", "Mã đơn vị cũ", "Tên đơn vị cũ", "Thôn, ấp", "Mã đơn vị mới", "Tên đơn vị mới",
                       "Tài khoản"]
    assert rows[1:5] == [
        [REFORM, "93", "", "", "92", "Thành phố Cần Thơ", ""],
        [REFORM, "31318", "Phường I", "", "31321", "Phường Vị Thanh", ""],
        [REFORM, "31321", "Phường III", "", "31321", "Phường Vị Thanh", ""],
        [REFORM, "31338", "Thị trấn Một Ngàn", "", "31338", "Xã Hỏa Lựu", ""]]
    split = rows[5:]
    assert [r[:5] for r in split] == [[REFORM, "31378", "Xã Phú Hữu", "Ấp Phú Lợi", ""],
                                      [REFORM, "31378", "Xã Phú Hữu", "Ấp Phú Xuân", ""]]
    assert split[0][5].startswith("31378 ") and " | 31654 " in split[0][5]
    # A Vietnamese sheet, dates as date cells shown dd/mm/yyyy, and a second sheet saying how to fill it.
    from io import BytesIO

    from openpyxl import load_workbook
    book = load_workbook(BytesIO(resp.data))
    assert book.sheetnames == ["Phương án", "Cách điền"]
    assert book.worksheets[0]["A2"].is_date and book.worksheets[0]["A2"].number_format == "DD/MM/YYYY"
    help_text = [[c for c in row if c] for row in book.worksheets[1].iter_rows(values_only=True)]
    columns = {row[0]: row[1] for row in help_text if len(row) == 2}
    assert list(columns) == rows[0]
    assert columns["Thôn, ấp"].startswith("Để trống ở dòng của một xã.")
    assert any("một dòng cho mỗi thôn, ấp" in " ".join(row) for row in help_text)
    # The command line's draft, kept to this province's lines, is the same workbook's rows.
    out = tmp_path / "cli.xlsx"
    drafted = runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--output", str(out)])
    assert drafted.exit_code == 0, drafted.output
    cli_rows = read_xlsx(out.read_bytes())
    assert [cli_rows[0]] + [r for r in cli_rows[1:] if r[1] in {"93", "31318", "31321", "31338", "31378"}] == rows
    assert len(cli_rows) > len(rows) + 100  # old Cần Thơ's and Sóc Trăng's communes, not the staff's to plan

    # Completed in the workbook itself (a candidate chosen for each hamlet), the draft uploads and previews.
    sheet = book.worksheets[0]
    for row, code in zip((6, 7), ("31378", "31654")):
        sheet.cell(row=row, column=5).value, sheet.cell(row=row, column=6).value = code, None
    filled = tmp_path / "draft.xlsx"
    book.save(filled)
    preview = upload(client, filled)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert "Chia tách: Xã Phú Hữu (31378): Ấp Phú Lợi về " in preview.get_data(as_text=True)


@pytest.mark.parametrize("on, status, message", [
    ("2025-06-01", 400, "Danh mục sắp xếp chính thức dẫn tới danh mục có hiệu lực từ 01/07/2025: hãy chọn ngày đó "
                        "hoặc một ngày sau."),
    ("", 400, "Hãy nhập ngày."),
    ("01-07-2025x", 400, "Hãy nhập ngày hợp lệ."),
])
def test_a_draft_asked_for_a_day_it_cannot_have_says_why_beside_the_date(client, login_as, world, on, status,
                                                                          message):
    login_as("province", _db.session.get(AdminUnit, world.province))
    resp = client.get(f"/units/reorganize/draft?on={on}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == status
    error = re.search(r'<p id="on-error" class="error" role="alert">([^<]+)</p>', html)
    assert error and error.group(1) == message
    assert date_field(html) == on and 'aria-invalid="true"' in html


def test_the_draft_is_for_province_staff_of_their_own_province_only(app, client, login_as, world):
    soc_trang = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    ward = units.create_unit("Phường 5", "commune", units.create_unit("Thành phố Sóc Trăng", "district", soc_trang,
                                                                      "941"), "31498")
    units.create_unit("Khóm 1", "hamlet", ward)
    _db.session.commit()
    for role, unit in (("commune", world.commune), ("district", world.district)):
        forget_signed_in_user()
        http = app.test_client()
        login_as(role, _db.session.get(AdminUnit, unit), http=http)
        assert http.get("/units/reorganize/draft?on=2025-07-01").status_code == 403
    assert app.test_client().get("/units/reorganize/draft?on=2025-07-01").status_code == 302  # sign in first
    # Sóc Trăng's staff get Sóc Trăng's lines: nothing of Hậu Giang's, which goes into the same Cần Thơ.
    forget_signed_in_user()
    login_as("province", soc_trang)
    rows = read_xlsx(client.get("/units/reorganize/draft?on=2025-07-01").data)
    assert rows[1:] == [[REFORM, "94", "", "", "92", "Thành phố Cần Thơ", ""],
                        [REFORM, "31498", "Phường 5", "", "31507", "Phường Sóc Trăng", ""]]


def test_a_province_already_on_the_two_level_map_gets_its_communes_as_they_stand(client, login_as, runner, world,
                                                                                tmp_path):
    from app.dates import today_vn
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    login_as("province", unit_for_code("92"))
    page = client.get("/units/reorganize").get_data(as_text=True)
    assert "Bản nháp theo hiện trạng của tỉnh" in page
    today = today_vn()
    first_next = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    assert date_field(page) == first_next.isoformat()
    for day in ("2025-07-01", "2025-06-01"):
        refused = client.get(f"/units/reorganize/draft?on={day}")
        assert refused.status_code == 400
        assert "Thành phố Cần Thơ có trên bản đồ từ 01/07/2025: phương án sắp xếp tỉnh này phải có hiệu lực sau " \
               "ngày đó." in refused.get_data(as_text=True)
    rows = read_xlsx(client.get("/units/reorganize/draft?on=2026-01-01").data)
    assert rows[1:] == [[date(2026, 1, 1), code, name, "", code, name, ""] for code, name in (
        ("92", "Thành phố Cần Thơ"), ("31321", "Phường Vị Thanh"), ("31342", "Xã Tân Hòa"), ("31360", "Xã Thạnh Xuân"))]
    out = tmp_path / "cli.xlsx"
    assert runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--on", "2026-01-01",
                               "--output", str(out)]).exit_code == 0
    assert read_xlsx(out.read_bytes()) == rows
    # As csv, its dates are written dd/mm/yyyy; uploaded as it is, it changes no commune.
    plan = tmp_path / "as-they-stand.csv"
    assert runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--on", "2026-01-01",
                               "--output", str(plan)]).exit_code == 0
    assert plan.read_text(encoding="utf-8").splitlines()[1] == "01/01/2026,92,Thành phố Cần Thơ,,92,Thành phố Cần Thơ,"
    html = upload(client, plan).get_data(as_text=True)
    assert "Không có: mọi xã, phường đều giữ nguyên." in html and "<h3>Xã, phường giữ nguyên (3)</h3>" in html


def test_the_plan_rebinds_or_deactivates_the_accounts_it_names(runner, world, tmp_path):
    path = plan_csv(tmp_path, PLAN)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2025-07-01,,,31342,xa-31338\n2025-07-01,,,,xa-31318\n2025-07-01,,,31342,nobody\n")
    refused = reorganize(runner, path)
    assert refused.exit_code != 0 and "plan.csv:9: No account is named nobody." in refused.output
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    result = reorganize(runner, path)
    assert result.exit_code == 0, result.output
    _db.session.remove()
    accounts = {u.username: u for u in _db.session.scalars(sa.select(User))}
    assert accounts["xa-31338"].unit_id == unit_for_code("31342").id and accounts["xa-31338"].is_enabled
    assert not accounts["xa-31318"].is_enabled
    # The audit trail says the account was switched off, and why.
    from app.audit.models import AuditEvent
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "disable",
                                                           AuditEvent.record_id == accounts["xa-31318"].id))
    changes = {k: (b, a) for k, b, a in event.change_items}
    assert changes["is_enabled"] == (True, False) and changes["reason"] == (None, "reorganization")


def test_the_report_command_takes_the_unit_that_bore_the_code_in_the_month_asked(runner, world, tmp_path):
    def may_of_hau_giang(name):
        out = tmp_path / name
        result = runner.invoke(args=["report", "monthly", "--unit", "93", "--month", "2025-05", "--format", "csv",
                                     "--output", str(out)])
        assert result.exit_code == 0, result.output
        return result.output, out.read_text(encoding="utf-8-sig").splitlines()

    said, before = may_of_hau_giang("before.csv")
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    # An open month before the reform, asked of the old province's code: its districts as the map was then,
    # the same rows as before the plan was applied.
    said_after, after = may_of_hau_giang("after.csv")
    assert said_after.replace("after.csv", "before.csv") == said and "Tỉnh Hậu Giang, 2025-05, 2 units below" in said
    assert after[1:] == before[1:] and any(",930,Thành phố Vị Thanh," in line for line in after)
    for month, name in (("2025-03", "Phường III"), ("2025-08", "Phường Vị Thanh")):
        out = tmp_path / f"{month}.csv"
        result = runner.invoke(args=["report", "monthly", "--unit", "31321", "--month", month, "--format", "csv",
                                     "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert name in out.read_text(encoding="utf-8-sig").splitlines()[1]
    missing = runner.invoke(args=["report", "monthly", "--unit", "31342", "--month", "2025-03", "--format", "csv",
                                  "--output", str(tmp_path / "x.csv")])
    assert missing.exit_code != 0 and "no unit with code '31342' in 2025-03" in missing.output


def test_a_team_of_a_split_commune_goes_where_most_of_its_hamlets_go(runner, world, tmp_path):
    from tests.visits_helpers import make_team
    nhon_thuan = _db.session.get(AdminUnit, world.other_hamlet2)
    team, members = make_team(nhon_thuan.parent, [nhon_thuan], name="Tổ Ấp Nhơn Thuận")
    # A team that serves no hamlet yet has no vote: it goes to the first of the new communes by code.
    unplaced, others = make_team(nhon_thuan.parent, [], name="Tổ Mới Lập")
    for m in members + others:
        m.province_id = world.province
    _db.session.commit()
    team_id, unplaced_id, members = team.id, unplaced.id, [type("M", (), {"id": m.id}) for m in members]
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    # Its only hamlet went to Xã Thạnh Xuân (31360), not to the first of the two new communes.
    assert _db.session.get(Team, team_id).commune_id == unit_for_code("31360").id
    assert _db.session.get(Team, unplaced_id).commune_id == unit_for_code("31342").id
    # Its members belong to the new province (a phone number is unique within one).
    from app.teams.models import Member
    assert set(_db.session.scalars(sa.select(Member.province_id).where(
        Member.id.in_([m.id for m in members])))) == {unit_for_code("92").id}


def test_a_unit_import_after_the_reform_takes_each_code_s_bearer_today_and_leaves_ended_units_alone(
        runner, world, tmp_path):
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    path = tmp_path / "units.csv"
    # 31321 was Phường III's and is Phường Vị Thanh's now: the import renames and counts the new commune.
    path.write_text("Mã,Tên,Cấp,Mã cha,Số hộ,Ngày hiệu lực\n"
                    "31321,Phường Vị Thanh (mới),xã,92,\"4.120\",01/08/2025\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0 and "0 units created, 1 renamed, 1 household counts set" in result.output, \
        result.output
    _db.session.remove()
    vi_thanh, old = unit_for_code("31321"), unit_for_code("31321", date(2025, 6, 30))
    assert (vi_thanh.name, vi_thanh.households_on(date(2025, 8, 1)).households) == ("Phường Vị Thanh (mới)", 4120)
    assert (old.name, old.retired_on, old.households_on(date(2025, 8, 1))) == ("Phường III", REFORM, None)

    # A code only an ended unit bore, as a unit or as a parent: refused by line, nothing written.
    before = _db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    path.write_text("Mã,Tên,Cấp,Mã cha,Số hộ\n"
                    "31318,Phường I,xã,92,\n"
                    "39999,Xã Mới,xã,930,\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code != 0
    assert ("units.csv:2: Code 31318 was Phường I's until 2025-06-30: an ended unit's code passes to a new unit "
            "only through a reorganization (flask units reorganize).") in result.output
    assert ("units.csv:3: Parent code 930 was Thành phố Vị Thanh's until 2025-06-30: give the code of the "
            "parent unit in force now.") in result.output
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == before
    assert _db.session.get(AdminUnit, world.commune).name == "Phường I"


def test_a_second_reorganization_of_a_reorganized_province_keeps_both_earlier_maps(app, runner, world, tmp_path):
    """Cần Thơ reorganized again from 2026-01-01: Xã Tân Hòa joins Phường Vị Thanh. Each code then names
    three units in turn, a team moved twice was in each commune for its own stretch, and every month
    before either reform still counts where it did."""
    from app.teams.models import team_commune_on
    tree = world
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    wallet, vneid = make_services()
    vi_thanh_1, tan_hoa = unit_for_code("31321"), unit_for_code("31342")
    between = households(_db.session.get(AdminUnit, tree.other_hamlet), 2)
    visit(between[0], date(2025, 9, 10), adopted=[wallet])
    visit(between[1], date(2025, 9, 12), adopted=[vneid], guided=[wallet])
    _db.session.commit()
    september = build_summary(unit_for_code("92"), 2025, 9)
    closing.close_month(unit_for_code("92"), 2025, 9, _db.session.scalar(sa.select(User).where(
        User.username == "staff-93")))
    _db.session.commit()
    sept_csv, sept_xlsx = exports.write_csv(september), exports.write_xlsx(
        build_summary(unit_for_code("92"), 2025, 9))
    tallies = {(h, m): tally(h, m) for h in (tree.hamlet, tree.hamlet2, tree.hamlet3, tree.other_hamlet,
                                            tree.other_hamlet2) for m in (202503, 202507, 202509)}
    ids_1 = (vi_thanh_1.id, tan_hoa.id, unit_for_code("92").id)

    second = [("92", "", "92"), ("31321", "", "31321"), ("31342", "", "31321"), ("31360", "", "31360")]
    result = reorganize(runner, plan_csv(tmp_path, second, name="second.csv", day="2026-01-01"))
    assert result.exit_code == 0, result.output
    _db.session.remove()

    # 31321: Phường III, then the first Phường Vị Thanh, then the one that took in Xã Tân Hòa.
    bearers = [unit_for_code("31321", on=d) for d in (date(2025, 3, 1), date(2025, 9, 1), date(2026, 2, 1))]
    assert [b.name for b in bearers] == ["Phường III", "Phường Vị Thanh", "Phường Vị Thanh"]
    assert len({b.id for b in bearers}) == 3 and bearers[1].id == ids_1[0]
    assert (bearers[1].valid_from, bearers[1].retired_on) == (REFORM, date(2026, 1, 1))
    vi_thanh_2 = bearers[2]
    assert unit_for_code("31342") is None or unit_for_code("31342").retired_on == date(2026, 1, 1)

    # Tổ Phường I was in Phường I, then in the first Vị Thanh, then in the second: each for its stretch.
    team_id = world.teams[0]
    where = {d: _db.session.scalar(sa.select(team_commune_on(d)).where(Team.id == team_id))
             for d in (date(2025, 6, 30), date(2025, 7, 1), date(2025, 12, 31), date(2026, 1, 1))}
    assert where == {date(2025, 6, 30): tree.commune, date(2025, 7, 1): ids_1[0],
                     date(2025, 12, 31): ids_1[0], date(2026, 1, 1): vi_thanh_2.id}
    from app.teams.operations import placements
    assert [(p.commune_id, p.valid_from, p.valid_to) for p in placements(_db.session.get(Team, team_id))] == [
        (tree.commune, None, REFORM), (ids_1[0], REFORM, date(2026, 1, 1))]

    # The hamlets' own figures are untouched; the second Vị Thanh's months are its hamlets' sums, back to
    # before the first reform; September, closed between the two, is byte for byte the same.
    assert {k: tally(*k) for k in tallies} == tallies
    held = (tree.hamlet, tree.hamlet2, tree.hamlet3, tree.other_hamlet)
    for month in (202503, 202507, 202509):
        assert tally(vi_thanh_2.id, month) == sum(tallies[(h, month)] for h in held), month
    assert tally(ids_1[0], 202509) == sum(tallies[(h, 202509)] for h in held[:3])
    assert tally(ids_1[1], 202509) == tallies[(tree.other_hamlet, 202509)] > 0
    september = build_summary(_db.session.get(AdminUnit, ids_1[2]), 2025, 9)
    assert september.closed_at is not None
    assert exports.write_csv(september) == sept_csv and exports.write_xlsx(september) == sept_xlsx

    # Before the first reform the second Vị Thanh stands for the communes its predecessors took in, back
    # through both: Thị trấn Một Ngàn, split in 2025, is said split though Xã Tân Hòa joined whole in 2026.
    from app.units.history import predecessors_on
    assert [(u.name, split) for u, split in predecessors_on(vi_thanh_2, date(2025, 3, 1))] == [
        ("Phường I", False), ("Phường III", False), ("Thị trấn Một Ngàn", True)]
    assert [(u.id, split) for u, split in predecessors_on(vi_thanh_2, date(2025, 9, 1))] == [
        (ids_1[0], False), (ids_1[1], False)]
    # October 2025 as the map was: the first Cần Thơ's three communes; on today's map: the second's two,
    # the second Vị Thanh counting Xã Tân Hòa's households.
    as_then = build_summary(_db.session.get(AdminUnit, ids_1[2]), 2025, 10, as_then=True)
    assert [c["name"] for c in as_then.children] == ["Phường Vị Thanh", "Xã Tân Hòa", "Xã Thạnh Xuân"]
    today = build_summary(unit_for_code("92"), 2025, 10)
    assert [c["name"] for c in today.children] == ["Phường Vị Thanh", "Xã Thạnh Xuân"]
    assert today.children[0]["households"] == sum(c["households"] for c in as_then.children[:2])
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_province_reorganized_again_keeps_its_targets_topics_and_areas(runner, world, tmp_path):
    """Cần Thơ, keeping its code, goes on under a new unit from 2026-01-01: what its staff set for it (service
    and adult target milestones, its own class topics) follows it, the old unit keeps its own for the months
    before, and the plan says so; its area, which holds no commune yet, goes on with it, and the plan says so."""
    from decimal import Decimal

    from app.activities.models import Topic
    from app.areas.operations import create_area
    from app.coverage.models import AdultTarget
    from app.visits.models import Target
    applied = reorganize(runner, plan_csv(tmp_path, PLAN))
    # Nothing carried by the first plan: Hậu Giang (93) became another province, Cần Thơ (92).
    assert applied.exit_code == 0 and "keeps its settings" not in applied.output
    _db.session.remove()
    wallet, _vneid = make_services()
    first = unit_for_code("92")
    first_id, wallet_id = first.id, wallet.id
    _db.session.add_all([
        Target(service_id=wallet.id, province_id=first.id, share=Decimal("0.5"), due_on=date(2025, 12, 31)),
        Target(service_id=wallet.id, province_id=first.id, share=Decimal("0.805"), due_on=date(2026, 12, 31)),
        AdultTarget(province_id=first.id, indicator="named_share", share=Decimal("0.7"), due_on=date(2026, 12, 31)),
        Topic(province_id=first.id, code="zalo_an_toan", name="Sử dụng Zalo an toàn", position=200)])
    create_area(first, "Khu vực Vị Thanh").valid_from = date(2025, 8, 1)  # made the month after the reform
    _db.session.commit()

    second = [("92", "", "92"), ("31321", "", "31321"), ("31342", "", "31321"), ("31360", "", "31360")]
    dry = reorganize(runner, plan_csv(tmp_path, second, name="second.csv", day="2026-01-01"), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert ("The province will keep its settings under its new unit: 2 service target milestones, 1 adult target "
            "milestones and 1 class topics of its own will be carried over.") in dry.output
    assert "Area Khu vực Vị Thanh will carry on, holding no commune." in dry.output
    said = ("The province keeps its settings under its new unit: 2 service target milestones, 1 adult target "
            "milestones and 1 class topics of its own carried over.")
    result = reorganize(runner, plan_csv(tmp_path, second, name="second.csv", day="2026-01-01"))
    assert result.exit_code == 0 and said in result.output, result.output
    assert "Area Khu vực Vị Thanh carries on, holding no commune." in result.output
    _db.session.remove()
    second_unit = unit_for_code("92")
    assert second_unit.id != first_id
    assert [(a.parent_id, a.valid_from) for a in _db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.level == "area", AdminUnit.retired_on.is_(None)))] == [(second_unit.id, date(2026, 1, 1))]

    def settings(province_id):
        return (sorted((t.service_id, t.share, t.due_on) for t in _db.session.scalars(
                    sa.select(Target).where(Target.province_id == province_id))),
                [(t.indicator, t.share, t.due_on) for t in _db.session.scalars(
                    sa.select(AdultTarget).where(AdultTarget.province_id == province_id))],
                [(t.code, t.name) for t in _db.session.scalars(
                    sa.select(Topic).where(Topic.province_id == province_id))])

    assert settings(second_unit.id) == settings(first_id) == (
        [(wallet_id, Decimal("0.5000"), date(2025, 12, 31)), (wallet_id, Decimal("0.8050"), date(2026, 12, 31))],
        [("named_share", Decimal("0.7000"), date(2026, 12, 31))], [("zalo_an_toan", "Sử dụng Zalo an toàn")])


def test_a_commune_added_after_a_plan_s_day_is_in_the_plan_its_draft_lists_and_goes_on_with_its_hamlets(
        app, client, login_as, runner, world, tmp_path):
    """A commune the province adds in 2026 (`flask units import`: it stands from before records began, as every
    unit not made by a reorganization) is part of a later plan dated before it was added, as an area made since is:
    the draft lists it as it stands, a plan leaving it out is refused, and applied it goes on with its hamlet. Only a
    reorganization makes a unit that begins on a later day, and a plan dated before one already applied is refused:
    no current commune is left under a province the plan ends."""
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    path = tmp_path / "units.csv"
    path.write_text("Mã,Tên,Cấp,Mã cha,Số hộ,Ngày hiệu lực\n31120,Phường Cái Khế,xã,92,,\n"
                    ",Khu vực Mới,ấp,31120,250,01/03/2026\n", encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(path)]).exit_code == 0
    _db.session.remove()
    added = unit_for_code("31120")
    added_id, province_id = added.id, unit_for_code("92").id
    login_as("province", unit_for_code("92"), username="staff-92")
    draft = client.get("/units/reorganize/draft?on=2026-01-01")
    assert draft.status_code == 200
    second_day = date(2026, 1, 1)
    assert [second_day, "31120", "Phường Cái Khế", "", "31120", "Phường Cái Khế", ""] in read_xlsx(draft.data)
    left_out = upload(client, plan_csv(tmp_path, SECOND, name="second.csv", day="2026-01-01"))
    assert left_out.status_code == 422
    assert items(left_out.get_data(as_text=True).split('class="plan-problems"')[1].split("</ul>")[0]) == [
        "Phường Cái Khế (31120) không có trong phương án."]
    preview = upload(client, plan_csv(tmp_path, SECOND + [("31120", "", "31120")], name="second.csv",
                                      day="2026-01-01"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "<h3>Xã, phường giữ nguyên (2)</h3>" in html
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    assert client.post("/units/reorganize/confirm", data={"payload": payload}).status_code == 303
    _db.session.remove()
    cai_khe = unit_for_code("31120")
    assert cai_khe.id != added_id and cai_khe.valid_from == second_day
    assert _db.session.get(AdminUnit, added_id).retired_on == second_day
    assert [(h.name, h.households_on(date(2026, 3, 1)).households) for h in cai_khe.children] == [("Khu vực Mới", 250)]
    assert not _db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(
        AdminUnit.retired_on.is_(None), AdminUnit.level != "hamlet",
        AdminUnit.within(_db.session.get(AdminUnit, province_id))))


def test_a_hamlet_retired_before_the_plan_s_day_is_not_made_active_again_under_its_ended_commune(
        client, login_as, runner, world, tmp_path):
    """A hamlet retired by hand before the plan's day stays under its old commune, which the plan ended: active
    again, it would be a hamlet of a commune nobody counts. Its page says why in place of "Sử dụng lại" and where
    the commune's hamlets are now; the button posted anyway is refused (409) and changes nothing."""
    old = units.create_unit("Khu vực 5", "hamlet", _db.session.get(AdminUnit, world.commune))
    units.set_household_count(old, 90, date(2024, 1, 1))
    units.retire_unit(old, date(2025, 5, 1))
    _db.session.commit()
    old_id = old.id
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    said = ("Phường I đã kết thúc từ 01/07/2025; các thôn, ấp của đơn vị này nay thuộc Phường Vị Thanh. Không thể "
            "sử dụng lại Khu vực 5 dưới đơn vị đã kết thúc: nếu thôn, ấp này vẫn còn, hãy thêm vào xã, phường đang "
            "quản lý nó.")
    login_as("admin", _db.session.get(AdminUnit, world.province))
    page = client.get(f"/units/{old_id}")
    html = " ".join(page.get_data(as_text=True).split())
    assert page.status_code == 200 and said in html
    assert parse(html).find(action=f"/units/{old_id}/restore") is None and "Sử dụng lại" not in html
    resp = client.post(f"/units/{old_id}/restore", data={"payload": "1"})
    assert resp.status_code == 409 and said in " ".join(resp.get_data(as_text=True).split())
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, old_id).retired_on == date(2025, 5, 1)
    with pytest.raises(ValueError):  # nor by any other caller
        units.restore_unit(_db.session.get(AdminUnit, old_id))
    # A list of the old commune's hamlets naming it is refused at that line, for the same reason.
    resp = client.post(f"/units/{world.commune}/import", data={"file": (io.BytesIO("Tên ấp;Số hộ\nKhu vực 5;95\n"
                       .encode()), "ds-ap.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and said in " ".join(resp.get_data(as_text=True).split())
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, old_id).retired_on == date(2025, 5, 1)
    # No commune officer touches it: not the old commune's, still bound to it (its hamlets are elsewhere now), nor
    # the new commune's (it is not among theirs).
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"username": "xa-31318", "password": "matkhau-dai-du-12"}
                       ).status_code == 302
    assert client.post(f"/units/{old_id}/restore", data={"payload": "1"}).status_code == 404
    client.post("/auth/logout")
    login_as("commune", unit_for_code("31321"))
    assert client.post(f"/units/{old_id}/restore", data={"payload": "1"}).status_code == 404
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, old_id).retired_on == date(2025, 5, 1)
