"""A commune officer merges, splits and renames hamlets from a date: households move with their visits
from that day, earlier visits stay where they were, and the commune's figures do not change."""
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.coverage.models import CoverageTotal
from app.coverage.queries import households_by_unit
from app.dates import today_vn
from app.extensions import db as _db
from app.households.models import Household
from app.reports.models import MonthClosure
from app.units.models import AdminUnit, HamletChange, HouseholdMove
from app.visits.models import Adoption, Visit
from app.visits.operations import VisitData, create_visit
from tests.form_versions import with_version
from tests.html_tree import parse
from tests.visits_helpers import household, make_team, service_id

TODAY = today_vn()
# The change takes effect on the first of last month; one visit was logged before it, one after.
ON = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
BEFORE = ON - timedelta(days=40)
AFTER = ON + timedelta(days=3)


def _visit(h, on, adopted=True):
    results = {service_id("vneid"): "adopted"} if adopted else {}
    create_visit(VisitData(h, on, results), uuid.uuid4().hex, None)
    _db.session.commit()


def _totals(unit):
    return dict(_db.session.execute(sa.select(CoverageTotal.service_id, CoverageTotal.households)
                                    .where(CoverageTotal.unit_id == unit.id, CoverageTotal.households != 0)).all())


def _verify(runner):
    """What `flask coverage verify` says: its output and exit code (0: tallies agree with the visits)."""
    _db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    return result.output if result.exit_code else ""


def _hamlet_of_visits(h):
    return sorted((v.visited_on, v.hamlet_id) for v in _db.session.scalars(
        sa.select(Visit).where(Visit.household_id == h.id)))


def summary_form(resp):
    """The confirmation box of a merge's or a split's summary page, parsed."""
    box = parse(resp.get_data(as_text=True)).find(id="confirm-change")
    assert box is not None and box.tag == "form", resp.get_data(as_text=True)[:3000]
    return box


def sent_back(resp, button=None) -> dict:
    """What the summary's form sends: its hidden fields, and the button tapped if it has a name."""
    data = {i.attrs["name"]: i.attrs.get("value", "") for i in summary_form(resp).find_all("input")
            if i.attrs.get("type") == "hidden"}
    return data | ({button: "1"} if button else {})


def change_confirmed(client, url, data):
    """The merge or split form sent, then its summary confirmed as the officer does: by tapping "Yes"."""
    asked = client.post(url, data=data)
    assert asked.status_code == 200, asked.get_data(as_text=True)[:3000]
    return client.post(url, data=sent_back(asked))


def test_a_merge_moves_the_households_and_their_later_visits_and_the_commune_keeps_its_figures(
        db, tree, client, login_as, runner):
    a, b = tree.hamlet, tree.hamlet2
    team, _members = make_team(tree.commune, [a])
    moved = household(a, "Nguyễn Văn An")
    _visit(moved, BEFORE)
    _visit(moved, AFTER, adopted=False)
    late = household(a, "Trần Thị Bé")
    _visit(late, AFTER)
    stays = household(b, "Lê Văn Cường")
    _visit(stays, BEFORE)
    commune_before = _totals(tree.commune)
    login_as("commune", tree.commune)

    page = client.get(f"/units/{a.id}/merge")
    assert page.status_code == 200 and "Khu vực 2" in page.get_data(as_text=True)
    resp = change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": ON.isoformat(),
                                                             "households": "", "new_name": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert f"Đã sáp nhập Khu vực 1 vào Khu vực 2 từ ngày {ON:%d/%m/%Y}." in client.get(
        resp.location).get_data(as_text=True)

    tree.refresh()
    a, b = tree.hamlet, tree.hamlet2
    assert a.retired_on == ON
    assert {h.hamlet_id for h in _db.session.scalars(sa.select(Household))} == {b.id}
    # The visit before the date stays on the old hamlet; the ones from the date on follow the household.
    assert _hamlet_of_visits(moved) == [(BEFORE, a.id), (AFTER, b.id)]
    assert _db.session.scalar(sa.select(Adoption.hamlet_id).where(Adoption.household_id == late.id)) == b.id
    assert _totals(tree.commune) == commune_before
    # The visit before the date counts in the hamlet its household went to from the date, no longer in the old one.
    assert _totals(a) == {}
    assert _totals(b) == {0: 3, service_id("vneid"): 3}
    # Left empty, the merged hamlet counts both hamlets' households from the date.
    assert b.households_on(ON).households == 320 + 410
    assert a.households_on(ON - timedelta(days=1)).households == 320
    assert team.id in {t.id for t in _db.session.scalars(sa.select(type(team)).where(
        type(team).hamlets.any(AdminUnit.id == b.id)))}
    assert _verify(runner) == ""
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "merge"))
    assert event.record_id == a.id
    page = client.get(f"/units/{b.id}").get_data(as_text=True)
    assert "Khu vực 1" in page and 'id="hamlet-history"' in page


def test_a_split_assigns_households_one_by_one_or_the_rest_in_bulk(db, tree, client, login_as, runner):
    a = tree.hamlet
    team, _members = make_team(tree.commune, [a])
    first, second, third = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Võ Văn Tám"))
    _visit(first, BEFORE)
    _visit(third, AFTER)
    commune_before = _totals(tree.commune)
    officer = login_as("commune", tree.commune)
    page = client.get(f"/units/{a.id}/split").get_data(as_text=True)
    assert "Phạm Thị Hoa" in page

    resp = change_confirmed(client, f"/units/{a.id}/split", {
        "effective_on": ON.isoformat(), "name_1": "Khu vực 1A", "count_1": "", "name_2": "Khu vực 1B",
        "count_2": "100", "name_3": "", "count_3": "", "rest": "1", f"h{third.id}": "2"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert f"Đã chia Khu vực 1 thành Khu vực 1A, Khu vực 1B từ ngày {ON:%d/%m/%Y}." in client.get(
        resp.location).get_data(as_text=True)

    tree.refresh()
    assert tree.hamlet.retired_on == ON
    part_a, part_b = (_db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == n))
                      for n in ("Khu vực 1A", "Khu vực 1B"))
    homes = dict(_db.session.execute(sa.select(Household.head_name, Household.hamlet_id)).all())
    assert homes == {"Nguyễn Văn An": part_a.id, "Phạm Thị Hoa": part_a.id, "Võ Văn Tám": part_b.id}
    assert _hamlet_of_visits(first) == [(BEFORE, a.id)]
    assert _hamlet_of_visits(third) == [(AFTER, part_b.id)]
    # Typed counts are kept; an empty one is the old count shared by households assigned (2 of 3).
    assert part_b.households_on(ON).households == 100
    assert (part_b.valid_from, part_b.valid_on(ON - timedelta(days=1))) == (ON, False)
    assert part_a.households_on(ON).households == 213
    assert _totals(tree.commune) == commune_before
    assert _verify(runner) == ""
    # The team that served the old hamlet serves both parts, so it still finds every household.
    _db.session.expire_all()
    assert {h.id for h in _db.session.get(type(team), team.id).hamlets} >= {part_a.id, part_b.id}
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "split"))
    assert (event.record_id, event.user_id) == (a.id, officer.id)
    page = client.get(f"/units/{part_b.id}").get_data(as_text=True)
    assert "Khu vực 1" in page and 'id="hamlet-history"' in page


def test_a_rename_from_a_date_is_kept_in_the_hamlets_history(db, tree, client, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu vực Mới", "effective_on": ON.isoformat()}))
    assert resp.status_code == 302
    change = _db.session.scalar(sa.select(HamletChange))
    assert (change.kind, change.from_name, change.to_name, change.effective_on) == (
        "rename", "Khu vực 1", "Khu vực Mới", ON)
    page = client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True)
    assert "Khu vực 1" in page and "Khu vực Mới" in page


def test_another_communes_hamlet_cannot_be_merged_or_split(db, tree, client, login_as):
    login_as("commune", tree.commune)
    for action in ("merge", "split"):
        assert client.get(f"/units/{tree.other_hamlet.id}/{action}").status_code == 404
        assert client.post(f"/units/{tree.other_hamlet.id}/{action}", data={}).status_code == 404
    assert _db.session.get(AdminUnit, tree.other_hamlet.id).retired_on is None


def _refused(client, url, data, message):
    resp = client.post(url, data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, body
    assert message in body
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id))) == 0
    assert _db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(AdminUnit.retired_on.is_not(None))) == 0


def test_bad_merges_and_splits_are_refused_with_a_message_and_change_nothing(db, tree, client, login_as):
    a, b = tree.hamlet, tree.hamlet2
    for name in ("Nguyễn Văn An", "Phạm Thị Hoa"):
        household(a, name)
    login_as("commune", tree.commune, locale="en")
    merge = {"target": str(b.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""}
    url = f"/units/{a.id}/merge"
    _refused(client, url, merge | {"target": str(a.id)}, "cannot be merged into itself")
    _refused(client, url, merge | {"target": str(tree.other_hamlet.id)}, "another active hamlet of this commune")
    _refused(client, url, merge | {"effective_on": (TODAY + timedelta(days=1)).isoformat()}, "already be in effect")

    split = {"effective_on": ON.isoformat(), "name_1": "Khu vực 1A", "name_2": "Khu vực 1B", "rest": ""}
    _refused(client, f"/units/{a.id}/split", split, "2 households are not assigned")
    _refused(client, f"/units/{a.id}/split", split | {"name_2": "", "rest": "1"}, "at least two hamlets")

    _db.session.add(MonthClosure(province_id=tree.province.id, year=ON.year, month=ON.month))
    _db.session.commit()
    _refused(client, url, merge, f"Month {ON.month:02d}/{ON.year} is closed")


def test_a_change_may_not_take_effect_before_the_hamlet_existed(db, tree, client, login_as):
    tree.hamlet2.valid_from = ON - timedelta(days=5)
    _db.session.commit()
    login_as("commune", tree.commune, locale="en")
    resp = client.post(f"/units/{tree.hamlet.id}/merge", data={
        "target": str(tree.hamlet2.id), "effective_on": (ON - timedelta(days=6)).isoformat()})
    assert resp.status_code == 400
    assert "Khu vực 2 has existed in its present form only since" in resp.get_data(as_text=True)
    household(tree.hamlet, "Nguyễn Văn An")
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/split", {
        "effective_on": ON.isoformat(), "name_1": "Khu vực 1A", "name_2": "Khu vực 1B", "rest": "1"})
    assert resp.status_code == 303
    part = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 1A"))
    resp = client.post(f"/units/{part.id}/merge", data={
        "target": str(tree.hamlet2.id), "effective_on": (ON - timedelta(days=1)).isoformat()})
    assert resp.status_code == 400
    assert "has existed in its present form only since" in resp.get_data(as_text=True)
    assert _db.session.get(AdminUnit, part.id).retired_on is None


def test_a_change_may_take_effect_today_or_on_the_first_day_the_hamlet_existed(db, tree, client, login_as):
    login_as("commune", tree.commune, locale="en")
    household(tree.hamlet, "Nguyễn Văn An")
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/split", {
        "effective_on": ON.isoformat(), "name_1": "Khu vực 1A", "name_2": "Khu vực 1B", "rest": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    part = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 1B"))
    # The part came into being on ON: a change from that very day is its first possible one.
    resp = client.post(f"/units/{part.id}/rename", data=with_version(
            client, f"/units/{part.id}/rename", {"name": "Khu vực Bến Đò", "effective_on": ON.isoformat()}))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # And a change decided today takes effect today.
    resp = change_confirmed(client, f"/units/{part.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": TODAY.isoformat(), "households": "", "new_name": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert _db.session.get(AdminUnit, part.id).retired_on == TODAY


def test_another_hamlets_later_change_does_not_hold_back_this_one(db, tree, client, login_as):
    login_as("commune", tree.commune, locale="en")
    resp = client.post(f"/units/{tree.hamlet2.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet2.id}/rename", {"name": "Khu vực Hai", "effective_on": AFTER.isoformat()}))
    assert resp.status_code == 302
    resp = client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu vực Một", "effective_on": ON.isoformat()}))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # Its own later change does.
    resp = client.post(f"/units/{tree.hamlet2.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet2.id}/rename", {"name": "Khu vực 2", "effective_on": ON.isoformat()}))
    assert resp.status_code == 400 and "has existed in its present form only since" in resp.get_data(as_text=True)
    # Each hamlet's history lists its own changes only.
    history = client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True).split('id="hamlet-history"')[1]
    assert "Khu vực Một" in history and "Khu vực Hai" not in history


def test_a_closed_month_before_the_change_does_not_hold_it_back(db, tree, client, login_as):
    _db.session.add(MonthClosure(province_id=tree.province.id, year=BEFORE.year, month=BEFORE.month))
    _db.session.commit()
    login_as("commune", tree.commune, locale="en")
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)


def test_a_rename_records_who_made_it_and_moves_no_household(db, tree, client, login_as):
    officer = login_as("commune", tree.commune)
    client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu vực Mới", "effective_on": ON.isoformat()}))
    change = _db.session.scalar(sa.select(HamletChange))
    assert (change.recorded_by_id, change.households_moved, change.commune_id) == (officer.id, 0, tree.commune.id)


def test_a_merge_may_give_the_merged_hamlet_a_new_name(db, tree, client, login_as):
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "700",
        "new_name": "Khu vực Hòa Bình"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    tree.refresh()
    assert tree.hamlet2.name == "Khu vực Hòa Bình"
    assert tree.hamlet2.households_on(ON).households == 700
    kinds = [(c.kind, c.from_name, c.to_name) for c in _db.session.scalars(
        sa.select(HamletChange).order_by(HamletChange.id))]
    assert kinds == [("rename", "Khu vực 2", "Khu vực Hòa Bình"), ("merge", "Khu vực 1", "Khu vực Hòa Bình")]
    page = client.get(f"/units/{tree.hamlet2.id}").get_data(as_text=True)
    assert "Khu vực 1" in page and "Khu vực 2" in page


def test_a_visit_on_the_day_of_the_change_follows_its_household(db, tree, client, login_as):
    h = household(tree.hamlet, "Nguyễn Văn An")
    make_team(tree.commune, [tree.hamlet])
    _visit(h, ON)
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""})
    assert resp.status_code == 303
    assert _hamlet_of_visits(h) == [(ON, tree.hamlet2.id)]
    assert _db.session.scalar(sa.select(Adoption.hamlet_id).where(Adoption.household_id == h.id)) == tree.hamlet2.id


def test_only_active_hamlets_of_one_commune_change_together(db, tree):
    from app.units import hamlet_changes
    from app.units import operations as unit_ops
    gone = unit_ops.create_unit("Khu vực 3", "hamlet", tree.commune)
    unit_ops.retire_unit(gone, ON)
    _db.session.commit()
    for call in (lambda: hamlet_changes.rename_hamlet(gone, "Khu vực Ba", TODAY),
                 lambda: hamlet_changes.merge_hamlets(tree.hamlet, gone, TODAY, 100),
                 lambda: hamlet_changes.merge_hamlets(tree.hamlet, tree.other_hamlet, TODAY, 100),
                 lambda: hamlet_changes.rename_hamlet(tree.commune, "Phường Một", TODAY),
                 lambda: hamlet_changes.split_hamlet(gone, TODAY, [hamlet_changes.Part("A", 1),
                                                                   hamlet_changes.Part("B", 1)], {})):
        with pytest.raises(hamlet_changes.HamletChangeError) as refused:
            call()
        assert str(refused.value) in ("Chỉ có thể thay đổi cùng lúc các thôn, ấp đang hoạt động của cùng một xã.",
                                      "Only active hamlets of the same commune can be changed together.")
    with pytest.raises(hamlet_changes.HamletChangeError):  # one part is not a split
        hamlet_changes.split_hamlet(tree.hamlet2, TODAY, [hamlet_changes.Part("Khu vực 2A", 410)], {})
    _db.session.rollback()
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id))) == 0


def test_a_splits_suggested_counts_share_the_old_count_by_households_and_add_up(db, tree):
    from app.units.hamlet_changes import suggested_split_counts
    # 320 households counted; 2 and 1 registered households go to the two parts.
    assert suggested_split_counts(tree.hamlet, ON, [2, 1]) == [213, 107]
    assert suggested_split_counts(tree.hamlet, ON, [1, 1, 1]) == [107, 107, 106]
    # No household registered yet: the count shared evenly, the remainder one each.
    assert suggested_split_counts(tree.hamlet, ON, [0, 0, 0]) == [107, 107, 106]
    assert suggested_split_counts(tree.hamlet, ON, [5, 0]) == [320, 0]
    # A hamlet with no count has nothing to share.
    assert suggested_split_counts(tree.hamlet, date(2023, 1, 1), [1, 1]) is None


def test_a_new_hamlets_name_may_not_be_an_active_siblings_but_may_be_a_retired_ones(db, tree, client, login_as):
    from app.units import operations as unit_ops
    gone = unit_ops.create_unit("Khu vực Cũ", "hamlet", tree.commune)
    unit_ops.retire_unit(gone, ON - timedelta(days=30))
    household(tree.hamlet, "Nguyễn Văn An")
    _db.session.commit()
    login_as("commune", tree.commune, locale="en")
    split = {"effective_on": ON.isoformat(), "name_1": "khu vực 2", "name_2": "Khu vực 1B", "rest": "1"}
    resp = client.post(f"/units/{tree.hamlet.id}/split", data=split)
    assert resp.status_code == 400 and "already has a hamlet with this name" in resp.get_data(as_text=True)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/split", split | {"name_1": "Khu vực Cũ"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    assert _db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(AdminUnit.name == "Khu vực Cũ")) == 2


def test_a_hamlet_added_or_renamed_by_hand_may_take_a_merged_hamlets_name_and_is_sent_back_to_a_retired_one(
        db, tree, client, login_as):
    """A hamlet retired by hand is made active again to keep its history: a new hamlet (or a rename) taking
    its name is refused with that advice. A name a merge freed may be taken, as a split's part may."""
    from app.units import operations as unit_ops
    gone = unit_ops.create_unit("Khu vực Cũ", "hamlet", tree.commune)
    unit_ops.retire_unit(gone, ON - timedelta(days=30))
    _db.session.commit()
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {"target": str(tree.hamlet2.id),
                                                                       "effective_on": ON.isoformat()})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    retired = f"Khu vực Cũ, ngừng sử dụng từ {ON - timedelta(days=30):%d/%m/%Y}, đang mang tên này"
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "khu vuc cu"})
    assert resp.status_code == 400 and retired in resp.get_data(as_text=True)
    resp = client.post(f"/units/{tree.hamlet2.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet2.id}/rename", {"name": "Khu vực Cũ", "effective_on": ""}))
    assert resp.status_code == 400 and retired in resp.get_data(as_text=True)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Khu vực 2"})
    assert resp.status_code == 400 and "đã có ở một thôn, ấp, khu phố khác của xã" in resp.get_data(as_text=True)
    # Khu vực 1 ended by the merge: its name is free for a new hamlet, then for a rename back and forth.
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Khu vực 1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    new = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 1", AdminUnit.retired_on.is_(None)))
    assert new is not None and new.id != tree.hamlet.id
    assert client.post(f"/units/{new.id}/rename", data=with_version(
            client, f"/units/{new.id}/rename", {"name": "Khu vực 1A", "effective_on": ""})).status_code == 302
    assert client.post(f"/units/{new.id}/rename", data=with_version(
            client, f"/units/{new.id}/rename", {"name": "Khu Vực 1", "effective_on": ""})).status_code == 302
    assert _db.session.get(AdminUnit, new.id).name == "Khu Vực 1"


def _import_hamlets(client, commune, text):
    """Upload a hamlet list and confirm it; the preview's response when it has problems."""
    import io
    import re
    resp = client.post(f"/units/{commune.id}/import", data={"file": (io.BytesIO(text.encode("utf-8")), "ds-ap.csv")},
                       content_type="multipart/form-data")
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', resp.get_data(as_text=True))
    if resp.status_code != 200 or payload is None:
        return resp
    return client.post(f"/units/{commune.id}/import/confirm", data={"payload": payload.group(1)})


def test_a_hamlet_ended_by_a_merge_is_not_made_active_again_by_hand_or_by_a_list(db, tree, client, login_as):
    from app.units import operations as unit_ops
    a, b = tree.hamlet, tree.hamlet2
    household(a, "Nguyễn Văn An")
    by_hand = unit_ops.create_unit("Ấp Cũ", "hamlet", tree.commune)
    unit_ops.set_household_count(by_hand, 90, BEFORE)
    unit_ops.retire_unit(by_hand, BEFORE + timedelta(days=1))
    _db.session.commit()
    login_as("commune", tree.commune)
    assert change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": ON.isoformat(),
                                                             "households": "", "new_name": ""}).status_code == 303
    commune_count = households_by_unit([tree.commune], TODAY)[tree.commune.id]

    # Its page offers no "Make active again" (Sử dụng lại); the button posted anyway is refused. Nor may it
    # be merged or split again (409).
    assert "Sử dụng lại" not in client.get(f"/units/{a.id}").get_data(as_text=True)
    for change in ("merge", "split"):
        assert client.get(f"/units/{a.id}/{change}").status_code == 409
        assert client.get(f"/units/{b.id}/{change}").status_code == 200
    resp = client.post(f"/units/{a.id}/restore", data={"payload": "1"})
    assert resp.status_code == 409
    assert "không thể sử dụng lại" in resp.get_data(as_text=True)
    with pytest.raises(ValueError):  # nor by any other caller
        unit_ops.restore_unit(_db.session.get(AdminUnit, a.id))
    # A list still naming it is refused at that line; one naming the hamlet retired by hand brings it back.
    resp = _import_hamlets(client, tree.commune, "Tên ấp;Số hộ\nKhu vực 1;300\nẤp Cũ;95\n")
    assert resp.status_code == 422 and "Khu vực 1 đã được nhập hoặc chia từ" in resp.get_data(as_text=True)
    assert _import_hamlets(client, tree.commune, "Tên ấp;Số hộ\nấp cũ;95\n").status_code == 302
    _db.session.expire_all()
    tree.refresh()
    assert tree.hamlet.retired_on == ON
    assert households_by_unit([tree.commune], TODAY)[tree.commune.id] == commune_count + 95
    restored = _db.session.get(AdminUnit, by_hand.id)
    assert restored.retired_on is None and restored.households_on(TODAY).households == 95


def test_a_name_an_ended_hamlet_shares_with_an_active_one_names_the_active_one(db, tree, client, login_as):
    from app.units import operations as unit_ops
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    # Khu vực 1 is split; one of its parts takes the name Khu vực 1 again.
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/split", {
        "effective_on": ON.isoformat(), "name_1": "Khu vực 1", "name_2": "Khu vực 1B", "rest": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    new = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 1",
                                                        AdminUnit.retired_on.is_(None)))
    assert new is not None and new.id != tree.hamlet.id
    assert unit_ops.find_child_by_name(tree.commune, "khu vuc 1").id == new.id
    # A list naming Khu vực 1 counts the active one; another hamlet may not take the name.
    assert _import_hamlets(client, tree.commune, "Tên ấp;Số hộ\nKhu vực 1;210\n").status_code == 302
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, new.id).households_on(TODAY).households == 210
    resp = client.post(f"/units/{tree.hamlet2.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet2.id}/rename", {"name": "Khu Vực 1", "effective_on": ""}))
    assert resp.status_code == 400 and "đã có ở một thôn, ấp, khu phố khác của xã" in resp.get_data(as_text=True)


def test_an_ended_hamlet_takes_counts_up_to_its_last_day_only(db, tree, client, login_as):
    """A count from a hamlet's end on is counted nowhere: the page offers its last day, and a later date
    is refused beside the field, by its page and by an adult upload, with nothing written. A name it
    shares with an active hamlet names the active one."""
    import io
    import re

    from app.units import operations as unit_ops
    from app.units.models import AdultCount, HouseholdCount
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {"target": str(tree.hamlet2.id),
                                                                       "effective_on": ON.isoformat()})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    merged = _db.session.get(AdminUnit, tree.hamlet.id)
    last = ON - timedelta(days=1)
    assert merged.last_day == last
    page = client.get(f"/units/{merged.id}").get_data(as_text=True)
    assert re.search(rf'name="count-effective_on"[^>]*value="{last.isoformat()}"', page), page
    counts = _db.session.scalar(sa.select(sa.func.count(HouseholdCount.id)))
    for day in (ON, TODAY):
        resp = client.post(f"/units/{merged.id}/households", data=with_version(
            client, f"/units/{merged.id}", {"count-households": "300",
                                                                     "count-effective_on": day.isoformat()}))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400
        assert f"Khu vực 1 chỉ còn hiệu lực đến hết {last:%d/%m/%Y}" in html
        assert 'value="300"' in html  # the user's figure is kept
        resp = client.post(f"/units/{merged.id}/adults", data=with_version(
            client, f"/units/{merged.id}", {"adults-adults": "700",
                                                                "adults-effective_on": day.isoformat()}))
        assert resp.status_code == 400 and f"đến hết {last:%d/%m/%Y}" in resp.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count(HouseholdCount.id))) == counts
    assert _db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0
    with pytest.raises(ValueError):
        unit_ops.set_household_count(merged, 300, ON)
    # A renaming by decision dated from its end on is refused too (a name it never bore); its name corrected
    # without a date is kept, as the history shows it.
    resp = client.post(f"/units/{merged.id}/rename", data=with_version(
            client, f"/units/{merged.id}/rename", {"name": "Khu vực Một", "effective_on": ON.isoformat()}))
    assert resp.status_code == 400 and f"Khu vực 1 chỉ còn hiệu lực đến hết {last:%d/%m/%Y}: thay đổi" in \
        resp.get_data(as_text=True)
    assert _db.session.get(AdminUnit, merged.id).name == "Khu vực 1"
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id)).where(HamletChange.kind == "rename")) == 0
    # Its last day corrects its history.
    resp = client.post(f"/units/{merged.id}/households", data=with_version(
        client, f"/units/{merged.id}", {"count-households": "300",
                                                                 "count-effective_on": last.isoformat()}))
    assert resp.status_code == 302
    assert _db.session.get(AdminUnit, merged.id).households_on(last).households == 300
    # Its page says the figure is the one of its last day; a count dated later (saved before such dates
    # were refused) is not the one shown.
    assert client.post(f"/units/{merged.id}/adults", data=with_version(
        client, f"/units/{merged.id}", {"adults-adults": "700", "adults-effective_on": last.isoformat()})
    ).status_code == 302
    _db.session.add(HouseholdCount(unit_id=merged.id, households=999, effective_on=TODAY))
    _db.session.add(AdultCount(unit_id=merged.id, adults=9999, effective_on=TODAY))
    _db.session.commit()
    page = client.get(f"/units/{merged.id}").get_data(as_text=True)
    assert f"300 hộ vào ngày cuối, {last:%d/%m/%Y} (số liệu áp dụng từ {last:%d/%m/%Y})" in page, page
    assert f"700 người trưởng thành vào ngày cuối, {last:%d/%m/%Y} (số liệu áp dụng từ {last:%d/%m/%Y})" in page
    assert "999 hộ" not in page and "9.999 người" not in page
    _db.session.execute(sa.delete(AdultCount).where(AdultCount.adults == 9999))
    _db.session.execute(sa.delete(HouseholdCount).where(HouseholdCount.households == 999))
    _db.session.commit()

    # An adult upload: the ended hamlet dated today is refused by line; once a new Khu vực 1 exists, the
    # name is the new one's.
    def upload(text):
        return client.post(f"/units/{tree.commune.id}/adults/import",
                           data={"file": (io.BytesIO(text.encode()), "adults.csv")},
                           content_type="multipart/form-data")
    resp = upload("Tên ấp,Số người từ 15 tuổi\nKhu vực 1,700\n")
    assert resp.status_code == 422 and f"đến hết {last:%d/%m/%Y}" in resp.get_data(as_text=True)
    assert upload(f"Tên ấp,Số người từ 15 tuổi,Ngày hiệu lực\nKhu vực 1,700,{last:%d/%m/%Y}\n").status_code == 200
    # Ấp Ba merges into Khu vực 2, which takes its name: the upload's Ấp Ba is the active hamlet, whichever
    # of the two namesakes came first.
    ba = unit_ops.create_unit("Ấp Ba", "hamlet", _db.session.get(AdminUnit, tree.commune.id))
    _db.session.commit()
    resp = change_confirmed(client, f"/units/{ba.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "new_name": "Ấp Ba"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    resp = upload("Tên ấp,Số người từ 15 tuổi\nẤp Ba,700\n")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    import html as html_lib
    done = client.post(f"/units/{tree.commune.id}/adults/import/confirm",
                       data={"payload": html_lib.unescape(payload)})
    assert done.status_code == 302
    # (the ended Khu vực 1 keeps the count set above for its last day)
    assert _db.session.scalars(sa.select(AdultCount.unit_id).where(AdultCount.unit_id != merged.id)).all() == \
        [tree.hamlet2.id]


def test_a_hamlet_retired_today_shows_its_count_of_yesterday_and_leaves_its_commune_without_active_hamlets(
        db, tree, client, login_as):
    """Retired by the button, a hamlet ends today: its page gives its count as of yesterday, its last day;
    a commune whose hamlets all ended today asks for its own count again."""
    from app.units import operations as unit_ops
    login_as("commune", tree.commune)
    yesterday = TODAY - timedelta(days=1)
    for hamlet in (tree.hamlet, tree.hamlet2):
        assert client.post(f"/units/{hamlet.id}/retire", data={"payload": "retire"}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, tree.hamlet.id).retired_on == TODAY
    page = client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True)
    assert f"320 hộ vào ngày cuối, {yesterday:%d/%m/%Y} (số liệu áp dụng từ" in page, page
    commune = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert 'name="count-households"' in commune and "tổng số hộ của các đơn vị" not in commune
    unit_ops.restore_unit(_db.session.get(AdminUnit, tree.hamlet2.id))
    _db.session.commit()
    commune = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert 'name="count-households"' not in commune and "tổng số hộ của các đơn vị" in commune


def _hamlet_rows(html) -> dict[str, tuple[str, str]]:
    """The commune's list of hamlets: each row's name as linked, its name cell's text and its households cell."""
    rows = {}
    for row in parse(html).find(id="children").find_all("tr"):
        cells = [c for c in row.children if not isinstance(c, str) and c.tag == "td"]
        if cells:
            rows[cells[0].find(tag="a").text()] = (" ".join(cells[0].text().split()), " ".join(cells[1].text().split()))
    return rows


def test_an_ended_hamlet_in_the_communes_list_shows_how_it_ended_and_no_household_count(db, tree, client, login_as):
    """Merged into another (its households went there) or retired by hand, a hamlet has no households now: its row
    says how it ended and gives no count, while its own page gives its last count with the day it held."""
    from app.units import operations as unit_ops
    third = unit_ops.create_unit("Khu vực 3", "hamlet", tree.commune)
    unit_ops.set_household_count(third, 150, date(2024, 1, 1))
    _db.session.commit()
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    assert client.post(f"/units/{third.id}/retire", data={"payload": "retire"}).status_code == 302

    for url in (f"/units/{tree.commune.id}", f"/units/{tree.commune.id}?q=khu"):
        headers = {"HX-Request": "true", "HX-Target": "children"} if "?" in url else {}
        html = client.get(url, headers=headers).get_data(as_text=True)
        if headers:  # the live search's rows alone, in the same list
            html = f'<div id="children">{html}</div>'
        rows = _hamlet_rows(html)
        assert rows["Khu vực 2"] == ("Khu vực 2", "730")
        assert rows["Khu vực 1"][0] == f"Khu vực 1 (đã sáp nhập vào Khu vực 2 từ {ON:%d/%m/%Y})"
        assert rows["Khu vực 3"][0] == "Khu vực 3 ngừng sử dụng"
        for ended in ("Khu vực 1", "Khu vực 3"):
            assert rows[ended][1] == "– hiện không còn số hộ", rows[ended]
    page = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "730 hộ" in page  # the commune's own figure, as before
    merged = client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True)
    assert f"320 hộ vào ngày cuối, {ON - timedelta(days=1):%d/%m/%Y}" in merged


def test_two_hamlets_without_counts_merge_into_one_without_a_count(db, tree, client, login_as):
    from app.units import operations as unit_ops
    a = unit_ops.create_unit("Ấp Tân Lập", "hamlet", tree.commune)
    b = unit_ops.create_unit("Ấp Tân Lợi", "hamlet", tree.commune)
    _db.session.commit()
    login_as("commune", tree.commune)
    assert client.get(f"/units/{a.id}/merge").status_code == 200
    assert change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": ON.isoformat(),
                                                             "households": "", "new_name": ""}).status_code == 303
    merged = _db.session.get(AdminUnit, b.id)
    assert merged.households_on(TODAY) is None or merged.households_on(TODAY).households == 0


def test_a_split_is_dated_from_the_hamlets_start_and_sends_the_unchosen_households_where_asked(
        db, tree, client, login_as):
    # Khu vực 2 exists in its present form from five days before ON: a split dated the day before that is
    # refused beside its date, nothing split; dated ON, "every household not chosen" goes to new hamlet 2.
    tree.hamlet2.valid_from = ON - timedelta(days=5)
    h = household(tree.hamlet2, "Trần Văn Bảy")
    _db.session.commit()
    login_as("commune", tree.commune, locale="en")
    split = {"name_1": "Khu vực 2A", "name_2": "Khu vực 2B", "rest": "2"}
    resp = client.post(f"/units/{tree.hamlet2.id}/split",
                       data=split | {"effective_on": (ON - timedelta(days=6)).isoformat()})
    assert resp.status_code == 400
    assert "Khu vực 2 has existed in its present form only since" in resp.get_data(as_text=True)
    assert _db.session.get(AdminUnit, tree.hamlet2.id).retired_on is None
    resp = change_confirmed(client, f"/units/{tree.hamlet2.id}/split", split | {"effective_on": ON.isoformat()})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    part_b = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 2B"))
    assert _db.session.get(Household, h.id).hamlet_id == part_b.id
    # A hamlet without a household count splits into parts without one (none is given a made-up figure).
    from app.units import operations as unit_ops
    bare = unit_ops.create_unit("Ấp Tân Lập", "hamlet", tree.commune)
    household(bare, "Lê Thị Tám")
    _db.session.commit()
    resp = change_confirmed(client, f"/units/{bare.id}/split", {"name_1": "Ấp Tân Lập A", "name_2": "Ấp Tân Lập B",
                                                                "rest": "1", "effective_on": ON.isoformat()})
    assert resp.status_code == 303
    for name in ("Ấp Tân Lập A", "Ấp Tân Lập B"):
        part = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == name))
        count = part.households_on(TODAY)
        assert count is None or count.households == 0, name


def test_the_hamlets_to_merge_into_come_in_the_vietnamese_order_of_their_names(db, tree, client, login_as):
    from app.units.operations import create_unit
    from tests.html_tree import parse
    for name in ("Ấp Đông", "Ấp Dương"):
        create_unit(name, "hamlet", tree.commune)
    _db.session.commit()
    login_as("commune", tree.commune)
    page = parse(client.get(f"/units/{tree.hamlet.id}/merge").get_data(as_text=True))
    options = [o.text().strip() for o in page.find(id="target").find_all("option")]
    assert options[1:] == ["Ấp Dương", "Ấp Đông", "Khu vực 2"]  # after "Choose a hamlet"


def _nothing_changed(tree, households):
    """The merge or split asked about is not done: no change recorded, the hamlet active, households where they were."""
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id))) == 0
    assert _db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(("merge", "split", "rename")))) == 0
    assert [(u.name, u.retired_on) for u in _db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == tree.commune.id).order_by(AdminUnit.id))] == [
        ("Khu vực 1", None), ("Khu vực 2", None)]
    assert {h.id: h.hamlet_id for h in _db.session.scalars(sa.select(Household))} == households


def _lines(resp) -> list[str]:
    """The summary's lines as read on the page, spaces as a browser shows them."""
    return [" ".join(li.text().split()) for li in summary_form(resp).find_all("li")]


def test_a_merge_is_summed_up_first_and_done_only_when_confirmed(db, tree, client, login_as):
    """The form sent shows what the merge will do and changes nothing; "go back" brings the form back as filled in;
    the confirmation does exactly what the summary said, and a second one (a double tap) says it is done."""
    a, b = tree.hamlet, tree.hamlet2
    make_team(tree.commune, [a])
    moved, other = household(a, "Nguyễn Văn An"), household(a, "Trần Thị Bé")
    _visit(moved, BEFORE)
    _visit(moved, AFTER)
    _visit(other, AFTER, adopted=False)
    homes = {moved.id: a.id, other.id: a.id}
    login_as("commune", tree.commune)
    url = f"/units/{a.id}/merge"
    form = {"target": str(b.id), "effective_on": ON.isoformat(), "households": "", "new_name": "Khu vực Hòa Bình"}

    asked = client.post(url, data=form)
    assert asked.status_code == 200
    day, last = f"{ON:%d/%m/%Y}", f"{ON - timedelta(days=1):%d/%m/%Y}"
    assert "Sáp nhập Khu vực 1 vào Khu vực 2?" in asked.get_data(as_text=True)
    assert _lines(asked) == [
        f"Từ ngày {day}, Khu vực 1 chấm dứt: ngày {last} là ngày cuối cùng. Sau đó không thể sử dụng lại. "
        "Đến ngày đó, thôn, ấp có 320 hộ.",
        f"2 hộ đã ghi trong ứng dụng chuyển sang Khu vực 2, cùng 2 lượt hướng dẫn từ ngày {day}. "
        "Các lượt trước ngày đó vẫn nằm trong số liệu các tháng trước đó của Khu vực 1, và từ ngày đó được tính cho "
        "Khu vực 2.",
        f"Khu vực 2 được đổi tên thành Khu vực Hòa Bình từ ngày {day}.",
        f"Từ ngày {day}, Khu vực Hòa Bình có 730 hộ, là tổng số hộ của hai thôn, ấp.",
        "Số liệu của xã không thay đổi."]
    box = summary_form(asked)
    assert [b.text().strip() for b in box.find_all("button")] == ["Có, sáp nhập", "Quay lại để sửa"]
    # Nothing to type on the summary: the choices ride in hidden fields.
    assert {i.attrs.get("type") for i in box.find_all("input")} == {"hidden"}
    _nothing_changed(tree, homes)

    back = client.post(url, data=sent_back(asked, "back"))
    assert back.status_code == 200
    page = parse(back.get_data(as_text=True))
    assert page.find(id="confirm-change") is None
    assert page.find(id="target").find(value=str(b.id)).attrs.get("selected") is not None
    assert page.find(id="new_name").attrs["value"] == "Khu vực Hòa Bình"
    assert page.find(id="effective_on").attrs["value"] == ON.isoformat()
    assert page.find(id="confirm").attrs["value"] == ""  # the form sent again is summed up again
    _nothing_changed(tree, homes)

    # A choice changed under the summary's confirmation is not applied: it is summed up again.
    again = client.post(url, data=sent_back(asked) | {"households": "700"})
    assert again.status_code == 200
    assert f"Từ ngày {day}, Khu vực Hòa Bình có 700 hộ, theo số bạn nhập." in _lines(again)
    _nothing_changed(tree, homes)

    done = client.post(url, data=sent_back(asked))
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    tree.refresh()
    assert (tree.hamlet.retired_on, tree.hamlet2.name) == (ON, "Khu vực Hòa Bình")
    assert tree.hamlet2.households_on(ON).households == 730
    assert {h.hamlet_id for h in _db.session.scalars(sa.select(Household))} == {b.id}
    assert _db.session.scalar(sa.select(sa.func.count(Visit.id)).where(Visit.hamlet_id == b.id)) == 2

    # The confirmation sent again (a double tap, the back button) finds the merge done and says so.
    twice = client.post(url, data=sent_back(asked))
    assert twice.status_code == 303
    assert (f"Khu vực 1 đã được sáp nhập hoặc chia tách từ ngày {day}: xem lịch sử của thôn, ấp."
            in client.get(twice.location).get_data(as_text=True))
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id)).where(HamletChange.kind == "merge")) == 1


def test_a_split_is_summed_up_first_and_done_only_when_confirmed(db, tree, client, login_as):
    a = tree.hamlet
    make_team(tree.commune, [a])
    first, second, third = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Võ Văn Tám"))
    _visit(first, BEFORE)
    _visit(third, AFTER)
    _visit(third, AFTER + timedelta(days=1), adopted=False)
    homes = {h.id: a.id for h in (first, second, third)}
    login_as("commune", tree.commune)
    url = f"/units/{a.id}/split"
    form = {"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A", "count_1": "", "name_2": "Ấp Tân Lập B",
            "count_2": "100", "name_3": "", "count_3": "", "rest": "1", f"h{third.id}": "2"}

    asked = client.post(url, data=form)
    assert asked.status_code == 200
    day = f"{ON:%d/%m/%Y}"
    assert "Chia tách Khu vực 1?" in asked.get_data(as_text=True)
    assert _lines(asked)[1:] == [
        f"Ấp Tân Lập A: thôn, ấp mới. Nhận 2 hộ đã ghi trong ứng dụng, cùng 0 lượt hướng dẫn từ ngày {day}, "
        "và có 213 hộ từ ngày đó.",
        f"Ấp Tân Lập B: thôn, ấp mới. Nhận 1 hộ đã ghi trong ứng dụng, cùng 2 lượt hướng dẫn từ ngày {day}, "
        "và có 100 hộ từ ngày đó.",
        # 213 + 100 is not the 320 before: the summary says what that does to the commune, no longer that
        # nothing changes (7 too few is no slip to warn about).
        f"Các lượt hướng dẫn trước ngày {day} vẫn nằm trong số liệu các tháng trước đó của Khu vực 1, và từ ngày đó "
        f"được tính cho thôn, ấp mới nhận hộ của lượt đó. Số hộ của xã thay đổi: từ ngày {day}, "
        "xã có 723 hộ thay vì 730 hộ, và độ phủ được tính theo số hộ này. Các lượt hướng dẫn và số người trưởng "
        "thành của xã không thay đổi."]
    assert [b.text().strip() for b in summary_form(asked).find_all("button")] == ["Có, chia tách", "Quay lại để sửa"]
    _nothing_changed(tree, homes)

    back = client.post(url, data=sent_back(asked, "back"))
    assert back.status_code == 200
    page = parse(back.get_data(as_text=True))
    assert (page.find(id="name_1").attrs["value"], page.find(id="count_2").attrs["value"]) == (
        "Ấp Tân Lập A", "100")
    chosen = page.find(id=f"h{third.id}").find(value="2")
    assert chosen.attrs.get("selected") is not None and chosen.text() == "Ấp Tân Lập B"
    _nothing_changed(tree, homes)

    done = client.post(url, data=sent_back(asked))
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    part_b = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Tân Lập B"))
    assert _db.session.get(Household, third.id).hamlet_id == part_b.id
    assert part_b.households_on(ON).households == 100
    assert _db.session.get(AdminUnit, a.id).retired_on == ON


def test_a_confirmation_the_commune_no_longer_allows_brings_the_form_back_with_the_reason(
        db, tree, client, login_as):
    """Between the summary and its confirmation another officer gave a new hamlet's name to a hamlet: the
    confirmation is refused beside the name (400), the form as filled in, and nothing is split."""
    from app.units import operations as unit_ops
    h = household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    url = f"/units/{tree.hamlet.id}/split"
    asked = client.post(url, data={"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A",
                                   "name_2": "Ấp Tân Lập B", "rest": "1"})
    assert asked.status_code == 200
    unit_ops.rename_unit(_db.session.get(AdminUnit, tree.hamlet2.id), "Ấp Tân Lập B")
    _db.session.commit()
    refused = client.post(url, data=sent_back(asked))
    assert refused.status_code == 400
    page = parse(refused.get_data(as_text=True))
    assert "đã có ở một thôn, ấp, khu phố khác của xã" in page.find(id="name_2-error").text()
    assert page.find(id="name_1").attrs["value"] == "Ấp Tân Lập A"
    assert page.find(id="confirm").attrs["value"] == ""
    assert _db.session.get(AdminUnit, tree.hamlet.id).retired_on is None
    assert _db.session.get(Household, h.id).hamlet_id == tree.hamlet.id


def test_the_split_forms_choices_say_the_names_typed_above_them(db, tree, client, login_as):
    h = household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)

    def labels(html, select_id):
        return [o.text() for o in parse(html).find(id=select_id).find_all("option")][1:]

    page = client.get(f"/units/{tree.hamlet.id}/split").get_data(as_text=True)
    assert labels(page, "rest") == labels(page, f"h{h.id}") == ["Thôn, ấp mới 1", "Thôn, ấp mới 2", "Thôn, ấp mới 3"]
    # Each name field tells the page's script which choices follow it, and what they read when it is empty.
    name_2 = parse(page).find(id="name_2")
    assert (name_2.attrs["data-part"], name_2.attrs["data-numbered"]) == ("2", "Thôn, ấp mới 2")
    # Refused (no household assigned), the form comes back with the names typed in the choices.
    refused = client.post(f"/units/{tree.hamlet.id}/split", data={
        "effective_on": ON.isoformat(), "name_1": "Ấp  Tân Lập A ", "name_2": "Ấp Tân Lập B", "name_3": "",
        "rest": ""})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "1 hộ chưa được xếp" in parse(html).find(id="rest-error").text()
    assert labels(html, "rest") == labels(html, f"h{h.id}") == ["Ấp Tân Lập A", "Ấp Tân Lập B", "Thôn, ấp mới 3"]


def test_an_officer_of_another_commune_can_neither_ask_nor_confirm_a_merge_or_a_split(db, tree, client, login_as):
    h = household(tree.hamlet, "Nguyễn Văn An")
    homes = {h.id: tree.hamlet.id}
    forms = {"merge": {"target": str(tree.hamlet2.id), "effective_on": ON.isoformat()},
             "split": {"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A", "name_2": "Ấp Tân Lập B",
                       "rest": "1"}}
    login_as("commune", tree.commune)
    summaries = {action: sent_back(client.post(f"/units/{tree.hamlet.id}/{action}", data=form))
                 for action, form in forms.items()}
    for commune in (tree.sibling_commune, tree.other_commune):
        client.post("/auth/logout")
        login_as("commune", commune)
        for action, form in forms.items():
            url = f"/units/{tree.hamlet.id}/{action}"
            assert client.get(url).status_code in (403, 404)
            assert client.post(url, data=form).status_code in (403, 404)
            assert client.post(url, data=summaries[action]).status_code in (403, 404)
            assert client.post(url, data=summaries[action] | {"back": "1"}).status_code in (403, 404)
    _nothing_changed(tree, homes)


def test_the_merge_or_split_of_an_ended_hamlet_is_refused_on_its_page_with_the_reason(db, tree, client, login_as):
    """An old link, the back button, or "Go back and change" on a summary another officer overtook: the form of a
    hamlet no longer active is refused (409) on the hamlet's own page, saying why, not on a bare error page."""
    from app.units import operations as unit_ops
    by_hand = unit_ops.create_unit("Ấp Cũ", "hamlet", tree.commune)
    unit_ops.retire_unit(by_hand, BEFORE)
    _db.session.commit()
    login_as("commune", tree.commune)
    for change in ("merge", "split"):
        resp = client.get(f"/units/{by_hand.id}/{change}")
        assert resp.status_code == 409
        page = parse(resp.get_data(as_text=True))
        assert next(page.find_all("h1")).text().strip() == "Ấp Cũ"
        assert (f"Ấp Cũ đã ngừng sử dụng từ {BEFORE:%d/%m/%Y}: chỉ thôn, ấp đang hoạt động mới sáp nhập hoặc chia "
                "tách được." in " ".join(page.text().split()))

    url = f"/units/{tree.hamlet.id}/merge"
    asked = client.post(url, data={"target": str(tree.hamlet2.id), "effective_on": ON.isoformat()})
    assert client.post(url, data=sent_back(asked)).status_code == 303  # done (in another tab, or by another officer)
    back = client.post(url, data=sent_back(asked, "back"))
    assert back.status_code == 409
    page = parse(back.get_data(as_text=True))
    assert next(page.find_all("h1")).text().strip() == "Khu vực 1"
    assert (f"Khu vực 1 đã được sáp nhập hoặc chia tách từ ngày {ON:%d/%m/%Y}: xem lịch sử của thôn, ấp."
            in " ".join(page.text().split()))


def test_a_confirmation_another_officer_overtook_is_summed_up_again_not_done(db, tree, client, login_as):
    """Between the summary and "Yes": another officer counted the hamlet merged into anew and registered a
    household in the hamlet that ends. The confirmation does not do something else than the summary said: the
    summary comes back with today's figures, saying why (409), and nothing is done until that one is confirmed."""
    from app.units import operations as unit_ops
    a, b = tree.hamlet, tree.hamlet2
    household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    url = f"/units/{a.id}/merge"
    day = f"{ON:%d/%m/%Y}"
    asked = client.post(url, data={"target": str(b.id), "effective_on": ON.isoformat(), "households": ""})
    assert f"Từ ngày {day}, Khu vực 2 có 730 hộ, là tổng số hộ của hai thôn, ấp." in _lines(asked)

    unit_ops.set_household_count(_db.session.get(AdminUnit, b.id), 500, ON - timedelta(days=5))
    _db.session.commit()
    household(_db.session.get(AdminUnit, a.id), "Trần Thị Bé")
    overtaken = client.post(url, data=sent_back(asked))
    assert overtaken.status_code == 409
    assert ("Kết quả của thay đổi này đã khác so với lúc bạn xem: trong lúc đó có người đã sửa các thôn, ấp này "
            "hoặc hộ của chúng. Hãy xem lại rồi xác nhận." in " ".join(summary_form(overtaken).text().split()))
    assert f"Từ ngày {day}, Khu vực 2 có 820 hộ, là tổng số hộ của hai thôn, ấp." in _lines(overtaken)
    assert any(line.startswith("2 hộ đã ghi trong ứng dụng chuyển sang Khu vực 2") for line in _lines(overtaken))
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, a.id).retired_on is None
    assert _db.session.scalar(sa.select(sa.func.count(HamletChange.id))) == 0

    done = client.post(url, data=sent_back(overtaken))
    assert done.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, b.id).households_on(ON).households == 820


def test_a_split_confirmed_after_a_household_was_registered_in_the_hamlet_is_summed_up_again(
        db, tree, client, login_as):
    a = tree.hamlet
    household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    url = f"/units/{a.id}/split"
    asked = client.post(url, data={"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A",
                                   "name_2": "Ấp Tân Lập B", "rest": "1"})
    assert _lines(asked)[1].startswith("Ấp Tân Lập A: thôn, ấp mới. Nhận 1 hộ đã ghi trong ứng dụng")
    late = household(_db.session.get(AdminUnit, a.id), "Trần Thị Bé")
    overtaken = client.post(url, data=sent_back(asked))
    assert overtaken.status_code == 409
    assert "Kết quả của thay đổi này đã khác so với lúc bạn xem" in summary_form(overtaken).text()
    assert _lines(overtaken)[1].startswith("Ấp Tân Lập A: thôn, ấp mới. Nhận 2 hộ đã ghi trong ứng dụng")
    assert _db.session.get(AdminUnit, a.id).retired_on is None
    assert client.post(url, data=sent_back(overtaken)).status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Household, late.id).hamlet.name == "Ấp Tân Lập A"


def test_a_households_count_typed_for_a_new_hamlet_left_unnamed_is_asked_about_not_dropped(
        db, tree, client, login_as):
    """A third hamlet's count typed and its name forgotten: the split would make two hamlets and drop the count
    without a word. It is refused beside the name, the form as filled in."""
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    url = f"/units/{tree.hamlet.id}/split"
    _refused(client, url, {"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A", "name_2": "Ấp Tân Lập B",
                           "count_3": "55", "rest": "1"}, "Hãy đặt tên cho thôn, ấp mới 3, hoặc xóa số hộ của nó.")
    page = parse(client.post(url, data={"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A",
                                        "name_2": "Ấp Tân Lập B", "count_3": "55", "rest": "1"}).get_data(as_text=True))
    assert page.find(id="name_3-error") is not None and page.find(id="count_3").attrs["value"] == "55"


@pytest.mark.parametrize("typed", ["\u0301\u0300", "\u202e\u0301", "😀"])
def test_a_hamlet_name_without_a_letter_or_a_digit_is_refused_in_every_form(db, tree, client, login_as, typed):
    """Accents alone (what is left of a name typed with a Telex keyboard gone wrong), or a picture: a hamlet would
    bear a name nobody can read or search (it folds to nothing)."""
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    message = "Tên phải có ít nhất một chữ cái hoặc chữ số."
    a = tree.hamlet.id
    _refused(client, f"/units/{a}/merge", {"target": str(tree.hamlet2.id), "effective_on": ON.isoformat(),
                                           "new_name": typed}, message)
    _refused(client, f"/units/{a}/split", {"effective_on": ON.isoformat(), "name_1": typed, "name_2": "Ấp Tân Lập B",
                                           "rest": "2"}, message)
    _refused(client, f"/units/{a}/rename", {"name": typed}, message)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": typed})
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert sorted(u.name for u in _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "hamlet"))) == [
        "Khu vực 1", "Khu vực 2", "Ấp Nhơn Xuân"]


def _shown(unit, on):
    """What the coverage page shows for the unit on `on`: its total's households, reached, and adopters per service."""
    from app.coverage import queries
    total = queries.coverage(_db.session.get(AdminUnit, unit.id), on).total
    return total.households, total.reached, {code: f.adopted for code, f in total.services.items()}


@pytest.mark.parametrize("change", ["merge", "split"])
def test_after_a_merge_or_a_split_the_commune_and_above_show_the_figures_they_had(db, tree, client, login_as,
                                                                                   change):
    """A commune's households reached and adopting before the change stay in its figures (and above it) after it,
    in the rows of the hamlets that hold them now. A change recorded before households' moves were (its households'
    moves missing) leaves them to the hamlet that ended, which no row shows, so the page says where they are."""
    from app.dates import month_end
    a = tree.hamlet
    make_team(tree.commune, [a, tree.hamlet2])
    reached = [household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Võ Văn Tám")]
    for h in reached:
        _visit(h, BEFORE)
    _visit(household(tree.hamlet2, "Lê Văn Cường"), AFTER)
    days = [month_end(ON.year, ON.month), TODAY]
    units = [tree.commune, tree.commune.parent]
    before = {(u.id, d): _shown(u, d) for u in units for d in days}
    assert before[tree.commune.id, TODAY][1] == 4  # three reached before the change, one after it
    login_as("commune", tree.commune)
    if change == "merge":
        data = {"target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""}
    else:
        data = {"effective_on": ON.isoformat(), "name_1": "Khu vực 1A", "count_1": "200", "name_2": "Khu vực 1B",
                "count_2": "120", "name_3": "", "count_3": "", "rest": "1", f"h{reached[2].id}": "2"}
    resp = change_confirmed(client, f"/units/{a.id}/{change}", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    _db.session.expire_all()
    assert {(u.id, d): _shown(u, d) for u in units for d in days} == before
    assert 'id="carried-note"' not in client.get(f"/coverage/{tree.commune.id}").get_data(as_text=True)
    from app.coverage import store
    _db.session.execute(sa.delete(HouseholdMove))
    store.rebuild(_db.session.connection())
    _db.session.commit()
    assert {(u.id, d): _shown(u, d) for u in units for d in days} == before
    page = client.get(f"/coverage/{tree.commune.id}").get_data(as_text=True)
    note = parse(page).find(id="carried-note")
    assert note is not None and "Tổng còn tính các hộ được tiếp cận ở Khu vực 1 trước khi sáp nhập hoặc chia tách" \
        in note.text()
    assert page.count("Tổng còn tính các hộ được tiếp cận") == 2  # under the phone's cards and the wide table


def _adults(unit, on):
    """The adult population the coverage page shows for the unit on the day, and for the day's month."""
    from app.coverage.adults import adult_months, adults_by_unit
    unit = _db.session.get(AdminUnit, unit.id)
    return adults_by_unit([unit], on)[unit.id], adult_months([unit], [(on.year, on.month)])[unit.id][
        on.year, on.month].adults


def _set_adults(unit, n, on=date(2024, 1, 1)):
    from app.units import operations as unit_ops
    unit_ops.set_adult_count(_db.session.get(AdminUnit, unit.id), n, on)
    _db.session.commit()


def test_a_merge_gives_the_kept_hamlet_both_hamlets_adults_and_the_commune_keeps_its_adults(
        db, tree, client, login_as):
    a, b = tree.hamlet, tree.hamlet2
    _set_adults(a, 397)
    _set_adults(b, 1_150)
    assert _adults(tree.commune, ON) == (1_547, 1_547)
    officer = login_as("commune", tree.commune)
    url, day = f"/units/{a.id}/merge", f"{ON:%d/%m/%Y}"

    asked = client.post(url, data={"target": str(b.id), "effective_on": ON.isoformat(), "households": "",
                                   "new_name": ""})
    assert (f"Từ ngày {day}, Khu vực 2 có 1.547 người trưởng thành, là tổng số người trưởng thành của hai "
            "thôn, ấp.") in _lines(asked)
    assert _lines(asked)[-1] == "Số liệu của xã không thay đổi."
    assert client.post(url, data=sent_back(asked)).status_code == 303

    assert _adults(tree.commune, ON) == (1_547, 1_547)
    assert _adults(b, ON) == (1_547, 1_547)
    assert _adults(b, ON - timedelta(days=1))[0] == 1_150  # its months before the merge as they were
    # Audited as an adult population set by hand is, and in the merge's own event.
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "set_adults",
                                                           AuditEvent.record_id == b.id,
                                                           AuditEvent.user_id == officer.id))
    assert event is not None and ("adults", None, 1_547) in event.change_items
    merge = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "merge"))
    assert ("adults", 397, 1_547) in merge.change_items


def test_a_merge_into_a_hamlet_without_adults_gives_it_the_others(db, tree, client, login_as):
    _set_adults(tree.hamlet, 397)
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/merge", {
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": "", "new_name": ""})
    assert resp.status_code == 303
    assert _adults(tree.hamlet2, ON) == (397, 397) == _adults(tree.commune, ON)


def test_a_split_shares_the_hamlets_adults_by_household_count_in_whole_numbers_adding_up(
        db, tree, client, login_as):
    a = tree.hamlet
    _set_adults(a, 1_000)
    _set_adults(tree.hamlet2, 1_150)
    household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    url, day = f"/units/{a.id}/split", f"{ON:%d/%m/%Y}"
    # 320 households into 100, 110 and 110: 1,000 adults shares 312.5, 343.75 and 343.75.
    asked = client.post(url, data={"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A", "count_1": "100",
                                   "name_2": "Ấp Tân Lập B", "count_2": "110", "name_3": "Ấp Tân Lập C",
                                   "count_3": "110", "rest": "1"})
    lines = _lines(asked)
    for name, n in (("Ấp Tân Lập A", 312), ("Ấp Tân Lập B", 344), ("Ấp Tân Lập C", 344)):
        assert any(line.startswith(f"{name}:") and line.endswith(
            f"Từ ngày {day}, {name} có {n} người trưởng thành: số người trưởng thành của Khu vực 1 được chia theo "
            "tỷ lệ số hộ.") for line in lines), lines
    assert lines[-1].endswith("Số liệu của xã không thay đổi.")
    assert client.post(url, data=sent_back(asked)).status_code == 303

    parts = {u.name: u for u in _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.name.like("Ấp Tân Lập%")))}
    assert {name: _adults(u, ON)[0] for name, u in parts.items()} == {
        "Ấp Tân Lập A": 312, "Ấp Tân Lập B": 344, "Ấp Tân Lập C": 344}
    assert _adults(tree.commune, ON) == (2_150, 2_150)
    assert _db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "set_adults", AuditEvent.record_id.in_([u.id for u in parts.values()]))) == 3
    split = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "split"))
    assert ("adults", 1_000, [312, 344, 344]) in split.change_items


def test_the_adults_of_a_split_are_shared_exactly_and_evenly_without_households(db):
    from app.units.hamlet_changes import shared
    assert shared(1_000, [100, 110, 110]) == [312, 344, 344]
    assert shared(7, [0, 0, 0]) == [3, 2, 2]
    assert shared(1_352, [300, 2_200]) == [162, 1_190]
    assert all(sum(shared(total, weights)) == total
               for total in (0, 1, 99, 1_352) for weights in ([1, 1, 1], [5, 0], [300, 220], [0, 0]))


def test_a_split_whose_counts_add_up_far_from_the_hamlets_is_warned_about_and_says_what_the_commune_gets(
        db, tree, client, login_as):
    """520 households split into 300 and 2.200 (a zero typed twice): the summary warns beside the counts, with both
    numbers, and says the commune's count goes up, instead of that nothing changes."""
    from app.units import operations as unit_ops
    a = tree.hamlet
    unit_ops.set_household_count(_db.session.get(AdminUnit, a.id), 520, date(2024, 6, 1))
    _db.session.commit()
    login_as("commune", tree.commune)
    url, day = f"/units/{a.id}/split", f"{ON:%d/%m/%Y}"
    form = {"effective_on": ON.isoformat(), "name_1": "Ấp Tân Lập A", "count_1": "300", "name_2": "Ấp Tân Lập B",
            "count_2": "2.200", "rest": "1"}

    asked = client.post(url, data=form)
    assert asked.status_code == 200
    warning = summary_form(asked).find(id="count-warning")
    assert warning is not None and warning.attrs.get("role") == "alert"
    assert " ".join(warning.text().split()) == (
        "Hãy kiểm tra số hộ: các thôn, ấp mới có tổng cộng 2.500 hộ, khác xa 520 hộ của Khu vực 1. Nếu gõ thừa "
        "hoặc thiếu một chữ số, hãy quay lại để sửa.")
    assert _lines(asked)[-1] == (
        f"Các lượt hướng dẫn trước ngày {day} vẫn nằm trong số liệu các tháng trước đó của Khu vực 1, và từ ngày đó "
        f"được tính cho thôn, ấp mới nhận hộ của lượt đó. Số hộ của xã thay đổi: từ ngày {day}, "
        "xã có 2.910 hộ thay vì 930 hộ, và độ phủ được tính theo số hộ này. Các lượt hướng dẫn và số người trưởng "
        "thành của xã không thay đổi.")
    assert "Số liệu của xã không thay đổi" not in asked.get_data(as_text=True)

    # Corrected to 220: no warning, and the commune's figures do not change.
    back = client.post(url, data=sent_back(asked, "back"))
    assert back.status_code == 200
    fixed = client.post(url, data=form | {"count_2": "220"})
    assert summary_form(fixed).find(id="count-warning") is None
    assert _lines(fixed)[-1].endswith("Số liệu của xã không thay đổi.")

    # Confirmed all the same, the commune counts what the summary said.
    assert client.post(url, data=sent_back(asked)).status_code == 303
    assert households_by_unit([_db.session.get(AdminUnit, tree.commune.id)], ON)[tree.commune.id] == 2_910


@pytest.mark.parametrize("typed, warned", [("7300", True), ("1000", True), ("900", False), ("730", False)])
def test_a_merge_count_far_from_the_two_hamlets_sum_is_warned_about(db, tree, client, login_as, typed, warned):
    """320 + 410 = 730: ten times that (a digit typed twice), or more than a quarter off, is warned about."""
    login_as("commune", tree.commune)
    asked = client.post(f"/units/{tree.hamlet.id}/merge", data={
        "target": str(tree.hamlet2.id), "effective_on": ON.isoformat(), "households": typed, "new_name": ""})
    assert asked.status_code == 200
    warning = summary_form(asked).find(id="count-warning")
    day, n = f"{ON:%d/%m/%Y}", f"{int(typed):,}".replace(",", ".")
    if warned:
        assert " ".join(warning.text().split()) == (
            f"Hãy kiểm tra số này: {n} hộ khác xa 730 hộ là tổng số hộ của hai thôn, ấp. Nếu gõ thừa hoặc thiếu một "
            "chữ số, hãy quay lại để sửa.")
    else:
        assert warning is None
    last = _lines(asked)[-1]
    if typed == "730":
        assert last == "Số liệu của xã không thay đổi."
    else:
        assert last.startswith(f"Số hộ của xã thay đổi: từ ngày {day}, xã có {n} hộ thay vì 730 hộ")


def test_the_split_form_tells_households_of_the_same_name_apart_by_address_or_phone(db, tree, client, login_as):
    a = tree.hamlet
    by_address = [household(a, "Nguyễn Thị Thảo", "Tổ 3, đường Trần Hưng Đạo"),
                  household(a, "Nguyễn Thị Thảo", "Tổ 5, đường 3 Tháng 2")]
    same_address = [household(a, "Lê Văn Tư", "12 Lê Lợi"), household(a, "Lê Văn Tư", "12 Lê Lợi")]
    same_address[0].phone, same_address[1].phone = "0912345678", "0987654321"
    alone = household(a, "Phạm Thị Hoa")
    _db.session.commit()
    login_as("commune", tree.commune)
    page = parse(client.get(f"/units/{a.id}/split").get_data(as_text=True))

    def label(h):
        return " ".join(next(page.find_all("label", **{"for": f"h{h.id}"})).text().split())

    assert [label(h) for h in by_address] == ["Nguyễn Thị Thảo (Tổ 3, đường Trần Hưng Đạo)",
                                              "Nguyễn Thị Thảo (Tổ 5, đường 3 Tháng 2)"]
    assert [label(h) for h in same_address] == ["Lê Văn Tư (số máy …678)", "Lê Văn Tư (số máy …321)"]
    assert label(alone) == "Phạm Thị Hoa"


def test_a_hamlet_a_split_made_is_no_row_of_a_month_before_it_existed(db, tree, client, login_as):
    """The hamlets a split makes exist from its day: the commune's months before show the hamlet as it was, not the
    new ones with 0 households of 0."""
    from app.units import hamlet_changes
    hamlet_changes.split_hamlet(_db.session.get(AdminUnit, tree.hamlet.id), ON,
                                [hamlet_changes.Part("Khu vực 1A", 200), hamlet_changes.Part("Khu vực 1B", 120)], {})
    _db.session.commit()
    login_as("commune", tree.commune)
    earlier = ON - timedelta(days=1)
    page = client.get(f"/coverage/{tree.commune.id}?month={earlier:%Y-%m}").get_data(as_text=True)
    rows = [r.text() for r in parse(page).find_all("tr")]
    assert any("Khu vực 1" in r and "320" in r for r in rows)
    assert not any("Khu vực 1A" in r or "Khu vực 1B" in r for r in rows)
    page = client.get(f"/coverage/{tree.commune.id}?month={ON:%Y-%m}").get_data(as_text=True)
    rows = [r.text() for r in parse(page).find_all("tr")]
    assert any("Khu vực 1A" in r and "200" in r for r in rows) and any("Khu vực 1B" in r for r in rows)


def test_a_split_in_the_middle_of_a_month_leaves_none_of_the_months_visits_out_of_the_communes_report(
        db, tree, client, login_as):
    """Visits in the hamlet on the 3rd, its split on the 15th, visits in the new hamlets on the 20th: the commune's
    month counts every visit once and every household visited once, on the page, in the xlsx, the csv and the API,
    and the hamlet that ended is a row of that month beside the two it became."""
    import csv
    import io
    import re

    from openpyxl import load_workbook

    from app.api.models import issue_token
    month = ON.strftime("%Y-%m")
    third, fifteenth, twentieth = ON.replace(day=3), ON.replace(day=15), ON.replace(day=20)
    a = tree.hamlet
    make_team(tree.commune, [a, tree.hamlet2])
    an, hoa, tam = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Võ Văn Tám"))
    _visit(an, third)
    _visit(hoa, third, adopted=False)
    user = login_as("commune", tree.commune)
    data = {"effective_on": fifteenth.isoformat(), "name_1": "Khu vực 1A", "count_1": "200", "name_2": "Khu vực 1B",
            "count_2": "120", "name_3": "", "count_3": "", "rest": "1", f"h{tam.id}": "2"}
    assert change_confirmed(client, f"/units/{a.id}/split", data).status_code == 303
    _visit(an, twentieth, adopted=False)  # An again, now in Khu vực 1A: a second visit, not a second household
    _visit(tam, twentieth)
    _visit(household(tree.hamlet2, "Lê Văn Cường"), twentieth, adopted=False)
    base = f"/reports/{tree.commune.id}/monthly"
    # Five visits of four households; by hamlet: the ended one (its two of the 3rd), the new ones, Khu vực 2.
    # The hamlet that ended is named with the hamlets it was split into and the day, on the page and in the files.
    ended = f"Khu vực 1 (đã chia tách thành Khu vực 1A, Khu vực 1B từ {fifteenth.strftime('%d/%m/%Y')})"
    want = {ended: (2, 2), "Khu vực 1A": (1, 1), "Khu vực 1B": (1, 1), "Khu vực 2": (1, 1), "Tổng cộng": (5, 4)}

    page = client.get(f"{base}?month={month}").get_data(as_text=True)
    activity = page[page.index('id="part-activity"'):page.index('id="part-new"')]
    shown = {re.sub(r"<[^>]+>", "", name): (int(v), int(r)) for name, v, r in re.findall(
        r'<th scope="row">(.*?)</th>.*?data-key="visits">(\d+)</td>\s*'
        r'<td class="num" data-label="[^"]*" data-key="reached_month">(\d+)</td>', activity, re.DOTALL)}
    assert shown == want

    wb = load_workbook(io.BytesIO(client.get(f"{base}.xlsx?month={month}").data))
    ws = wb["Các ấp"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
    heads = [c.value for c in ws[header]]
    rows = [dict(zip(heads, (c.value for c in row))) for row in ws.iter_rows(min_row=header + 1)]
    assert {r["Đơn vị"]: (r["Lượt hướng dẫn trong tháng"], r["Số hộ được hướng dẫn trong tháng"]) for r in rows} \
        == want
    assert sum(r["Lượt hướng dẫn trong tháng"] for r in rows[:-1]) == rows[-1]["Lượt hướng dẫn trong tháng"] == 5

    lines = list(csv.DictReader(io.StringIO(client.get(f"{base}.csv?month={month}").data.decode("utf-8-sig"))))
    assert {r["Đơn vị"] if r["Cấp"] != "Xã" else "Tổng cộng":
            (int(r["Lượt hướng dẫn trong tháng"]), int(r["Số hộ được hướng dẫn trong tháng"])) for r in lines} == want

    # The API (the map of that month) lists the same hamlets, and the commune's reach and adopters the page's.
    _token, secret = issue_token(user)
    _db.session.commit()
    api = client.get(f"/api/v1/coverage?unit={tree.commune.code}&month={month}",
                     headers={"Authorization": f"Bearer {secret}"}).json
    assert sorted(c["unit"]["name"] for c in api["children"]) == ["Khu vực 1", "Khu vực 1A", "Khu vực 1B", "Khu vực 2"]
    by_name = {r["Đơn vị"]: r for r in rows}
    vneid = next(h for h in heads if h and h.endswith(": số hộ sử dụng") and "VNeID" in h)
    by_name["Khu vực 1"] = by_name[ended]
    for c in api["children"] + [api]:
        row = by_name[c["unit"]["name"] if c is not api else "Tổng cộng"]
        assert (c["households"], c["reach"]["households"], c["services"][[s["code"] for s in api["services"]]
                .index("vneid")]["adopted"]) == (row["Số hộ"], row["Số hộ đã được hướng dẫn (lũy kế)"], row[vneid])
    assert api["reach"]["households"] == 4 and by_name[ended]["Số hộ"] == 0


def _own_figures(hamlet_id, on):
    """A hamlet's households reached and adopters per service as of `on`, counted from the visits of the households
    it holds now: what its row on the commune's page should say."""
    from app.visits.models import VisitService
    mine = sa.select(Household.id).where(Household.hamlet_id == hamlet_id, Household.merged_into_id.is_(None))
    reached = _db.session.scalar(sa.select(sa.func.count(sa.distinct(Visit.household_id)))
                                 .where(Visit.household_id.in_(mine), Visit.visited_on <= on))
    adopters = dict(_db.session.execute(
        sa.select(VisitService.service_id, sa.func.count(sa.distinct(Visit.household_id)))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(Visit.household_id.in_(mine), Visit.visited_on <= on, VisitService.result == "adopted")
        .group_by(VisitService.service_id)).all())
    return reached, adopters


def _rows(unit, on):
    """The commune page's rows on `on` (today's map): per hamlet, households reached and adopters per service id."""
    from app.coverage import queries
    table = queries.coverage(_db.session.get(AdminUnit, unit.id), on)
    return {r.unit.name: (r.reached, {f.service.id: f.adopted for f in r.services.values() if f.adopted})
            for r in table.rows}, table


def _visit_services(h, on, adopted):
    create_visit(VisitData(h, on, {service_id(code): "adopted" for code in adopted}), uuid.uuid4().hex, None)
    _db.session.commit()


@pytest.mark.parametrize("on", [ON, TODAY], ids=["last-month", "today"])
@pytest.mark.parametrize("change", ["merge", "split"])
def test_a_hamlet_a_merge_or_a_split_made_counts_its_households_earlier_visits_and_the_totals_stay(
        db, tree, client, login_as, runner, change, on):
    """After Khu vực 1 is split (or merged into Khu vực 2), the hamlets that hold its households count their visits
    from before the change too, in the current month and every month after it; the commune, the district and the
    province show exactly what they showed before, the months before the change are as they were, and verify agrees."""
    from app.dates import month_end
    a, b = tree.hamlet, tree.hamlet2
    make_team(tree.commune, [a, b])
    early, late = on - timedelta(days=70), on - timedelta(days=20)
    first = household(a, "Nguyễn Văn An")
    _visit_services(first, early, ["vneid"])
    _visit_services(first, late, ["dvc"])
    second = household(a, "Phạm Thị Hoa")
    _visit_services(second, late, [])
    third = household(a, "Võ Văn Tám")
    _visit_services(third, early, ["vneid", "dvc"])
    _visit_services(third, on, ["e_wallet"])  # on the day of the change: follows the household
    untouched = household(a, "Đỗ Thị Mai")
    kept = household(b, "Lê Văn Cường")
    _visit_services(kept, early, ["vneid"])
    days = sorted({month_end(late.year, late.month), month_end(on.year, on.month), TODAY})
    units = [tree.commune, tree.district, tree.province]
    before = {(u.id, d): _shown(u, d) for u in units for d in days}
    month_before = month_end(late.year, late.month)
    rows_before = _rows(tree.commune, month_before)[0] if month_before < on else None
    login_as("commune", tree.commune)
    if change == "merge":
        data = {"target": str(b.id), "effective_on": on.isoformat(), "households": "", "new_name": ""}
        made = ["Khu vực 2"]
    else:
        data = {"effective_on": on.isoformat(), "name_1": "Khu vực 1A", "count_1": "200", "name_2": "Khu vực 1B",
                "count_2": "120", "name_3": "", "count_3": "", "rest": "1", f"h{third.id}": "2",
                f"h{untouched.id}": "2"}
        made = ["Khu vực 1A", "Khu vực 1B"]
    resp = change_confirmed(client, f"/units/{a.id}/{change}", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    _db.session.expire_all()
    assert {(u.id, d): _shown(u, d) for u in units for d in days} == before
    # Visits recorded after the change, in the current month.
    _visit_services(_db.session.get(Household, third.id), TODAY, ["vneid"])
    _visit_services(_db.session.get(Household, second.id), TODAY, ["e_wallet"])
    ids = dict(_db.session.execute(sa.select(AdminUnit.name, AdminUnit.id)
                                   .where(AdminUnit.parent_id == tree.commune.id)).all())
    for day in [d for d in days if d >= on]:
        rows, table = _rows(tree.commune, day)
        for name in made:
            assert rows[name] == _own_figures(ids[name], day), (name, day)
        assert sorted(rows) == sorted(made + (["Khu vực 2"] if change == "split" else []))
        # The rows add up to the total: nothing is left for an ended hamlet to carry.
        assert sum(r[0] for r in rows.values()) == table.total.reached
        assert table.carried == []
    if rows_before is not None:
        assert _rows(tree.commune, month_before)[0] == rows_before
    assert _verify(runner) == ""
    page = client.get(f"/coverage/{tree.commune.id}").get_data(as_text=True)
    assert parse(page).find(id="carried-note") is None


def test_duplicates_merged_after_a_split_count_once_in_the_new_hamlet_and_verify_agrees(db, tree, runner):
    """Two records of one household, both visited before the split, merged in the hamlet they went to: the new
    hamlet counts the household once, with what either record adopted, and the commune's reach drops by one."""
    from app.households.operations import merge_households
    from app.units import hamlet_changes
    early = ON - timedelta(days=30)
    kept, duplicate, other = (household(tree.hamlet, n) for n in ("Nguyễn Văn An", "Nguyen Van An", "Phạm Thị Hoa"))
    _visit_services(kept, early, ["vneid"])
    _visit_services(duplicate, early - timedelta(days=5), ["dvc"])
    _visit_services(other, early, [])
    halves = [hamlet_changes.Part("Khu vực 1A", 200), hamlet_changes.Part("Khu vực 1B", 120)]
    parts = hamlet_changes.split_hamlet(_db.session.get(AdminUnit, tree.hamlet.id), ON, halves,
                                        {kept.id: 0, duplicate.id: 0, other.id: 1})
    _db.session.commit()
    part = parts[0].id
    merge_households(_db.session.get(Household, duplicate.id), _db.session.get(Household, kept.id))
    _db.session.commit()
    rows, table = _rows(tree.commune, TODAY)
    assert rows["Khu vực 1A"] == _own_figures(part, TODAY) == (1, {service_id("vneid"): 1, service_id("dvc"): 1})
    assert table.total.reached == 2 and table.carried == []
    assert _verify(runner) == ""


def test_a_hamlet_a_split_made_and_then_merged_hands_its_households_earlier_visits_on(db, tree, runner):
    """Khu vực 1 split last month, one of its parts merged into Khu vực 2 today: Khu vực 2 counts the visits its new
    households had in Khu vực 1 and in the part, and the commune's figures never move."""
    from app.units import hamlet_changes
    a, b = tree.hamlet, tree.hamlet2
    first, second = household(a, "Nguyễn Văn An"), household(a, "Phạm Thị Hoa")
    _visit_services(first, ON - timedelta(days=30), ["vneid"])
    _visit_services(second, ON - timedelta(days=20), ["dvc"])
    _visit_services(household(b, "Lê Văn Cường"), ON - timedelta(days=10), ["vneid"])
    before = _shown(tree.commune, TODAY)
    halves = [hamlet_changes.Part("Khu vực 1A", 200), hamlet_changes.Part("Khu vực 1B", 120)]
    parts = hamlet_changes.split_hamlet(_db.session.get(AdminUnit, a.id), ON, halves, {first.id: 0, second.id: 1})
    _db.session.commit()
    _visit_services(_db.session.get(Household, second.id), ON + timedelta(days=2), ["e_wallet"])
    assert _shown(tree.commune, TODAY)[1:] == (before[1], before[2] | {"e_wallet": 1})
    hamlet_changes.merge_hamlets(parts[1], _db.session.get(AdminUnit, b.id), TODAY, 530)
    _db.session.commit()
    rows, table = _rows(tree.commune, TODAY)
    assert sorted(rows) == ["Khu vực 1A", "Khu vực 2"]
    assert rows["Khu vực 2"] == _own_figures(b.id, TODAY) == (2, {service_id("vneid"): 1, service_id("dvc"): 1,
                                                                  service_id("e_wallet"): 1})
    assert rows["Khu vực 1A"] == _own_figures(parts[0].id, TODAY) == (1, {service_id("vneid"): 1})
    assert _shown(tree.commune, TODAY)[1:] == (before[1], before[2] | {"e_wallet": 1})
    assert table.carried == []
    assert _verify(runner) == ""


def test_the_summary_of_a_month_before_a_split_lists_the_hamlet_as_it_was_not_the_parts_to_come(
        db, tree, client, login_as):
    """The month before a split, on today's units: the hamlet that was split, with its visits, and not the new
    hamlets (they did not exist yet, and made the page fail); the page, the printable page and the files alike."""
    from app.units import hamlet_changes
    visited = household(tree.hamlet, "Nguyễn Văn An")
    other = household(tree.hamlet, "Phạm Thị Hoa")
    before = ON - timedelta(days=10)
    _visit_services(visited, before, ["vneid"])
    hamlet_changes.split_hamlet(_db.session.get(AdminUnit, tree.hamlet.id), ON,
                                [hamlet_changes.Part("Khu vực 1A", 200), hamlet_changes.Part("Khu vực 1B", 120)],
                                {visited.id: 0, other.id: 1})
    _db.session.commit()
    login_as("commune", tree.commune)
    month = f"{before.year}-{before.month:02d}"
    base = f"/reports/{tree.commune.id}/monthly"
    page = client.get(f"{base}?month={month}")
    assert page.status_code == 200
    activity = parse(page.get_data(as_text=True)).find(id="part-activity")
    rows = {tr.find(tag="th").text().strip(): tr for tr in activity.find_all("tr") if tr.find(tag="th", scope="row")}
    assert list(rows) == ["Khu vực 1", "Khu vực 2", "Tổng cộng"]
    assert rows["Khu vực 1"].find(tag="td", **{"data-key": "visits"}).text() == "1"
    assert rows["Tổng cộng"].find(tag="td", **{"data-key": "visits"}).text() == "1"
    for url in (f"{base}/print?month={month}", f"{base}.xlsx?month={month}", f"{base}.csv?month={month}"):
        assert client.get(url).status_code == 200, url
    assert "Khu vực 1A" not in client.get(f"{base}.csv?month={month}").data.decode("utf-8-sig")
    # The month of the split lists the new hamlets, and the one it ended no longer.
    html = client.get(f"{base}?month={ON.year}-{ON.month:02d}").get_data(as_text=True)
    assert "Khu vực 1A" in html and "Khu vực 1B" in html


def test_the_trend_as_the_map_was_counts_a_carried_hamlets_earlier_visits_as_the_months_page_does(
        db, tree, client, login_as):
    """A merge recorded before households' moves were leaves Khu vực 1's visits before it on the ended hamlet, which the
    commune's total counts on the map as it was: so does each month of its trend on that map."""
    from app.coverage import maps, queries, store
    from app.dates import month_end
    from app.units import hamlet_changes
    a, b = tree.hamlet, tree.hamlet2
    _visit_services(household(a, "Nguyễn Văn An"), BEFORE, ["vneid"])
    _visit_services(household(a, "Phạm Thị Hoa"), ON - timedelta(days=5), [])
    _visit_services(household(b, "Lê Văn Cường"), AFTER, ["vneid"])
    hamlet_changes.merge_hamlets(_db.session.get(AdminUnit, a.id), _db.session.get(AdminUnit, b.id), ON, 730)
    _db.session.execute(sa.delete(HouseholdMove))
    store.rebuild(_db.session.connection())
    _db.session.commit()
    commune = _db.session.get(AdminUnit, tree.commune.id)
    months = queries.last_months(TODAY.year, TODAY.month, 4)
    trend = maps.series_from_leaves(commune, months)
    assert [m.row for m in maps.series_then(commune, months)] == [m.row for m in trend]
    for (year, month), shown in zip(months, trend, strict=True):
        page = maps.coverage_from_leaves(commune, month_end(year, month)).total
        assert (shown.row.households, shown.row.reached, shown.row.services["vneid"].adopted) == (
            page.households, page.reached, page.services["vneid"].adopted), (year, month)
    assert trend[-1].row.reached == 3


def _visit_by(h, on, adopted, team):
    create_visit(VisitData(h, on, {service_id(code): "adopted" for code in adopted}), uuid.uuid4().hex, team.id)
    _db.session.commit()


def test_a_hamlet_a_split_made_counts_its_teams_earlier_visits_in_their_rows_as_in_its_total(
        db, tree, client, login_as):
    """Khu vực 1's team visited two households before the split, another team one after it: the page of the
    hamlet that took them has each team's row count what its visits did for those households, before the split
    too, so the rows agree with the hamlet's total; the hamlet that took no visited household shows none."""
    from app.coverage import queries
    from app.units import hamlet_changes
    a = tree.hamlet
    team, _m = make_team(tree.commune, [a])
    later, _m2 = make_team(tree.commune, [], name="Tổ CNSCĐ Khu vực 1A")
    first, second, third = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Võ Văn Tám"))
    _visit_by(first, ON - timedelta(days=30), ["vneid"], team)
    _visit_by(second, ON - timedelta(days=20), ["dvc"], team)
    halves = [hamlet_changes.Part("Khu vực 1A", 200), hamlet_changes.Part("Khu vực 1B", 120)]
    parts = hamlet_changes.split_hamlet(_db.session.get(AdminUnit, a.id), ON, halves,
                                        {first.id: 0, second.id: 0, third.id: 1})
    _db.session.commit()
    _visit_by(_db.session.get(Household, second.id), ON + timedelta(days=2), ["e_wallet"], later)
    table = queries.coverage(_db.session.get(AdminUnit, parts[0].id), TODAY)
    assert table.total.reached == 2
    rows = {r.name: (r.reached, {c: f.adopted for c, f in r.services.items() if f.adopted}) for r in table.rows}
    assert rows == {"Tổ CNSCĐ Khu vực 1": (2, {"vneid": 1, "dvc": 1}), "Tổ CNSCĐ Khu vực 1A": (1, {"e_wallet": 1})}
    assert {code: f.adopted for code, f in table.total.services.items() if f.adopted} == {
        "vneid": 1, "dvc": 1, "e_wallet": 1}
    other = queries.coverage(_db.session.get(AdminUnit, parts[1].id), TODAY)
    assert other.total.reached == 0 and all(r.reached == 0 for r in other.rows)
    # Last month, before the split's day: the ended hamlet's rows as they were.
    month_before = queries.coverage(_db.session.get(AdminUnit, a.id), ON - timedelta(days=1))
    assert {r.name: r.reached for r in month_before.rows} == {"Tổ CNSCĐ Khu vực 1": 2}
    login_as("commune", tree.commune)
    page = client.get(f"/coverage/{parts[0].id}").get_data(as_text=True)
    assert "Tổ CNSCĐ Khu vực 1" in page


def test_a_hamlet_ended_by_a_merge_or_a_split_says_where_its_households_went_and_a_retired_one_that_it_was_retired(
        db, tree, client, login_as):
    """On the commune's hamlet list and on each hamlet's page: Khu vực 1, merged into Khu vực 2, links to it; Khu vực 2,
    split into 2A and 2B, links to both; Khu vực Cũ, retired by hand, is "Ngừng sử dụng" (its households left the
    figures) and names no hamlet."""
    from app.units import operations as unit_ops
    a, b = tree.hamlet, tree.hamlet2
    old = unit_ops.create_unit("Khu vực Cũ", "hamlet", _db.session.get(AdminUnit, tree.commune.id))
    _db.session.commit()
    household(b, "Lê Văn Cường")
    login_as("commune", tree.commune)
    day = f"{ON:%d/%m/%Y}"
    assert change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": ON.isoformat(),
                                                             "households": "", "new_name": ""}).status_code == 303
    later = ON + timedelta(days=2)
    assert change_confirmed(client, f"/units/{b.id}/split", {
        "effective_on": later.isoformat(), "name_1": "Khu vực 2A", "count_1": "400", "name_2": "Khu vực 2B",
        "count_2": "330", "name_3": "", "count_3": "", "rest": "1"}).status_code == 303
    assert client.post(f"/units/{old.id}/retire").status_code in (302, 303)
    made = {u.name: u.id for u in _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.name.like("Khu vực 2_")))}

    def links(element):
        return [(x.text(), x.attrs["href"]) for x in element.find_all("a")]

    page = parse(client.get(f"/units/{a.id}").get_data(as_text=True))
    assert page.find(id="ended").text() == f"Đã sáp nhập vào Khu vực 2 từ {day}."
    assert links(page.find(id="ended")) == [("Khu vực 2", f"/units/{b.id}")]
    assert "Ngừng sử dụng" not in page.find(id="main").text()
    page = parse(client.get(f"/units/{b.id}").get_data(as_text=True))
    assert page.find(id="ended").text() == f"Đã chia tách thành Khu vực 2A, Khu vực 2B từ {later:%d/%m/%Y}."
    assert links(page.find(id="ended")) == [("Khu vực 2A", f"/units/{made['Khu vực 2A']}"),
                                            ("Khu vực 2B", f"/units/{made['Khu vực 2B']}")]
    page = parse(client.get(f"/units/{old.id}").get_data(as_text=True))
    assert page.find(id="ended") is None and f"Ngừng sử dụng từ {TODAY:%d/%m/%Y}" in page.find(id="main").text()

    listing = parse(client.get(f"/units/{tree.commune.id}").get_data(as_text=True)).find(id="children")
    rows = {next(r.find_all("td")).find_all("a").__next__().text(): " ".join(next(r.find_all("td")).text().split())
            for r in listing.find_all("tr") if r.find_all("td") and next(r.find_all("td"), None)}
    assert rows["Khu vực 1"] == f"Khu vực 1 (đã sáp nhập vào Khu vực 2 từ {day})"
    assert rows["Khu vực 2"] == f"Khu vực 2 (đã chia tách thành Khu vực 2A, Khu vực 2B từ {later:%d/%m/%Y})"
    assert rows["Khu vực Cũ"] == "Khu vực Cũ ngừng sử dụng"
    row_of_a = next(r for r in listing.find_all("tr") if "Khu vực 1 (" in " ".join(r.text().split()))
    assert links(row_of_a) == [("Khu vực 1", f"/units/{a.id}"), ("Khu vực 2", f"/units/{b.id}")]


def test_the_coverage_page_of_a_merged_hamlet_says_where_its_households_went_and_links_their_coverage(
        db, tree, client, login_as):
    """Khu vực 1, merged into Khu vực 2: its coverage page says so and links to Khu vực 2's, where its figures carry
    on."""
    a, b = tree.hamlet, tree.hamlet2
    login_as("commune", tree.commune)
    assert change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": ON.isoformat(),
                                                             "households": "", "new_name": ""}).status_code == 303
    page = parse(client.get(f"/coverage/{a.id}").get_data(as_text=True))
    assert page.find(id="ended").text() == f"Đã sáp nhập vào Khu vực 2 từ {ON:%d/%m/%Y}."
    links = [(x.text(), x.attrs["href"]) for x in page.find(id="ended").parent.find_all("a")
             if x.text() == "Khu vực 2"]
    assert links and all(href.startswith(f"/coverage/{b.id}") for _, href in links)
    assert "Ngừng sử dụng" not in page.text()


def test_a_closed_month_s_report_keeps_the_names_a_split_hamlet_s_households_went_to(db, tree, client, login_as):
    """A hamlet split during a month is named in that month's report with the hamlets its households went to. Once
    the month is closed its files never change: a part renamed afterwards keeps, in them, the name it had then."""
    fifteenth = ON.replace(day=15)
    household(tree.hamlet, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet.id}/split", {
        "effective_on": fifteenth.isoformat(), "name_1": "Khu vực 1A", "count_1": "200", "name_2": "Khu vực 1B",
        "count_2": "120", "name_3": "", "count_3": "", "rest": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    month = ON.strftime("%Y-%m")
    client.post("/auth/logout")
    login_as("province", tree.province)
    assert client.post("/reports/closing", data={"close-month": month, "close-confirm": month}).status_code == 302
    base = f"/reports/{tree.commune.id}/monthly"
    closed = {ext: client.get(f"{base}.{ext}?month={month}").data for ext in ("xlsx", "csv")}
    assert "Khu vực 1 (đã chia tách thành Khu vực 1A, Khu vực 1B từ" in closed["csv"].decode("utf-8-sig")
    part = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực 1A"))
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    url = f"/units/{part.id}/rename"
    renamed = {"name": "Khu vực Bến Đò", "effective_on": TODAY.isoformat()}
    resp = client.post(url, data=with_version(client, url, renamed))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert _db.session.get(AdminUnit, part.id).name == "Khu vực Bến Đò"
    client.post("/auth/logout")
    login_as("province", tree.province)
    assert {ext: client.get(f"{base}.{ext}?month={month}").data for ext in ("xlsx", "csv")} == closed
