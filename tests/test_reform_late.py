"""A province that adopts the app late: its communes went on with the old map for months after the plan's day, merging
and splitting hamlets, and the plan dated 2025-07-01 is applied in 2026. Every hamlet that stood on or after the
plan's day goes to its new commune, those a later change ended and those it made, so the new commune counts every
month its hamlets do, and the old commune's figures of the months before the plan stay its own."""
from datetime import date

import pytest
import sqlalchemy as sa

from app.coverage import queries
from app.extensions import db as _db
from app.reports.summary import build_summary
from app.units import hamlet_changes
from app.units import operations as units
from app.units.models import AdminUnit, HamletChange, UnitPlacement, unit_for_code
from tests.test_coverage import households, make_services, visit
from tests.test_reorganize import PLAN, plan_csv, reorganize, tally

CHANGED = date(2026, 3, 1)
DAYS = [date(2025, 3, 4), date(2025, 5, 20), date(2025, 8, 10), date(2025, 11, 15), date(2026, 1, 12),
        date(2026, 2, 20)]
LATER = [date(2026, 4, 3), date(2026, 6, 15)]
MONTHS = [(y, m) for y in (2025, 2026) for m in range(1, 13) if (y, m) <= (2026, 11)]
KEYS = ("visits", "reached_month", "households", "reached")


def _month_end(year: int, month: int) -> date:
    from app.dates import month_end
    return month_end(year, month)


@pytest.fixture
def late(db, tree):
    """Phường I's two hamlets visited from March 2025 to June 2026 (the old map all along); Thị trấn Một Ngàn gets
    a second hamlet, Ấp Nhơn Thuận, so the plan can split it."""
    wallet, vneid = make_services()
    tree.other_hamlet2 = units.create_unit("Ấp Nhơn Thuận", "hamlet", tree.other_commune)
    units.set_household_count(tree.other_hamlet2, 200, date(2024, 1, 1))
    homes = {h.id: households(h, n) for h, n in ((tree.hamlet, 4), (tree.hamlet2, 6), (tree.other_hamlet, 2),
                                                 (tree.other_hamlet2, 2))}
    for rows in homes.values():
        for i, h in enumerate(rows):
            visit(h, DAYS[i % len(DAYS)], adopted=[wallet] if i % 2 == 0 else [], guided=[vneid])
            visit(h, DAYS[(i + 3) % len(DAYS)], adopted=[vneid])
    _db.session.commit()
    return type("Late", (), {"tree": tree, "homes": homes, "services": (wallet, vneid)})


def _later_visits(late):
    """Visits after the change, in the hamlets the households are in now."""
    wallet, vneid = late.services
    for rows in late.homes.values():
        for i, h in enumerate(rows):
            _db.session.refresh(h)
            visit(h, LATER[i % 2], adopted=[wallet, vneid]) if i % 3 == 0 else visit(h, LATER[i % 2], guided=[vneid])
    _db.session.commit()


def _figures(unit: AdminUnit) -> dict:
    """Every month's figures of the unit as a user reads them: coverage tallies (reach and each service), the
    household count at the month's end, and the monthly summary's totals."""
    out = {}
    for year, month in MONTHS:
        key = year * 100 + month
        summary = build_summary(unit, year, month).total
        out[(year, month)] = (tuple(tally(unit.id, key, s) for s in (0, 1, 2)),
                              queries.households_by_unit([unit], _month_end(year, month))[unit.id],
                              tuple(summary[k] for k in KEYS),
                              tuple((s["code"], s["new"], s["adopted"]) for s in summary["services"]))
    return out


def _hamlets_under(unit: AdminUnit) -> list[AdminUnit]:
    return list(_db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == unit.id,
                                                               AdminUnit.level == "hamlet")))


def _assert_carried(runner, old_id: int, before: dict, ended: list[int], made: list[int]):
    """After the plan: the new commune's months are the old commune's as they were, each the sum of its hamlets
    (the ended ones and the ones the change made among them); the old commune keeps its months before the plan's
    day; the changes' history names the new commune; no placement runs backwards; the tallies verify."""
    _db.session.remove()
    vi_thanh = unit_for_code("31321")
    old = _db.session.get(AdminUnit, old_id)
    hamlets = _hamlets_under(vi_thanh)
    assert set(ended) | set(made) <= {h.id for h in hamlets}
    after = _figures(vi_thanh)
    for month in MONTHS:
        assert after[month] == before[month], month
        key = month[0] * 100 + month[1]
        for service in (0, 1, 2):
            assert tally(vi_thanh.id, key, service) == sum(tally(h.id, key, service) for h in hamlets), (month, service)
        rows = build_summary(vi_thanh, *month).children
        assert sum(r["visits"] for r in rows) == after[month][2][0], month
        assert tally(old.id, key) == (before[month][0][0] if month < (2025, 7) else 0), month
    # Khu vực 2's 410 households count in the months between the plan's day and the change.
    for month in ((2025, 7), (2026, 1), (2026, 2)):
        assert after[month][1] == 320 + 410
    changes = _db.session.scalars(sa.select(HamletChange)).all()
    assert changes and {c.commune_id for c in changes} == {vi_thanh.id}
    placements = _db.session.scalars(sa.select(UnitPlacement)).all()
    assert all(p.valid_from is None or p.valid_from < p.valid_to for p in placements)
    placed = {p.unit_id: p for p in placements}
    for hamlet_id in ended:
        assert (placed[hamlet_id].parent_id, placed[hamlet_id].valid_to) == (old_id, date(2025, 7, 1))
    assert not set(made) & set(placed)  # made after the plan's day: never under the old commune
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_merge_after_the_plan_s_day_goes_with_both_hamlets_to_the_new_commune(late, runner, tmp_path):
    tree = late.tree
    hamlet_changes.merge_hamlets(tree.hamlet2, tree.hamlet, CHANGED, 730)
    _db.session.commit()
    _later_visits(late)
    before = _figures(_db.session.get(AdminUnit, tree.commune.id))
    assert before[(2026, 1)][1] == 730 and before[(2026, 1)][2][0] > 0  # households and visits
    old_id, ended = tree.commune.id, tree.hamlet2.id

    dry = reorganize(runner, plan_csv(tmp_path, PLAN), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert ("Khu vực 2 of Phường I (31318), merged into Khu vực 1 from 2026-03-01: to Phường Vị Thanh (31321) with it, "
            "from 2025-07-01 until then.") in dry.output
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    _assert_carried(runner, old_id, before, ended=[ended], made=[])


def test_a_split_after_the_plan_s_day_goes_with_the_hamlet_and_its_parts_to_the_new_commune(late, runner, tmp_path):
    tree = late.tree
    rows = late.homes[tree.hamlet2.id]
    parts = [hamlet_changes.Part("Khu vực 2A", 250), hamlet_changes.Part("Khu vực 2B", 160)]
    made = hamlet_changes.split_hamlet(tree.hamlet2, CHANGED, parts, {h.id: i % 2 for i, h in enumerate(rows)})
    _db.session.commit()
    _later_visits(late)
    old_id, ended, made = tree.commune.id, tree.hamlet2.id, [h.id for h in made]
    before = _figures(_db.session.get(AdminUnit, old_id))

    dry = reorganize(runner, plan_csv(tmp_path, PLAN), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert ("Khu vực 2 of Phường I (31318), split into Khu vực 2A, Khu vực 2B from 2026-03-01: to Phường Vị Thanh "
            "(31321) with them, from 2025-07-01 until then.") in dry.output
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    _assert_carried(runner, old_id, before, ended=[ended], made=made)
    # The parts came into being under the new commune, on the day of the split.
    for part in made:
        assert _db.session.get(AdminUnit, part).valid_from == CHANGED


def test_a_split_commune_s_hamlets_a_later_merge_joined_go_to_one_new_commune_or_the_plan_says_which_change(
        late, runner, tmp_path):
    tree = late.tree
    hamlet_changes.merge_hamlets(tree.other_hamlet2, tree.other_hamlet, CHANGED, 730)
    _db.session.commit()
    ended = tree.other_hamlet2.id
    # The plan sends Ấp Nhơn Thuận, merged into Ấp Nhơn Xuân since, elsewhere than the hamlet it went into.
    refused = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert refused.exit_code != 0
    assert ("plan.csv:6: Ấp Nhơn Thuận was merged into Ấp Nhơn Xuân from 2026-03-01, after the plan's day, so they "
            "go to one new commune, not to 31342, 31360: give their lines the same new code.") in refused.stderr
    assert "nothing applied" in refused.output
    _db.session.remove()
    assert unit_for_code("31321").name == "Phường III"
    # As the draft lists it, with the hamlets of today: the merged one goes with the hamlet it went into.
    result = reorganize(runner, plan_csv(tmp_path, PLAN[:-1], name="today.csv"))
    assert result.exit_code == 0, result.output
    assert ("Ấp Nhơn Thuận of Thị trấn Một Ngàn (31338), merged into Ấp Nhơn Xuân from 2026-03-01: to Xã Tân Hòa "
            "(31342) with it, from 2025-07-01 until then.") in result.output
    _db.session.remove()
    tan_hoa = unit_for_code("31342")
    assert _db.session.get(AdminUnit, ended).parent_id == tan_hoa.id
    assert _db.session.scalar(sa.select(HamletChange.commune_id).where(HamletChange.from_unit_id == ended)) == \
        tan_hoa.id
    assert queries.households_by_unit([tan_hoa], date(2026, 1, 31))[tan_hoa.id] == 530 + 200
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_split_commune_s_hamlet_retired_after_the_plan_s_day_is_assigned_on_a_line_of_its_own(
        late, runner, tmp_path):
    tree = late.tree
    units.retire_unit(tree.other_hamlet2, date(2026, 2, 1))
    _db.session.commit()
    retired = tree.other_hamlet2.id
    missing = reorganize(runner, plan_csv(tmp_path, PLAN[:-1]))
    assert missing.exit_code != 0
    assert "Hamlet Ấp Nhơn Thuận of Thị trấn Một Ngàn, which is split, is not assigned." in missing.stderr
    result = reorganize(runner, plan_csv(tmp_path, PLAN, name="all.csv"))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    thanh_xuan = unit_for_code("31360")
    assert _db.session.get(AdminUnit, retired).parent_id == thanh_xuan.id
    assert queries.households_by_unit([thanh_xuan], date(2026, 1, 31))[thanh_xuan.id] == 200
    assert queries.households_by_unit([thanh_xuan], date(2026, 2, 28))[thanh_xuan.id] == 0


def test_the_draft_lists_a_split_commune_s_hamlets_of_today_and_one_retired_after_the_plan_s_day(runner, db, tmp_path):
    import csv
    assert runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-06-30"]).exit_code == 0
    phu_huu = unit_for_code("31378", on=date(2025, 6, 30))   # Xã Phú Hữu, split by the official links
    loi, xuan, thanh, old = (units.create_unit(name, "hamlet", phu_huu) for name in (
        "Ấp Phú Lợi", "Ấp Phú Xuân", "Ấp Phú Thạnh", "Ấp Cũ"))
    for hamlet in (loi, xuan, thanh, old):
        units.set_household_count(hamlet, 100, date(2024, 1, 1))
    units.retire_unit(old, date(2025, 5, 1))        # before the plan's day: not on the plan
    _db.session.commit()
    hamlet_changes.merge_hamlets(xuan, loi, CHANGED, 200)      # goes with Ấp Phú Lợi
    units.retire_unit(thanh, date(2026, 2, 1))                 # stood on the plan's day: a line of its own
    _db.session.commit()
    out = tmp_path / "draft.csv"
    result = runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--on", "2025-07-01",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert [r[3] for r in rows[1:] if r[1] == phu_huu.code] == ["Ấp Phú Lợi", "Ấp Phú Thạnh"]


def test_province_staff_see_the_hamlets_that_ended_after_the_plan_s_day_in_the_preview_and_on_the_plan_applied(
        late, client, login_as, tmp_path):
    from tests.test_reorganize import upload
    tree = late.tree
    hamlet_changes.merge_hamlets(tree.hamlet2, tree.hamlet, CHANGED, 730)
    _db.session.commit()
    login_as("province", tree.province)
    preview = upload(client, plan_csv(tmp_path, PLAN))
    html = " ".join(preview.get_data(as_text=True).split())
    assert preview.status_code == 200, html
    said = ("Khu vực 2 của Phường I (31318), đã sáp nhập vào Khu vực 1 từ 01/03/2026: cùng Khu vực 1 chuyển về "
            "Phường Vị Thanh (31321), tính từ 01/07/2025 đến ngày đó.")
    assert "Thôn, ấp đã kết thúc sau ngày 01/07/2025 (1)" in html and said in html
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    assert said in " ".join(client.get(done.headers["Location"]).get_data(as_text=True).split())
