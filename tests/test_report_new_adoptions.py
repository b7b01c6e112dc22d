"""A report's new adoptions of a hamlet after a household moved to another hamlet, by itself, by a merge or by a split:
the services its households began using in the period, each in the hamlet the household belonged to at the period's
end, never below zero; what they used before is no new adoption of the period, though coverage counts it where the
household went. The hamlet rows add up to the commune, whose figures, like the months before, do not change."""
import csv
import io
import json
import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from app.dates import today_vn
from app.extensions import db as _db
from app.households.models import Household
from app.reports.models import MonthClosure
from app.visits.operations import VisitData, create_visit
from tests.html_tree import parse
from tests.test_hamlet_changes import change_confirmed
from tests.visits_helpers import household, service_id

TODAY = today_vn()
ON = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the first of last month
MONTH = ON.strftime("%Y-%m")
QUARTER = f"{ON.year}-Q{(ON.month + 2) // 3}"
# A day of the quarter before last month's: before its month and its quarter alike.
EARLIER = date(ON.year, 3 * ((ON.month - 1) // 3) + 1, 1) - timedelta(days=10)
SHOWN = ("vneid", "dvc", "bank_account")  # the services these tests adopt, in the order the figures are given
NAMES = {"vneid": "Định danh điện tử VNeID mức 2", "dvc": "Tài khoản và hồ sơ dịch vụ công trực tuyến",
         "bank_account": "Tài khoản ngân hàng, ngân hàng số"}


def _day(n: int) -> date:
    return ON + timedelta(days=n - 1)


def _visit(h, on, adopted=()):
    create_visit(VisitData(_db.session.get(Household, h.id), on, {service_id(c): "adopted" for c in adopted}),
                 uuid.uuid4().hex, None)
    _db.session.commit()


def _move(client, h, hamlet, on):
    resp = client.post(f"/households/{h.id}/move", data={"hamlet": str(hamlet.id), "moved_on": on.isoformat()})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]


def _name(text: str) -> str:
    return " ".join(text.split())


def _page(client, url, part="new") -> dict[str, tuple[int, ...]]:
    """A summary page's table of new adoptions (or with part="adopted", of adopting households at the period's end):
    each row's figures of the SHOWN services, by its first cell (the total row as 'Tổng cộng')."""
    resp = client.get(url)
    assert resp.status_code == 200
    table = parse(resp.get_data(as_text=True)).find(id=f"part-{'new' if part == 'new' else 'coverage'}")
    return {_name(tr.find(tag="th").text()): tuple(int(tr.find(**{"data-key": f"{part}:{c}"}).children[0].strip())
                                                   for c in SHOWN)
            for tr in table.find(tag="tbody").find_all("tr")}


def _new_heading(code: str, period: str) -> str:
    return f"{NAMES[code]}: số hộ mới sử dụng trong {'tháng' if period == 'month' else 'quý'}"


def _xlsx(data: bytes, period="month", sheet="Các ấp") -> dict[str, tuple[int, ...]]:
    """The downloaded workbook's sheet read back: each row's new adoptions of the SHOWN services, by unit."""
    rows = list(load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if "Đơn vị" in r)
    unit, columns = rows[header].index("Đơn vị"), [rows[header].index(_new_heading(c, period)) for c in SHOWN]
    return {_name(r[unit]): tuple(r[i] for i in columns) for r in rows[header + 1:]}


def _csv(data: bytes, period="month") -> dict[str, tuple[int, ...]]:
    """The downloaded CSV read back: each line's new adoptions of the SHOWN services, by unit (the commune's as
    'Tổng cộng', the first line)."""
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return {("Tổng cộng" if r["Cấp"] == "Xã" else _name(r["Đơn vị"])):
            tuple(int(r[_new_heading(c, period)]) for c in SHOWN) for r in lines}


def _message(client, url) -> str:
    """The Zalo group message a summary page offers."""
    return parse(client.get(url).get_data(as_text=True)).find(id="summary-message-text").text()


def _every_form(client, unit, want: dict[str, tuple[int, ...]], note: bool = True) -> None:
    """The month's and its quarter's page, printable page, xlsx and csv of the unit all say `want`, on today's map
    and on the map of the month; the page says why a household's adoptions count where it is at the end."""
    base = f"/reports/{unit.id}"
    for period, arg in (("month", f"month={MONTH}"), ("quarter", f"quarter={QUARTER}")):
        page = "monthly" if period == "month" else "quarterly"
        for map_ in ("", "&map=then"):
            assert _page(client, f"{base}/{page}?{arg}{map_}") == want, (period, map_)
        assert _page(client, f"{base}/{page}/print?{arg}") == want, period
        assert _xlsx(client.get(f"{base}/{page}.xlsx?{arg}").data, period) == want, period
        assert _csv(client.get(f"{base}/{page}.csv?{arg}").data, period) == want, period
        shown = parse(client.get(f"{base}/{page}?{arg}").get_data(as_text=True)).find(**{"data-note": "moved-new"})
        if note:
            words = "tháng" if period == "month" else "quý"
            assert _name(shown.text()) == (
                f"Hộ chuyển sang thôn, ấp khác trong {words} (tự chuyển, hoặc do thôn, ấp được sáp nhập, chia tách): "
                f"các dịch vụ hộ mới sử dụng trong {words} được tính ở thôn, ấp mà hộ thuộc về vào cuối {words}; các "
                f"dịch vụ hộ đã sử dụng từ trước {words} không được tính là mới.")
        else:
            assert shown is None


def _verify(runner) -> str:
    _db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    return result.output if result.exit_code else ""


def test_a_household_that_moved_counts_only_the_services_it_began_using_in_the_month_where_it_is_at_its_end(
        db, tree, client, login_as, runner):
    """Last month in Phường I. Earlier, Nguyễn Văn An of Khu vực 1 began using VNeID and Lê Văn Cường of Khu vực 2 a
    bank account. On the 3rd and 4th Phạm Thị Hoa, Trần Văn Tư and Võ Thị Bé of Khu vực 1 began using VNeID. Tư and
    Cường moved on the 6th (Tư to Khu vực 2, Cường to Khu vực 1), An and Hoa to Khu vực 2 on the 10th, Tư back on the
    13th; An began using the public services portal in Khu vực 2 on the 15th. The month's new adoptions: Khu vực 1,
    Tư's and Bé's VNeID; Khu vực 2, Hoa's VNeID and An's portal account; no hamlet below zero, nor anything for An's
    and Cường's earlier services, though coverage counts them where they went."""
    a, b = tree.hamlet, tree.hamlet2
    an, hoa, tu, be = (household(a, n) for n in ("Nguyễn Văn An", "Phạm Thị Hoa", "Trần Văn Tư", "Võ Thị Bé"))
    cuong = household(b, "Lê Văn Cường")
    _visit(an, EARLIER, ["vneid"])
    _visit(cuong, EARLIER, ["bank_account"])
    for h, day in ((hoa, 3), (tu, 3), (be, 4)):
        _visit(h, _day(day), ["vneid"])
    login_as("province", tree.province)
    earlier = f"/reports/{tree.commune.id}/monthly?month={EARLIER:%Y-%m}"
    month_before = _page(client, earlier)
    assert month_before == {"Khu vực 1": (1, 0, 0), "Khu vực 2": (0, 0, 1), "Tổng cộng": (1, 0, 1)}
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    for h, to, day in ((tu, b, 6), (cuong, a, 6), (an, b, 10), (hoa, b, 10), (tu, a, 13)):
        _move(client, h, to, _day(day))
    _visit(an, _day(15), ["dvc"])
    client.post("/auth/logout")
    login_as("province", tree.province)

    want = {"Khu vực 1": (2, 0, 0), "Khu vực 2": (1, 1, 0), "Tổng cộng": (3, 1, 0)}
    _every_form(client, tree.commune, want)
    # Coverage at the month's end counts every household's services where it is then, the earlier ones too.
    month = f"/reports/{tree.commune.id}/monthly?month={MONTH}"
    assert _page(client, month, "adopted") == {"Khu vực 1": (2, 0, 1), "Khu vực 2": (2, 1, 0),
                                               "Tổng cộng": (4, 1, 1)}
    # Above the commune the figures are the commune's, as they were.
    district = _page(client, f"/reports/{tree.district.id}/monthly?month={MONTH}")
    assert district["Phường I"] == district["Tổng cộng"] == (3, 1, 0)
    # The month before is as it was; so is the message of a hamlet's own summary: nothing below zero.
    assert _page(client, earlier) == month_before
    for hamlet, line in ((b, "+ Tài khoản ngân hàng, ngân hàng số: 0,0%"),
                         (a, "+ Định danh điện tử VNeID mức 2: 0,6%, thêm 2 hộ")):
        text = _message(client, f"/reports/{hamlet.id}/monthly?month={MONTH}")
        assert line in text.splitlines() and "thêm -" not in text, text
    assert _verify(runner) == ""


def _ended(name: str, how: str) -> str:
    return f"Khu vực 1 (đã {how} {name} từ {_day(15):%d/%m/%Y})"


def test_a_hamlet_merged_in_the_middle_of_the_month_hands_its_months_new_adoptions_on_and_no_earlier_ones(
        db, tree, client, login_as, runner):
    """Khu vực 1 is merged into Khu vực 2 from the 15th. Nguyễn Văn An began using VNeID there before the month,
    Phạm Thị Hoa on the 3rd; after the merge Lê Văn Cường of Khu vực 2 began using VNeID, An the portal. The month's
    row of Khu vực 1 (its first fourteen days) counts no new adoption, not minus An's and Hoa's; Khu vực 2 counts
    Hoa's, Cường's and An's portal account, not An's VNeID of before; the commune, the same."""
    a, b = tree.hamlet, tree.hamlet2
    an, hoa, cuong = household(a, "Nguyễn Văn An"), household(a, "Phạm Thị Hoa"), household(b, "Lê Văn Cường")
    _visit(an, EARLIER, ["vneid"])
    _visit(hoa, _day(3), ["vneid"])
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{a.id}/merge", {"target": str(b.id), "effective_on": _day(15).isoformat(),
                                                             "households": "", "new_name": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    _visit(cuong, _day(20), ["vneid"])
    _visit(an, _day(20), ["dvc"])
    client.post("/auth/logout")
    login_as("province", tree.province)

    want = {_ended("Khu vực 2", "sáp nhập vào"): (0, 0, 0), "Khu vực 2": (2, 1, 0), "Tổng cộng": (2, 1, 0)}
    _every_form(client, tree.commune, want)
    assert _page(client, f"/reports/{tree.commune.id}/monthly?month={MONTH}", "adopted")["Khu vực 2"] == (3, 1, 0)
    assert _verify(runner) == ""


def test_a_hamlet_split_in_the_middle_of_the_month_counts_its_months_new_adoptions_in_the_parts_they_went_to(
        db, tree, client, login_as, runner):
    """Khu vực 1 is split into Khu vực 1A and 1B from the 15th: Nguyễn Văn An, who began using VNeID before the
    month, goes to 1A, Phạm Thị Hoa, who began on the 3rd, to 1B; Võ Văn Tám, in 1A, begins using the portal on the
    20th. The row of Khu vực 1 counts nothing, 1A Tám's portal account, 1B Hoa's VNeID; An's is no new one."""
    a = tree.hamlet
    an, hoa, tam = household(a, "Nguyễn Văn An"), household(a, "Phạm Thị Hoa"), household(a, "Võ Văn Tám")
    _visit(an, EARLIER, ["vneid"])
    _visit(hoa, _day(3), ["vneid"])
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{a.id}/split", {
        "effective_on": _day(15).isoformat(), "name_1": "Khu vực 1A", "count_1": "200", "name_2": "Khu vực 1B",
        "count_2": "120", "name_3": "", "count_3": "", "rest": "1", f"h{hoa.id}": "2"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    _visit(tam, _day(20), ["dvc"])
    client.post("/auth/logout")
    login_as("province", tree.province)

    want = {_ended("Khu vực 1A, Khu vực 1B", "chia tách thành"): (0, 0, 0), "Khu vực 1A": (0, 1, 0),
            "Khu vực 1B": (1, 0, 0), "Khu vực 2": (0, 0, 0), "Tổng cộng": (1, 1, 0)}
    _every_form(client, tree.commune, want)
    adopted = _page(client, f"/reports/{tree.commune.id}/monthly?month={MONTH}", "adopted")
    assert (adopted["Khu vực 1A"], adopted["Khu vực 1B"]) == ((1, 1, 0), (1, 0, 0))
    assert _verify(runner) == ""


def test_a_month_without_a_move_has_no_note_and_a_closed_month_keeps_what_it_stored(db, tree, client, login_as):
    """The note is for a period a household that had begun using a service moved in. A month closed before new
    adoptions were counted this way keeps its stored figures, below zero as they were, with no note."""
    a, b = tree.hamlet, tree.hamlet2
    an = household(a, "Nguyễn Văn An")
    _visit(an, EARLIER, ["vneid"])
    _visit(household(b, "Lê Văn Cường"), _day(3), ["vneid"])
    login_as("province", tree.province)
    _every_form(client, tree.commune, {"Khu vực 1": (0, 0, 0), "Khu vực 2": (1, 0, 0), "Tổng cộng": (1, 0, 0)},
                note=False)
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    _move(client, an, b, _day(10))
    client.post("/auth/logout")
    login_as("province", tree.province)
    assert client.post("/reports/closing", data={"close-month": MONTH, "close-confirm": MONTH}).status_code == 302
    closure = _db.session.scalar(sa.select(MonthClosure))
    stored = json.loads(closure.snapshot)
    assert stored["figures"][str(a.id)]["new"] == {} and stored["figures"][str(b.id)]["new"] == {"vneid": 1}
    # As a closing before this counting stored it: An's earlier VNeID out of Khu vực 1, into Khu vực 2.
    stored["figures"][str(a.id)]["new"] = {"vneid": -1}
    stored["figures"][str(b.id)]["new"] = {"vneid": 2}
    for unit in (tree.commune, tree.district, tree.province):
        stored["figures"][str(unit.id)].pop("moved_new", None)
    closure.snapshot = json.dumps(stored, ensure_ascii=False, sort_keys=True)
    _db.session.commit()
    base = f"/reports/{tree.commune.id}/monthly"
    assert _page(client, f"{base}?month={MONTH}") == {"Khu vực 1": (-1, 0, 0), "Khu vực 2": (2, 0, 0),
                                                      "Tổng cộng": (1, 0, 0)}
    assert 'data-note="moved-new"' not in client.get(f"{base}?month={MONTH}").get_data(as_text=True)
    files = [client.get(f"{base}.{ext}?month={MONTH}").data for ext in ("xlsx", "csv")]
    assert _xlsx(files[0]) == {"Khu vực 1": (-1, 0, 0), "Khu vực 2": (2, 0, 0), "Tổng cộng": (1, 0, 0)}
    assert [client.get(f"{base}.{ext}?month={MONTH}").data for ext in ("xlsx", "csv")] == files


def test_a_quarters_new_adoption_counts_in_the_hamlet_the_household_belonged_to_at_the_quarters_end(
        db, tree, client, login_as):
    """In the quarter before last month's, Nguyễn Văn An of Khu vực 1 began using VNeID in its first month and moved
    to Khu vực 2 in its second. The first month counts it in Khu vực 1, the second nowhere; the quarter, once, in Khu
    vực 2, where An was at its end."""
    a, b = tree.hamlet, tree.hamlet2
    start = (EARLIER.replace(day=1) - timedelta(days=40)).replace(day=1)
    start = start.replace(month=3 * ((start.month - 1) // 3) + 1)  # the first day of the quarter before ON's
    second = (start + timedelta(days=40)).replace(day=1)
    an = household(a, "Nguyễn Văn An")
    _visit(an, start + timedelta(days=4), ["vneid"])
    login_as("commune", tree.commune)
    _move(client, an, b, second + timedelta(days=9))
    client.post("/auth/logout")
    login_as("province", tree.province)
    base = f"/reports/{tree.commune.id}"
    assert _page(client, f"{base}/monthly?month={start:%Y-%m}") == {
        "Khu vực 1": (1, 0, 0), "Khu vực 2": (0, 0, 0), "Tổng cộng": (1, 0, 0)}
    assert _page(client, f"{base}/monthly?month={second:%Y-%m}") == {
        "Khu vực 1": (0, 0, 0), "Khu vực 2": (0, 0, 0), "Tổng cộng": (0, 0, 0)}
    quarter = f"quarter={start.year}-Q{(start.month + 2) // 3}"
    want = {"Khu vực 1": (0, 0, 0), "Khu vực 2": (1, 0, 0), "Tổng cộng": (1, 0, 0)}
    assert _page(client, f"{base}/quarterly?{quarter}") == want
    assert _xlsx(client.get(f"{base}/quarterly.xlsx?{quarter}").data, "quarter") == want
