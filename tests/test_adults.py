"""Adult populations (aged 15 and over): kept hamlet by hamlet like household counts, rolled up, audited."""
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.coverage.adults import adults_by_unit
from app.dates import today_vn
from app.units import operations as unit_ops
from app.units.models import AdultCount
from tests.form_versions import with_version


def test_an_officer_sets_a_hamlets_adults_and_the_commune_shows_the_sum(client, db, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "1.021",
                           "adults-effective_on": "2025-01-01"}))
    assert resp.status_code == 302
    client.post(f"/units/{tree.hamlet2.id}/adults", data=with_version(
        client, f"/units/{tree.hamlet2.id}", {"adults-adults": "800", "adults-effective_on": "2025-01-01"}))
    page = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "1.821" in page  # 1,021 + 800, in Vietnamese digits
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "set_adults",
                                                          AuditEvent.record_id == tree.hamlet.id))
    assert event is not None and '"after": 1021' in event.changes


def test_a_bad_adult_count_is_refused_beside_the_field_and_nothing_is_saved(client, db, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "-5",
                           "adults-effective_on": "2025-01-01"}))
    assert resp.status_code == 400
    assert "Số người trưởng thành phải là số nguyên từ 0 đến" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0



def test_the_largest_adult_count_is_a_hundred_million_and_one_more_is_refused(client, db, tree, login_as):
    # Vietnam has about 80 million adults: no unit counts more than 100,000,000 (app/rules.py, ADULTS_MAX).
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "100.000.001",
                           "adults-effective_on": "2025-01-01"}))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Số người trưởng thành phải là số nguyên từ 0 đến 100.000.000" in html
    assert 'value="100.000.001"' in html  # what was typed stays in the field
    assert db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0
    # Far more than one hamlet holds, it is asked about first (far_from_other_hamlets), and saved when confirmed.
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "100.000.000",
                           "adults-effective_on": "2025-01-01",
                             "adults-confirm": "100000000"}))
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(AdultCount.adults)) == 100_000_000

def test_adults_roll_up_as_the_latest_count_in_effect_per_leaf(db, tree):
    unit_ops.set_adult_count(tree.hamlet, 1000, date(2024, 1, 1))
    unit_ops.set_adult_count(tree.hamlet, 1100, date(2025, 1, 1))
    unit_ops.set_adult_count(tree.hamlet2, 700, date(2024, 6, 1))
    unit_ops.set_adult_count(tree.other_hamlet, 900, date(2024, 1, 1))
    unit_ops.retire_unit(tree.hamlet2, date(2025, 3, 1))
    db.session.commit()
    on = adults_by_unit([tree.commune, tree.province], date(2024, 12, 31))
    assert on == {tree.commune.id: 1700, tree.province.id: 2600}
    later = adults_by_unit([tree.commune, tree.province], date(2025, 6, 30))
    # hamlet2 retired on 1 March 2025: no longer counted in its commune.
    assert later == {tree.commune.id: 1100, tree.province.id: 2000}


def test_an_upload_previews_then_saves_every_hamlets_adults(client, db, tree, login_as):
    login_as("commune", tree.commune)
    csv = "Tên ấp,Số người từ 15 tuổi,Ngày hiệu lực\nKhu vuc 1,950,01/01/2025\nKhu vực 2,\"1.200\",01/01/2025\n"
    resp = client.post(f"/units/{tree.commune.id}/adults/import",
                       data={"file": (io.BytesIO(csv.encode()), "adults.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0  # a preview saves nothing
    import html
    import re
    payload = html.unescape(re.search(r'name="payload"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1))
    done = client.post(f"/units/{tree.commune.id}/adults/import/confirm", data={"payload": payload})
    assert done.status_code == 302
    assert "Đã lưu số người trưởng thành của 2 ấp." in client.get(done.location).get_data(as_text=True)
    assert adults_by_unit([tree.commune], date(2025, 2, 1)) == {tree.commune.id: 2150}


def test_an_upload_naming_an_unknown_hamlet_saves_nothing(client, db, tree, login_as):
    login_as("commune", tree.commune)
    csv = "Tên ấp,Số người từ 15 tuổi\nKhu vực 1,950\nẤp Không Có,300\n"
    resp = client.post(f"/units/{tree.commune.id}/adults/import",
                       data={"file": (io.BytesIO(csv.encode()), "adults.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Ấp Không Có" in resp.get_data(as_text=True) and 'name="payload"' not in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0


def test_an_upload_dated_today_is_taken_and_one_dated_tomorrow_is_refused_by_line(db, tree):
    from app.dates import today_vn
    from app.units.adult_import import parse_adults
    today = today_vn()
    csv = ("Tên ấp,Số người từ 15 tuổi,Ngày hiệu lực\n"
           f"Khu vực 1,950,{today:%d/%m/%Y}\nKhu vực 2,800,{today + timedelta(days=1):%d/%m/%Y}\n")
    first, second = parse_adults("adults.csv", csv.encode(), tree.commune, today)
    assert first.errors == [] and first.effective_on == today
    assert [str(e) for e in second.errors] == ["The effective date is in the future."] and second.line == 3


def test_an_adult_population_below_the_hamlets_named_learners_is_saved_with_a_warning(client, db, tree, login_as):
    from tests import adult_world
    adult_world.build(tree)  # Khu vực 1: 3 named learners live there
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "2",
                           "adults-effective_on": today_vn().isoformat(),
                             "adults-confirm": "2"}),  # far below the count before: asked, and confirmed
                       follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "có 2 người trưởng thành theo số liệu nhưng có 3 học viên có tên" in page
    assert adults_by_unit([tree.hamlet], today_vn()) == {tree.hamlet.id: 2}  # warned, not refused
    resp = client.post(f"/units/{tree.hamlet.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"adults-adults": "3",
                           "adults-effective_on": today_vn().isoformat(),
                             "adults-confirm": "3"}),
                       follow_redirects=True)
    assert "học viên có tên sống ở đó" not in resp.get_data(as_text=True)
    # Khu vực 2 has one named learner: 2 adults there is no cause for a warning (the learners of
    # other hamlets are not its own).
    resp = client.post(f"/units/{tree.hamlet2.id}/adults",
                       data=with_version(
                           client, f"/units/{tree.hamlet2.id}", {"adults-adults": "2",
                           "adults-effective_on": today_vn().isoformat(),
                             "adults-confirm": "2"}),
                       follow_redirects=True)
    assert resp.status_code == 200 and "học viên có tên sống ở đó" not in resp.get_data(as_text=True)


def test_each_problem_of_an_adult_upload_is_told_on_its_line_and_nothing_with_one_is_saved(db, tree):
    from app.units.adult_import import apply_adults, parse_adults
    for name in ("Ấp Ba", "Ấp Bốn", "Ấp Năm"):
        unit_ops.create_unit(name, "hamlet", tree.commune)
    old = unit_ops.create_unit("Ấp Cũ", "hamlet", tree.commune)
    unit_ops.retire_unit(old, date(2024, 6, 1))
    db.session.commit()
    csv = ("Tên ấp,Số người từ 15 tuổi,Ngày hiệu lực\n"
           ",100,01/01/2025\n"
           "Khu vực 1,950,01/01/2025\n"
           "khu vuc 1,960,01/01/2025\n"
           "Khu vực 2,,01/01/2025\n"
           "Ấp Ba,một trăm,01/01/2025\n"
           "Ấp Bốn,300,ngày đầu năm\n"
           "Ấp Cũ,300,01/01/2025\n"
           "Ấp Năm,420,\n")
    rows = parse_adults("adults.csv", csv.encode(), tree.commune, date(2025, 3, 1))
    errors = {r.line: [str(e) for e in r.errors] for r in rows}
    assert errors[2] == ["The hamlet's name is missing."]
    assert errors[3] == [] and rows[1].adults == 950 and rows[1].hamlet_id == tree.hamlet.id
    assert errors[4] == ["khu vuc 1 appears twice in the file (line 3)."]
    assert errors[5] == ["The number of adults is missing."]
    assert len(errors[6]) == 1 and "một trăm" not in errors[6][0]
    assert errors[7] == ["The effective date is not a date (use 23/05/2024 or 2024-05-23)."]
    assert errors[8] == ["Ấp Cũ was in effect until May 31, 2024: a count for it takes a date up to that day."]
    assert errors[9] == [] and rows[-1].effective_on == date(2025, 3, 1)  # no date: in effect from the upload's day
    with pytest.raises(ValueError):
        apply_adults(rows, tree.commune)
    assert db.session.scalar(sa.select(sa.func.count(AdultCount.id))) == 0


def _upload_adults(client, commune_id, text):
    return client.post(f"/units/{commune_id}/adults/import",
                       data={"file": (io.BytesIO(text.encode("utf-8-sig")), "adults.csv")},
                       content_type="multipart/form-data")


def test_an_adult_upload_shows_each_hamlets_figure_before_and_leaves_out_a_slip_unless_ticked(
        client, db, tree, login_as):
    """Khu vực 1 had 900 adults and the file says 9.000 (a zero typed twice); Ấp Ba, with none before, 12.000
    beside hamlets of about 900 (Khu vực 1 and 2 as they are, and Ấp Bốn's first figure in the file). The preview
    shows "900 → 9.000" and asks about those two rows; confirmed as it is, the others are saved and those two
    left out, which the messages say; uploaded again with the box ticked, they are saved."""
    from tests.html_tree import parse
    ba, bon = unit_ops.create_unit("Ấp Ba", "hamlet", tree.commune), unit_ops.create_unit("Ấp Bốn", "hamlet",
                                                                                           tree.commune)
    unit_ops.set_adult_count(tree.hamlet, 900, date(2024, 1, 1))
    unit_ops.set_adult_count(tree.hamlet2, 1000, date(2024, 1, 1))
    db.session.commit()
    login_as("commune", tree.commune)
    sheet = "Tên ấp;Số người từ 15 tuổi\nKhu vực 1;9.000\nKhu vực 2;1.100\nẤp Ba;12.000\nẤp Bốn;800\n"

    def preview():
        resp = _upload_adults(client, tree.commune.id, sheet)
        assert resp.status_code == 200
        return parse(resp.get_data(as_text=True))

    def cells(tr):
        return [td.text() for td in tr.find_all("td")]

    page = preview()
    # Line, hamlet, adults, in effect from: no Result column (every row updates its hamlet), for a phone's width.
    rows = [cells(tr) for tr in page.find_all("tr") if len(cells(tr)) == 4]
    assert {r[1]: r[2] for r in rows} == {"Khu vực 1": "900 → 9.000", "Khu vực 2": "1.000 → 1.100",
                                          "Ấp Ba": "12.000", "Ấp Bốn": "800"}
    assert [cells(tr)[1] for tr in page.find_all("tr") if "flagged" in tr.classes()] == ["Khu vực 1", "Ấp Ba"]
    questions = " ".join(tr.text() for tr in page.find_all("tr") if "flag" in tr.classes())
    assert "9.000 khác xa số người trưởng thành trước đó, 900" in questions
    assert "12.000 người trưởng thành khác xa các ấp khác của xã (khoảng 900 người mỗi ấp)" in questions
    assert "2 dòng có số người trưởng thành cần kiểm tra" in page.text()
    payload = page.find(name="payload").attrs["value"]
    done = client.post(f"/units/{tree.commune.id}/adults/import/confirm", data={"payload": payload},
                       follow_redirects=True)
    assert "Đã lưu số người trưởng thành của 2 ấp." in done.get_data(as_text=True)
    assert "2 dòng có số người trưởng thành cần kiểm tra chưa được lưu" in done.get_data(as_text=True)
    today = today_vn()
    assert adults_by_unit([tree.hamlet, tree.hamlet2, ba, bon], today) == {
        tree.hamlet.id: 900, tree.hamlet2.id: 1100, ba.id: 0, bon.id: 800}
    # Checked, and right after all: uploaded again, the box ticked.
    page = preview()
    resp = client.post(f"/units/{tree.commune.id}/adults/import/confirm",
                       data={"payload": page.find(name="payload").attrs["value"], "take_flagged": "y"})
    assert resp.status_code == 302
    assert adults_by_unit([tree.hamlet, ba], today) == {tree.hamlet.id: 9000, ba.id: 12000}


def test_a_hamlets_first_adult_population_far_from_the_other_hamlets_is_asked_about_then_saved_when_sent_again(
        client, db, tree, login_as):
    """Khu vực 1 has 900 adults: Khu vực 2's first figure of 9.500 (or 80) comes back with the question beside the
    number and nothing saved; sent again, it is saved. 1.050 is saved at once. With no other hamlet counted, a
    hamlet has a thousand adults or so: 60.000 is asked about, 4.000 is not."""
    from tests.html_tree import parse
    unit_ops.set_adult_count(tree.hamlet, 900, date(2024, 1, 1))
    db.session.commit()
    login_as("commune", tree.commune)
    url = f"/units/{tree.hamlet2.id}/adults"
    for typed, shown in (("9500", "9.500"), ("80", "80")):
        resp = client.post(url, data=with_version(
            client, f"/units/{tree.hamlet2.id}", {"adults-adults": typed, "adults-effective_on": "2025-01-01"}))
        page = parse(resp.get_data(as_text=True))
        assert resp.status_code == 409, typed
        error = page.find(id="adults-adults-error")
        assert f"{shown} người trưởng thành khác xa các ấp khác của xã (khoảng 900 người mỗi ấp)" in error.text()
        assert "Nếu vẫn đúng, bấm lưu lần nữa." in error.text()
        assert page.find(name="adults-adults").attrs["value"] == typed
        assert adults_by_unit([tree.hamlet2], date(2025, 1, 1)) == {tree.hamlet2.id: 0}
    resp = client.post(url, data=with_version(
        client, f"/units/{tree.hamlet2.id}", {"adults-adults": "9500", "adults-effective_on": "2025-01-01",
                                  "adults-confirm": "9500"}))
    assert resp.status_code == 302 and adults_by_unit([tree.hamlet2], date(2025, 1, 1)) == {tree.hamlet2.id: 9500}
    new = unit_ops.create_unit("Ấp Mới", "hamlet", tree.commune)
    db.session.commit()
    assert client.post(f"/units/{new.id}/adults", data=with_version(
        client, f"/units/{new.id}", {"adults-adults": "1.050", "adults-effective_on": "2025-01-01"}
                       )).status_code == 302
    # Phường III has no hamlet with an adult population to compare with.
    alone = unit_ops.create_unit("Ấp Một", "hamlet", tree.sibling_commune)
    db.session.commit()
    client.post("/auth/logout")
    login_as("commune", tree.sibling_commune)
    url = f"/units/{alone.id}/adults"
    resp = client.post(url, data=with_version(
        client, f"/units/{alone.id}", {"adults-adults": "60.000", "adults-effective_on": "2025-01-01"}))
    error = parse(resp.get_data(as_text=True)).find(id="adults-adults-error")
    assert resp.status_code == 409 and "60.000 người trưởng thành là quá nhiều cho một ấp" in error.text()
    assert client.post(url, data=with_version(
        client, f"/units/{alone.id}", {"adults-adults": "4.000",
        "adults-effective_on": "2025-01-01"})).status_code == 302
    # The figure of the day before is the one before: ten times it, the next day, is asked about.
    resp = client.post(url, data=with_version(
        client, f"/units/{alone.id}", {"adults-adults": "40.000", "adults-effective_on": "2025-01-02"}))
    error = parse(resp.get_data(as_text=True)).find(id="adults-adults-error")
    assert resp.status_code == 409 and "khác xa" in error.text() and "4.000" in error.text()
