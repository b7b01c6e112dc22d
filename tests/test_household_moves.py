"""A commune officer moves one household to another hamlet of the commune from a date: as a merge or a split moves
its households, the household and its visits from that day belong to the new hamlet, its earlier visits count there
from the day, the months before stay as they were, and the commune's figures never move."""
import csv
import io
import json
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.coverage import queries
from app.dates import month_end, today_vn
from app.extensions import db as _db
from app.households.models import Household
from app.reports.models import MonthClosure
from app.units import operations as unit_ops
from app.units.models import AdminUnit, HouseholdMove
from app.visits.models import Visit
from app.visits.operations import VisitData, create_visit
from tests.html_tree import parse
from tests.visits_helpers import household, service_id

TODAY = today_vn()
ON = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the first of last month
BEFORE = ON - timedelta(days=40)
AFTER = ON + timedelta(days=3)


def _visit(h, on, adopted=(), team=None):
    create_visit(VisitData(h, on, {service_id(code): "adopted" for code in adopted}), uuid.uuid4().hex,
                 team.id if team else None)
    _db.session.commit()


def _figures(unit, on):
    """A unit's total on its coverage page: households reached, and adopters of each service adopted."""
    total = queries.coverage(_db.session.get(AdminUnit, unit.id), on).total
    return total.reached, {code: f.adopted for code, f in total.services.items() if f.adopted}


def _verify(runner):
    _db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    return result.output if result.exit_code else ""


def _move(client, h, hamlet, on):
    return client.post(f"/households/{h.id}/move", data={"hamlet": str(hamlet.id), "moved_on": on.isoformat()})


def _days():
    return sorted({month_end(BEFORE.year, BEFORE.month), ON - timedelta(days=1), month_end(ON.year, ON.month), TODAY})


def test_a_household_moved_to_another_hamlet_counts_there_with_its_earlier_visits_from_the_day(
        db, tree, client, login_as, runner):
    """Nguyễn Văn An, visited in Khu vực 1 before the first of last month and after it, moves to Khu vực 2 from that
    day: the visit after it goes with the household; Khu vực 2 counts the household, once, from that day, Khu vực 1
    no longer does, the months before are as they were, and the commune shows what it showed."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    _visit(moved, BEFORE, ["vneid"])
    _visit(moved, AFTER, ["dvc"])
    _visit(household(a, "Phạm Thị Hoa"), BEFORE, ["vneid"])
    _visit(household(b, "Lê Văn Cường"), BEFORE)
    units = [a, b, tree.commune, tree.district, tree.province]
    before = {(u.id, d): _figures(u, d) for u in units for d in _days()}
    login_as("commune", tree.commune)
    page = client.get(f"/households/{moved.id}/move")
    assert page.status_code == 200
    choices = [o.text() for o in parse(page.get_data(as_text=True)).find(id="hamlet").find_all("option")]
    assert choices == ["Chọn thôn, ấp", "Khu vực 2"]
    resp = _move(client, moved, b, ON)
    assert resp.status_code == 303 and f"/households/{moved.id}?" in resp.headers["Location"]
    shown = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Từ ngày {ON.strftime('%d/%m/%Y')}, Nguyễn Văn An thuộc về Khu vực 2." in shown
    _db.session.expire_all()
    assert _db.session.get(Household, moved.id).hamlet_id == b.id
    assert sorted((v.visited_on, v.hamlet_id) for v in _db.session.scalars(
        sa.select(Visit).where(Visit.household_id == moved.id))) == [(BEFORE, a.id), (AFTER, b.id)]
    for d in _days():
        for u in (tree.commune, tree.district, tree.province):
            assert _figures(u, d) == before[u.id, d], (u.name, d)
        if d < ON:
            assert _figures(a, d) == before[a.id, d] and _figures(b, d) == before[b.id, d], d
    assert _figures(a, TODAY) == (1, {"vneid": 1})
    assert _figures(b, TODAY) == (2, {"vneid": 1, "dvc": 1})
    # The month of the move: Khu vực 2's row counts the household once, Khu vực 1's not at all.
    rows = {r.unit.name: r.reached for r in queries.coverage(_db.session.get(AdminUnit, tree.commune.id),
                                                               month_end(ON.year, ON.month)).rows}
    assert rows == {"Khu vực 1": 1, "Khu vực 2": 2}
    assert _verify(runner) == ""
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "move",
                                                           AuditEvent.record_type == "household"))
    assert json.loads(event.changes)["hamlet_id"] == {"before": a.id, "after": b.id}
    client.post("/auth/logout")
    login_as("province", tree.province)
    trail = client.get("/audit/?record_type=household").get_data(as_text=True)
    assert "Đã chuyển hộ Nguyễn Văn An sang thôn, ấp khác" in trail


def test_a_household_moved_to_a_hamlet_registered_before_its_own_counts_in_its_first_hamlet_until_the_day(
        db, tree, client, login_as, runner):
    """Lê Văn Cường of Khu vực 2 moves to Khu vực 1 (registered first): its visit before the move counts in Khu vực 2
    until the day, not in Khu vực 1 from the start, even once the household is visited in Khu vực 1."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(b, "Lê Văn Cường")
    _visit(moved, BEFORE, ["vneid"])
    login_as("commune", tree.commune)
    assert _move(client, moved, a, ON).status_code == 303
    _visit(_db.session.get(Household, moved.id), AFTER, ["dvc"])
    last_day = ON - timedelta(days=1)
    assert _figures(a, last_day) == (0, {}) and _figures(b, last_day) == (1, {"vneid": 1})
    assert _figures(a, TODAY) == (1, {"vneid": 1, "dvc": 1}) and _figures(b, TODAY) == (0, {})
    assert _figures(tree.commune, TODAY) == (1, {"vneid": 1, "dvc": 1})
    assert _verify(runner) == ""


def test_a_household_moved_away_and_back_and_away_again_counts_once_where_it_is(db, tree, client, login_as, runner):
    """Moved to Khu vực 2, back to Khu vực 1 three days later (a mistake), then to Khu vực 2 again today: each move is
    kept, and the household counts once, in the hamlet it is in on each day."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    _visit(moved, BEFORE, ["vneid"])
    login_as("commune", tree.commune)
    assert _move(client, moved, b, ON).status_code == 303
    _visit(_db.session.get(Household, moved.id), ON + timedelta(days=1), ["dvc"])
    assert _move(client, moved, a, ON + timedelta(days=3)).status_code == 303
    _visit(_db.session.get(Household, moved.id), ON + timedelta(days=5), ["e_wallet"])
    assert _move(client, moved, b, TODAY).status_code == 303
    assert _move(client, moved, a, TODAY).status_code == 303
    assert _move(client, moved, b, TODAY).status_code == 303
    everything = (1, {"vneid": 1, "dvc": 1, "e_wallet": 1})
    assert _figures(b, TODAY) == everything and _figures(a, TODAY) == (0, {})
    assert _figures(a, ON + timedelta(days=4)) == (1, {"vneid": 1, "dvc": 1})
    assert _figures(b, ON + timedelta(days=4)) == (0, {})
    assert _figures(tree.commune, TODAY) == everything
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdMove)) >= 5
    assert _verify(runner) == ""


def test_a_move_is_refused_beside_the_field_with_what_was_typed(db, tree, client, login_as):
    """Another commune's hamlet, the household's own, a date to come, a closed month or a day before its last move:
    each is refused (400) with the reason beside the field, the choices kept, nothing moved."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    cases = [
        (tree.other_hamlet, ON, "hamlet", "Hãy chọn một thôn, ấp khác đang hoạt động của xã này."),
        (a, ON, "hamlet", "Hộ đã thuộc thôn, ấp này."),
        (b, TODAY + timedelta(days=2), "moved_on", "Thay đổi phải đã có hiệu lực"),
    ]
    for hamlet, on, where, message in cases:
        resp = _move(client, moved, hamlet, on)
        assert resp.status_code == 400, (hamlet.name, on)
        box = parse(resp.get_data(as_text=True)).find(id=f"{where}-error")
        assert box is not None and message in box.text(), resp.get_data(as_text=True)[:3000]
        assert parse(resp.get_data(as_text=True)).find(id="moved_on").attrs["value"] == on.isoformat()
    resp = client.post(f"/households/{moved.id}/move", data={"hamlet": "", "moved_on": "31/02/2026"})
    assert resp.status_code == 400
    page = parse(resp.get_data(as_text=True))
    assert "Hãy chọn thôn, ấp mà hộ chuyển đến." in page.find(id="hamlet-error").text()
    assert page.find(id="moved_on-error") is not None
    _db.session.add(MonthClosure(province_id=tree.province.id, year=ON.year, month=ON.month))
    _db.session.commit()
    resp = _move(client, moved, b, ON)
    assert resp.status_code == 400 and "đã khóa" in parse(resp.get_data(as_text=True)).find(
        id="moved_on-error").text()
    assert _move(client, moved, b, TODAY).status_code == 303
    resp = _move(client, moved, a, TODAY - timedelta(days=1))
    assert resp.status_code == 400
    assert (f"Hộ này chuyển thôn, ấp lần gần nhất vào ngày {TODAY.strftime('%d/%m/%Y')}"
            in parse(resp.get_data(as_text=True)).find(id="moved_on-error").text())
    _db.session.expire_all()
    assert _db.session.get(Household, moved.id).hamlet_id == b.id


def test_only_the_commune_officer_moves_a_household_and_only_within_their_commune(db, tree, leader, client,
                                                                                  login_as):
    """A team leader edits a household's details but does not move it (403, no button); an officer of another
    commune does not find it (404)."""
    moved = household(tree.hamlet, "Nguyễn Văn An")
    assert leader.get(f"/households/{moved.id}/edit").status_code == 200
    assert leader.get(f"/households/{moved.id}/move").status_code == 403
    assert _move(leader, moved, tree.hamlet2, TODAY).status_code == 403
    assert f"/households/{moved.id}/move" not in leader.get(f"/households/{moved.id}").get_data(as_text=True)
    login_as("commune", tree.other_commune)
    assert client.get(f"/households/{moved.id}/move").status_code == 404
    assert _move(client, moved, tree.hamlet2, TODAY).status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Household, moved.id).hamlet_id == tree.hamlet.id
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    assert f"/households/{moved.id}/move" in client.get(f"/households/{moved.id}").get_data(as_text=True)


def test_the_page_after_a_move_says_what_moved_and_offers_the_same_form_filled_in_to_move_it_back(
        db, tree, client, login_as, runner):
    """Nguyễn Văn An, tapped into Khu vực 2 by mistake: the page after the move says its 2 visits from the day went with
    it, and its button opens the move form with Khu vực 1 and the same day filled in; sent, the household is back
    and the figures are as before."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    _visit(moved, BEFORE, ["vneid"])
    _visit(moved, AFTER, ["dvc"])
    _visit(moved, AFTER + timedelta(days=1))
    before = {u.id: _figures(u, TODAY) for u in (a, b, tree.commune)}
    login_as("commune", tree.commune)
    resp = _move(client, moved, b, ON)
    assert resp.status_code == 303
    page = parse(client.get(resp.headers["Location"]).get_data(as_text=True))
    notice = page.find(id="move-done")
    day = ON.strftime("%d/%m/%Y")
    assert f"Từ ngày {day}, Nguyễn Văn An thuộc về Khu vực 2." in notice.text()
    assert "2 lượt hướng dẫn của hộ từ ngày đó đã chuyển theo hộ" in notice.text()
    back = next(notice.find_all("a"))
    assert back.text() == "Chuyển hộ về lại Khu vực 1"
    form = parse(client.get(back.attrs["href"]).get_data(as_text=True))
    assert [o.text() for o in form.find(id="hamlet").find_all("option") if "selected" in o.attrs] == ["Khu vực 1"]
    assert form.find(id="moved_on").attrs["value"] == ON.isoformat()
    resp = _move(client, moved, a, ON)
    assert resp.status_code == 303
    notice = parse(client.get(resp.headers["Location"]).get_data(as_text=True)).find(id="move-done")
    assert f"Từ ngày {day}, Nguyễn Văn An thuộc về Khu vực 1." in notice.text()
    assert next(notice.find_all("a")).text() == "Chuyển hộ về lại Khu vực 2"
    _db.session.expire_all()
    assert _db.session.get(Household, moved.id).hamlet_id == a.id
    assert {u.id: _figures(u, TODAY) for u in (a, b, tree.commune)} == before
    assert _verify(runner) == ""


def test_the_page_after_a_move_tells_it_only_while_it_holds_and_only_to_the_commune_officer(
        db, tree, client, leader, login_as):
    """A move with no visit after its day says so; the same link once the household moved on, a made-up one, or
    opened by a team leader says nothing of a move."""
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    link = _move(client, moved, b, TODAY).headers["Location"]
    notice = parse(client.get(link).get_data(as_text=True)).find(id="move-done")
    assert "Hộ không có lượt hướng dẫn nào từ ngày đó" in notice.text()
    assert 'id="move-done"' not in leader.get(link).get_data(as_text=True)
    for made_up in (f"/households/{moved.id}?moved_from={tree.other_hamlet.id}&moved_on={TODAY.isoformat()}",
                    f"/households/{moved.id}?moved_from={a.id}&moved_on=2026-02-31",
                    f"/households/{moved.id}?moved_from=x&moved_on={BEFORE.isoformat()}"):
        resp = client.get(made_up)
        assert resp.status_code == 200 and 'id="move-done"' not in resp.get_data(as_text=True), made_up
    assert _move(client, moved, a, TODAY).status_code == 303
    assert 'id="move-done"' not in client.get(link).get_data(as_text=True)


def test_a_move_rereads_the_household_under_its_lock_so_a_merge_committed_meanwhile_is_not_undone(db, tree):
    """The move form read Nguyễn Văn An in Khu vực 1; before the move takes the household's lock, another officer's
    merge of Khu vực 1 into Khu vực 2 is committed. The move is checked on what holds under the lock: the household
    leaves Khu vực 2, where the merge took it, not the ended Khu vực 1."""
    from sqlalchemy.orm.attributes import set_committed_value

    from app.units import hamlet_changes
    a, b = tree.hamlet, tree.hamlet2
    c = unit_ops.create_unit("Khu vực 3", "hamlet", _db.session.get(AdminUnit, tree.commune.id))
    _db.session.commit()
    moved = household(a, "Nguyễn Văn An")
    hamlet_changes.merge_hamlets(_db.session.get(AdminUnit, a.id), _db.session.get(AdminUnit, b.id),
                                 ON + timedelta(days=1), 5)
    _db.session.commit()
    # The copies the form was given, read before the merge.
    stale, old_hamlet = _db.session.get(Household, moved.id), _db.session.get(AdminUnit, a.id)
    set_committed_value(old_hamlet, "retired_on", None)
    set_committed_value(stale, "hamlet_id", a.id)
    set_committed_value(stale, "hamlet", old_hamlet)
    assert hamlet_changes.move_household(stale, _db.session.get(AdminUnit, c.id), TODAY).id == b.id
    _db.session.commit()
    moves = _db.session.execute(sa.select(HouseholdMove.from_hamlet_id, HouseholdMove.to_hamlet_id).where(
        HouseholdMove.household_id == moved.id, HouseholdMove.moved_on == TODAY)).all()
    assert {m.from_hamlet_id for m in moves} == {b.id} and {m.to_hamlet_id for m in moves} == {c.id}
    assert _db.session.get(Household, moved.id).hamlet_id == c.id


def test_a_move_into_a_hamlet_split_since_the_form_was_opened_says_where_its_households_went(db, tree, client,
                                                                                             login_as):
    """The move form listed Khu vực 2; another officer split it before the form was sent. The form comes back (409)
    saying which hamlets Khu vực 2 was split into and from when, the day as typed, those hamlets offered instead;
    nothing moved. A hamlet of another commune that ended is not named: it is refused as any hamlet outside the
    commune is (400)."""
    from app.units import hamlet_changes
    a, b = tree.hamlet, tree.hamlet2
    moved = household(a, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    assert client.get(f"/households/{moved.id}/move").status_code == 200
    hamlet_changes.split_hamlet(_db.session.get(AdminUnit, b.id), TODAY,
                                [hamlet_changes.Part("Khu vực 2A", 200), hamlet_changes.Part("Khu vực 2B", 210)], {})
    far = unit_ops.create_unit("Ấp Nhơn Thuận", "hamlet", _db.session.get(AdminUnit, tree.other_commune.id))
    hamlet_changes.merge_hamlets(far, _db.session.get(AdminUnit, tree.other_hamlet.id), TODAY, 530)
    _db.session.commit()
    resp = _move(client, moved, b, ON)
    assert resp.status_code == 409
    page = parse(resp.get_data(as_text=True))
    assert (f"Khu vực 2 đã được chia tách thành Khu vực 2A, Khu vực 2B từ ngày {TODAY.strftime('%d/%m/%Y')}: hãy "
            "chọn lại thôn, ấp mà hộ chuyển đến." in page.find(id="hamlet-error").text())
    assert [o.text() for o in page.find(id="hamlet").find_all("option")] == ["Chọn thôn, ấp", "Khu vực 2A",
                                                                              "Khu vực 2B"]
    assert page.find(id="moved_on").attrs["value"] == ON.isoformat()
    resp = _move(client, moved, far, ON)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Hãy chọn một thôn, ấp khác đang hoạt động của xã này." in parse(html).find(id="hamlet-error").text()
    assert "Nhơn" not in html
    _db.session.expire_all()
    assert _db.session.get(Household, moved.id).hamlet_id == a.id
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdMove)) == 0


# --- The month's report: a household that moved counts once, in the hamlet it was in at the month's end ----------

REACHED = "Số hộ được hướng dẫn trong tháng"


def _moved_in_the_month(tree, client, login_as):
    """Last month in Phường I: Nguyễn Văn An visited in Khu vực 1, moved to Khu vực 2 on the 6th and visited there;
    Phạm Thị Hoa visited in Khu vực 1, moved to Khu vực 2 on the 11th, not visited since; Trần Văn Tư visited in Khu
    vực 1, moved to Khu vực 2 on the 7th, visited there, moved back on the 13th; Võ Thị Bé of Khu vực 1 and Lê Văn
    Cường of Khu vực 2 visited and never moved. Seven visits of five households."""
    a, b = tree.hamlet, tree.hamlet2
    an, hoa, tu, be = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Trần Văn Tư", "Võ Thị Bé"))
    for h, day in ((an, 1), (an, 8), (hoa, 2), (tu, 2), (tu, 7), (be, 3)):
        _visit(_db.session.get(Household, h.id), ON + timedelta(days=day), ["vneid"])
    _visit(household(b, "Lê Văn Cường"), ON + timedelta(days=4))
    login_as("commune", tree.commune)
    for h, to, day in ((an, b, 5), (tu, b, 6), (hoa, b, 10), (tu, a, 12)):
        assert _move(client, h, to, ON + timedelta(days=day)).status_code == 303
    client.post("/auth/logout")
    return an


def _page_rows(client, url) -> dict[str, tuple[int, int]]:
    """The activity table of a summary page: each row's visits and households reached, by its first cell."""
    table = parse(client.get(url).get_data(as_text=True)).find(id="part-activity").find(tag="table")
    return {tr.find(tag="th").text(): (int(tr.find(**{"data-key": "visits"}).text()),
                                       int(tr.find(**{"data-key": "reached_month"}).text()))
            for tr in table.find(tag="tbody").find_all("tr")}


def _xlsx_rows(data: bytes, sheet: str, reached: str = REACHED) -> dict[str, int]:
    """A sheet of the downloaded workbook, read back: households reached by unit (the total row as 'Tổng cộng')."""
    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(data))[sheet].iter_rows(min_row=4, values_only=True))
    unit, column = rows[0].index("Đơn vị"), rows[0].index(reached)
    return {r[unit]: r[column] for r in rows[1:]}


def _csv_rows(data: bytes, reached: str = REACHED) -> dict[tuple[str, str], int]:
    """The downloaded CSV, read back: households reached by (level, unit)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    level, unit, column = rows[0].index("Cấp"), rows[0].index("Đơn vị"), rows[0].index(reached)
    return {(r[level], r[unit]): int(r[column]) for r in rows[1:]}


def test_a_household_moved_during_the_month_counts_once_in_the_hamlet_it_is_in_at_the_months_end(
        db, tree, client, login_as):
    """The commune's report of last month: each household reached counts in one hamlet's row, the one it belonged to
    at the month's end (An and Hoa in Khu vực 2, Tư back in Khu vực 1), so the rows add up to the commune's five
    households, as the district and the province count them; the visits stay where they were made. The page says
    why, and the xlsx and csv say the same figures."""
    _moved_in_the_month(tree, client, login_as)
    login_as("province", tree.province)
    month = ON.strftime("%Y-%m")
    base = f"/reports/{tree.commune.id}/monthly"
    want = {"Khu vực 1": (4, 2), "Khu vực 2": (3, 3), "Tổng cộng": (7, 5)}
    assert _page_rows(client, f"{base}?month={month}") == want
    assert _page_rows(client, f"{base}?month={month}&map=then") == want
    note = parse(client.get(f"{base}?month={month}").get_data(as_text=True)).find(**{"data-note": "moved"})
    assert " ".join(note.text().split()) == (
        "3 hộ chuyển sang thôn, ấp khác trong tháng: mỗi hộ chỉ được tính một lần vào số hộ được hướng dẫn, ở thôn, "
        "ấp mà hộ thuộc về vào cuối tháng; các lượt hướng dẫn vẫn tính ở thôn, ấp nơi thực hiện.")
    reached = {name: r for name, (_v, r) in want.items()}
    assert _xlsx_rows(client.get(f"{base}.xlsx?month={month}").data, "Các ấp") == reached
    assert _csv_rows(client.get(f"{base}.csv?month={month}").data) == {
        ("Xã", "Phường I"): 5, ("Ấp", "Khu vực 1"): 2, ("Ấp", "Khu vực 2"): 3}
    # Above the commune nothing is counted twice either.
    assert _page_rows(client, f"/reports/{tree.district.id}/monthly?month={month}") == {
        "Phường I": (7, 5), "Phường III": (0, 0), "Tổng cộng": (7, 5)}
    province = _page_rows(client, f"/reports/{tree.province.id}/monthly?month={month}")
    assert province["Thành phố Vị Thanh"] == (7, 5) and province["Tổng cộng"] == (7, 5)
    assert 'data-note="moved"' not in client.get(f"/reports/{tree.district.id}/monthly?month={month}").get_data(
        as_text=True)
    # The quarter holding the month counts them the same way.
    quarter = f"{ON.year}-Q{(ON.month + 2) // 3}"
    rows = _page_rows(client, f"/reports/{tree.commune.id}/quarterly?quarter={quarter}")
    assert rows["Khu vực 1"][1] + rows["Khu vực 2"][1] == rows["Tổng cộng"][1] == 5
    assert rows["Khu vực 1"][1] == 2


def test_a_closed_months_report_keeps_the_figures_it_was_closed_with(db, tree, client, login_as):
    """A month closed before households were counted once (its snapshot counts An, Hoa and Tư in both hamlets' rows)
    keeps what was stored: the same rows, no note, the same files byte for byte after a move made since."""
    from app.reports.models import MonthClosure
    an = _moved_in_the_month(tree, client, login_as)
    login_as("province", tree.province)
    month = ON.strftime("%Y-%m")
    assert client.post("/reports/closing", data={"close-month": month, "close-confirm": month}).status_code == 302
    closure = _db.session.scalar(sa.select(MonthClosure))
    # As a closing before this counting stored it: each hamlet's row its own count, the commune theirs added up.
    stored = json.loads(closure.snapshot)
    for unit, n in ((tree.hamlet, 4), (tree.hamlet2, 3), (tree.commune, 7), (tree.district, 7), (tree.province, 7)):
        stored["figures"][str(unit.id)]["reached_month"] = n
        stored["figures"][str(unit.id)].pop("moved_households", None)
    closure.snapshot = json.dumps(stored, ensure_ascii=False, sort_keys=True)
    _db.session.commit()
    base = f"/reports/{tree.commune.id}/monthly"
    page = client.get(f"{base}?month={month}").get_data(as_text=True)
    assert 'data-note="moved"' not in page
    assert _page_rows(client, f"{base}?month={month}") == {
        "Khu vực 1": (4, 4), "Khu vực 2": (3, 3), "Tổng cộng": (7, 7)}
    files = [client.get(f"{base}.{ext}?month={month}").data for ext in ("xlsx", "csv")]
    assert _xlsx_rows(files[0], "Các ấp") == {"Khu vực 1": 4, "Khu vực 2": 3, "Tổng cộng": 7}
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    assert _move(client, _db.session.get(Household, an.id), tree.hamlet, TODAY).status_code == 303
    client.post("/auth/logout")
    login_as("province", tree.province)
    assert [client.get(f"{base}.{ext}?month={month}").data for ext in ("xlsx", "csv")] == files


def test_the_note_on_households_that_moved_says_one_household_in_english(app):
    """English has a singular: "1 household moved", not "1 households"; Vietnamese has one form."""
    from flask_babel import force_locale

    from app.reports.periods import Period
    with app.test_request_context(), force_locale("en"):
        for kind in ("month", "quarter"):
            moved = Period.words_of(kind)["moved"]
            assert str(moved(1, "1")).startswith("1 household moved to another hamlet during the ")
            assert "it counts once" in str(moved(1, "1"))
            assert str(moved(2, "2")).startswith("2 households moved")
    with app.test_request_context(), force_locale("vi"):
        assert str(Period.words_of("month")["moved"](1, "1")).startswith("1 hộ chuyển sang thôn, ấp khác trong tháng")
