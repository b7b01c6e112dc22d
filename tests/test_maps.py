"""Any month on today's units or as the map was, across the 2025 reform (tests/maps_world.py)."""
import re
from datetime import date

import pytest

from app.coverage import maps, queries
from app.extensions import db as _db
from tests.maps_world import Reformed


@pytest.fixture
def world(db):
    return Reformed()


def _figures(row):
    return row.households, row.services["ewallet"].adopted, row.services["vneid"].adopted


def test_a_new_commune_s_months_before_the_reform_are_the_sums_of_its_hamlets(world):
    march = queries.coverage(world.vi_thanh, date(2025, 3, 31))
    assert _figures(march.total) == (320 + 410 + 250 + 100, 2, 1)
    assert [r.unit.name for r in march.rows] == ["Khu vực 1", "Khu vực 2", "Khu vực 3", "Khu vực 4"]
    province = queries.coverage(world.province, date(2025, 3, 31))
    assert [r.unit.name for r in province.rows] == ["Phường Vị Thanh", "Xã Một Ngàn", "Xã Tân Hòa"]
    assert _figures(province.total) == (1810, 3, 1)


def test_a_new_commune_s_twelve_month_trend_runs_across_the_reform_without_a_break(world):
    series = queries.monthly_series(world.vi_thanh, queries.last_months(2025, 10, 12))
    assert [m.row.households for m in series] == [1080] * 12
    assert [m.row.services["ewallet"].adopted for m in series] == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3]


def test_as_the_map_was_an_old_month_shows_the_old_districts_and_communes(world):
    then = maps.coverage_then(world.old_province, date(2025, 3, 31)).table
    assert [r.unit.name for r in then.rows] == ["Huyện Châu Thành A", "Thành phố Vị Thanh"]
    assert [_figures(r) for r in then.rows] == [(730, 1, 0), (1080, 2, 1)]
    commune = maps.coverage_then(world.mot_ngan_old, date(2025, 6, 30)).table
    assert [r.unit.name for r in commune.rows] == ["Ấp Nhơn Lộc", "Ấp Nhơn Xuân"]
    assert _figures(commune.total) == (730, 2, 0)


def test_as_the_map_was_shares_are_of_the_households_counted_then_from_the_month_s_last_day(world):
    from app.units.operations import set_household_count
    then = maps.coverage_then(world.old_province, date(2025, 3, 31)).table
    shares = [r.services["ewallet"].share for r in then.rows]
    assert shares == [pytest.approx(1 / 730), pytest.approx(2 / 1080)]
    # A count that takes effect on a month's last day is that month's; the month before keeps the old one.
    set_household_count(world.hamlets["Khu vực 4"], 150, date(2025, 3, 31))
    _db.session.commit()
    assert maps.coverage_then(world.vi_thanh_city, date(2025, 3, 31)).table.total.households == 1080 + 50
    series = maps.series_then(world.vi_thanh, [(2025, 2), (2025, 3)])
    assert [m.row.households for m in series] == [1080, 1130]
    # March's own visits (Khu vực 3, on the 10th) count in March, the last month asked.
    assert [m.row.services["ewallet"].adopted for m in series] == [1, 2]
    # Before any count took effect, no household is counted, whichever way the month is read.
    series = maps.series_then(world.vi_thanh, [(2023, 12), (2024, 1)])
    assert [m.row.households for m in series] == [0, 1080]
    assert maps.coverage_then(world.old_province, date(2023, 12, 31)).table.total.households == 0


def _api(client, secret, query):
    return client.get(f"/api/v1/coverage?{query}", headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def token(world, db):
    from app.api.models import issue_token
    from app.auth.cli import create_user
    user = create_user("trung-tam-can-tho", "province", world.province, "mat-khau-dai-du-1")
    _db.session.flush()
    _token, secret = issue_token(user, label="Trung tâm điều hành")
    _db.session.commit()
    return secret


def _services(body):
    return {s["code"]: s["adopted"] for s in body["services"]}


def test_the_api_answers_an_old_code_for_an_old_month_and_the_reused_code_for_a_new_one(world, client, token):
    # 31321 was Phường III until June 2025, and is Phường Vị Thanh since July.
    old = _api(client, token, "unit=31321&month=2025-03")
    assert old.status_code == 200
    assert old.json["unit"] == {"code": "31321", "name": "Phường III", "level": "commune"}
    assert old.json["households"] == 250 and _services(old.json) == {"ewallet": 1, "vneid": 1}
    assert [c["unit"]["name"] for c in old.json["children"]] == ["Khu vực 3"]
    new = _api(client, token, "unit=31321&month=2025-09")
    assert new.json["unit"]["name"] == "Phường Vị Thanh"
    assert new.json["households"] == 1080 and _services(new.json) == {"ewallet": 3, "vneid": 2}
    # June is the old commune's last month, July the new one's first.
    assert _api(client, token, "unit=31321&month=2025-06").json["unit"]["name"] == "Phường III"
    assert _api(client, token, "unit=31321&month=2025-07").json["unit"]["name"] == "Phường Vị Thanh"
    # The old province, as the map was: its districts.
    hau_giang = _api(client, token, "unit=93&month=2025-03").json
    assert [c["unit"]["name"] for c in hau_giang["children"]] == ["Huyện Châu Thành A", "Thành phố Vị Thanh"]
    assert hau_giang["households"] == 1810


def test_the_api_shows_an_old_month_on_today_s_units_when_asked(world, client, token):
    body = _api(client, token, "unit=31321&month=2025-03&map=today").json
    assert body["unit"]["name"] == "Phường Vị Thanh"
    assert body["households"] == 1080 and _services(body) == {"ewallet": 2, "vneid": 1}
    province = _api(client, token, "unit=92&month=2025-03&map=today").json
    assert [c["unit"]["name"] for c in province["children"]] == ["Phường Vị Thanh", "Xã Một Ngàn", "Xã Tân Hòa"]


def test_a_code_without_a_unit_in_the_month_asked_is_404_and_a_bad_map_400_never_500(world, client, token):
    # Xã Tân Hòa's code came in July 2025; Cần Thơ (92) had no unit in this database before.
    assert _api(client, token, "unit=31340&month=2025-03").status_code == 404
    assert _api(client, token, "unit=92&month=2025-03").status_code == 404
    assert _api(client, token, "unit=31321&month=2025-03&map=yesterday").status_code == 400


def _page(client, unit, query=""):
    resp = client.get(f"/coverage/{unit.id}{query}")
    return resp.status_code, " ".join(resp.get_data(as_text=True).split())  # as read, lines joined


def test_the_page_opens_on_today_s_units_and_says_where_the_earlier_figures_come_from(world, client, login_as):
    login_as("province", world.province)
    status, text = _page(client, world.vi_thanh, "?month=2025-03")
    assert status == 200
    assert "Trước 07/2025: Phường I, III, VII của Thành phố Vị Thanh." in re.sub(r" \.", ".", text)
    assert "Số liệu các tháng trước đó là số liệu của các thôn, ấp thuộc đơn vị hiện nay." in text
    assert "tổng số hộ có hiệu lực khi đó của các thôn, ấp thuộc đơn vị hiện nay" in text
    assert 'aria-current="true" class="current">Đơn vị hiện nay</a>' in text
    assert "Khu vực 4" in text and "1.080" in text
    assert "không tồn tại vào" not in text  # it holds its hamlets' months: nothing is missing
    # The switch keeps the month: the same month as the map was.
    assert f'href="/coverage/{world.vi_thanh.id}?month=2025-03&amp;map=then"' in text


def test_the_note_follows_a_correction_of_an_old_unit_s_name_at_once(world, client, login_as):
    # The worker keeps the note under the units' token; a renamed predecessor replaces the token.
    from app.units.operations import rename_unit
    login_as("province", world.province)
    _status, text = _page(client, world.vi_thanh)
    assert "Trước 07/2025: Phường I, III, VII của Thành phố Vị Thanh." in re.sub(r" \.", ".", text)
    rename_unit(world.phuong_7, "Phường 7")
    _db.session.commit()
    _status, text = _page(client, world.vi_thanh)
    assert "Trước 07/2025: Phường 7, I, III của Thành phố Vị Thanh." in re.sub(r" \.", ".", text)


def test_as_the_map_was_a_new_commune_shows_the_units_that_stood_for_it(world, client, login_as):
    login_as("province", world.province)
    status, text = _page(client, world.vi_thanh, "?month=2025-03&map=then")
    assert status == 200
    assert "Phường Vị Thanh chưa được thành lập vào 03/2025; khi đó là các đơn vị:" in text
    assert f'href="/coverage/{world.phuong_3.id}?month=2025-03&amp;map=then"' in text
    assert "Khu vực 4" not in text  # the old communes are the rows, not today's hamlets
    # Their links open: province staff read the old units whose hamlets are all theirs now.
    status, text = _page(client, world.phuong_3, "?month=2025-03&map=then")
    assert status == 200 and "Khu vực 3" in text


def test_as_the_map_was_the_rows_follow_the_name_order_asked(world, client, login_as):
    login_as("province", world.province)

    def names(query):
        status, text = _page(client, world.vi_thanh_city, "?month=2025-03&map=then" + query)
        assert status == 200
        body = text[text.index("<tbody>"):text.index("</tbody>")]
        return re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', body)

    assert names("") == names("&sort=name&dir=asc") == ["Phường I", "Phường III", "Phường VII"]
    assert names("&sort=name&dir=desc") == ["Phường VII", "Phường III", "Phường I"]


def test_an_old_unit_opens_on_its_last_month_as_the_map_was_for_those_who_hold_its_hamlets(world, client, login_as):
    login_as("province", world.province)
    status, text = _page(client, world.old_province)
    assert status == 200
    assert 'value="2025-06"' in text and "Huyện Châu Thành A" in text and "Thành phố Vị Thanh" in text
    assert "Kết thúc từ 01/07/2025; các thôn, ấp chuyển về:" in text and "Thành phố Cần Thơ</a>" in text
    status, text = _page(client, world.old_province, "?month=2025-09")
    assert status == 200 and "Tỉnh Hậu Giang không tồn tại vào 09/2025." in text


def test_a_split_commune_stays_closed_to_an_officer_who_holds_only_part_of_it(world, app):
    from app.auth.cli import create_user
    from tests.conftest import PASSWORD
    from tests.visits_helpers import Browser
    tan_hoa, vi_thanh = Browser(app), Browser(app)
    for browser, name, commune in ((tan_hoa, "can-bo-tan-hoa", world.tan_hoa),
                                   (vi_thanh, "can-bo-vi-thanh", world.vi_thanh)):
        create_user(name, "commune", commune, PASSWORD)
        _db.session.commit()
        assert browser.open("POST", "/auth/login", data={"username": name, "password": PASSWORD}).status_code == 302
    assert tan_hoa.open("GET", f"/coverage/{world.mot_ngan_old.id}").status_code == 404
    assert vi_thanh.open("GET", f"/coverage/{world.phuong_1.id}").status_code == 200
    assert vi_thanh.open("GET", f"/coverage/{world.vi_thanh_city.id}").status_code == 200
    assert vi_thanh.open("GET", f"/coverage/{world.old_province.id}").status_code == 404



def test_an_old_unit_closes_to_an_officer_once_a_hamlet_it_held_has_moved_out_of_their_commune(world, app):
    # Who may read an old unit is kept per worker (app.units.history.held_on_last_day): a move of one of
    # its hamlets must close it at once, on the next request.
    from app.areas.operations import move_subtree
    from app.auth.cli import create_user
    from app.units.models import UnitPlacement
    from tests.conftest import PASSWORD
    from tests.visits_helpers import Browser
    vi_thanh = Browser(app)
    create_user("can-bo-vi-thanh", "commune", world.vi_thanh, PASSWORD)
    _db.session.commit()
    signed_in = vi_thanh.open("POST", "/auth/login", data={"username": "can-bo-vi-thanh", "password": PASSWORD})
    assert signed_in.status_code == 302
    old_units = (world.phuong_1, world.vi_thanh_city)
    assert [vi_thanh.open("GET", f"/coverage/{u.id}").status_code for u in old_units] == [200, 200]
    fragment = {"HX-Request": "true"}
    assert vi_thanh.open("GET", f"/coverage/{world.phuong_3.id}/trend", headers=fragment).status_code == 200
    # Khu vực 2, of Phường I until the reform, goes on to Xã Một Ngàn in February 2026.
    hamlet = world.hamlets["Khu vực 2"]
    _db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=hamlet.parent_id, valid_from=date(2025, 7, 1),
                                  valid_to=date(2026, 2, 1)))
    move_subtree(hamlet, world.mot_ngan)
    _db.session.commit()
    assert [vi_thanh.open("GET", f"/coverage/{u.id}").status_code for u in old_units] == [404, 404]
    assert vi_thanh.open("GET", f"/coverage/{world.phuong_1.id}/adults", headers=fragment).status_code == 404
    # Phường III held only Khu vực 3, still in Phường Vị Thanh.
    assert vi_thanh.open("GET", f"/coverage/{world.phuong_3.id}/trend", headers=fragment).status_code == 200

def test_the_trend_as_the_map_was_runs_through_the_old_units_up_to_the_reform(world, client, login_as):
    series = maps.series_then(world.vi_thanh, queries.last_months(2025, 10, 12))
    # Before July the sum of Phường I, III and VII; after it Phường Vị Thanh itself: the same hamlets.
    assert [m.row.services["ewallet"].adopted for m in series] == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3]
    assert [m.row.households for m in series] == [1080] * 12
    ended = maps.series_then(world.phuong_3, [(2025, 6), (2025, 7)])
    assert ended[1] is None and ended[0].row.households == 250


def test_the_monthly_report_shows_a_month_on_either_map(world, client, login_as):
    login_as("province", world.province)
    today = client.get(f"/reports/{world.vi_thanh.id}/monthly?month=2025-03")
    assert today.status_code == 200 and "Khu vực 4" in today.get_data(as_text=True)
    then = client.get(f"/reports/{world.vi_thanh.id}/monthly?month=2025-03&map=then")
    text = " ".join(then.get_data(as_text=True).split())
    assert then.status_code == 200
    assert "Phường Vị Thanh chưa được thành lập vào 03/2025; khi đó là các đơn vị:" in text
    assert f'/reports/{world.phuong_3.id}/monthly?month=2025-03&amp;map=then' in text
    # The old province, as the map was by default: its districts, and the download says the same.
    old = client.get(f"/reports/{world.old_province.id}/monthly?month=2025-03")
    assert old.status_code == 200 and "Huyện Châu Thành A" in old.get_data(as_text=True)
    csv = client.get(f"/reports/{world.old_province.id}/monthly.csv?month=2025-03").get_data(as_text=True)
    assert "Huyện Châu Thành A" in csv and "Khu vực 4" not in csv
    # A quarter the same: before the reform, the units that stood for the new commune then; the quarter
    # after it, the new commune's hamlets with the visits of its three months.
    then = client.get(f"/reports/{world.vi_thanh.id}/quarterly?quarter=2025-Q2&map=then")
    text = " ".join(then.get_data(as_text=True).split())
    assert then.status_code == 200
    assert "Phường Vị Thanh chưa được thành lập vào Quý II/2025; khi đó là các đơn vị:" in text
    assert f'/reports/{world.phuong_3.id}/quarterly?quarter=2025-Q2&amp;map=then' in text
    old = client.get(f"/reports/{world.old_province.id}/quarterly.csv?quarter=2025-Q2").get_data(as_text=True)
    assert "Huyện Châu Thành A" in old and "Khu vực 4" not in old
    after = client.get(f"/reports/{world.vi_thanh.id}/quarterly?quarter=2025-Q3&map=then").get_data(as_text=True)
    assert re.search(r'class="total".*?data-key="visits">1<', after, re.DOTALL)  # Khu vực 2, 3 September


def test_a_province_kept_through_the_reform_does_not_count_its_ended_districts_twice(db):
    """Today's map of a province that lived on: its new communes hold the hamlets, and the ended
    district and commune (still its children in the tree) are left out rather than added again."""
    from app.areas.operations import move_subtree
    from app.coverage import store
    from app.units.models import Reorganization, UnitPlacement
    from app.units.operations import create_unit, set_household_count
    from tests.maps_world import REFORM
    from tests.test_coverage import households, make_services, visit
    wallet, _vneid = make_services()
    province = create_unit("Thành phố Hà Nội", "province", None, "01")
    district = create_unit("Quận Ba Đình", "district", province, "001")
    old = create_unit("Phường Phúc Xá", "commune", district, "00001")
    hamlet = create_unit("Tổ dân phố 1", "hamlet", old)
    set_household_count(hamlet, 400, date(2024, 1, 1))
    visit(households(hamlet, 1)[0], date(2025, 2, 3), adopted=[wallet])
    district.retired_on = old.retired_on = REFORM
    _db.session.flush()
    new = create_unit("Phường Ba Đình", "commune", province, "00004")
    new.valid_from = REFORM
    _db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=old.id, valid_to=REFORM))
    move_subtree(hamlet, new)
    _db.session.add(Reorganization(province_id=province.id, effective_on=REFORM, source_name="plan.csv"))
    _db.session.flush()
    store.rebuild(_db.session.connection())
    _db.session.commit()
    march = queries.coverage(province, date(2025, 3, 31))
    assert [r.unit.name for r in march.rows] == ["Phường Ba Đình"]
    assert _figures(march.total)[:2] == (400, 1)
    then = maps.coverage_then(province, date(2025, 3, 31)).table
    assert [r.unit.name for r in then.rows] == ["Quận Ba Đình"] and _figures(then.total)[:2] == (400, 1)


def test_the_page_s_trend_follows_the_map_asked(world, client, login_as):
    login_as("province", world.province)
    for query in ("", "&map=then"):
        status, text = _page(client, world.vi_thanh, f"?month=2025-10&trend=1{query}")
        assert status == 200
        households_trend = text.split('<table class="table adult-trend')[0]  # the adults' table follows
        rows = re.findall(r'<tr><th scope="row">(\d\d/\d{4})</th>(.*?)</tr>', households_trend)
        assert [m for m, _cells in rows][0] == "11/2024" and len(rows) == 12
        assert all("1.080" in cells for _m, cells in rows), query  # no break at the reform
    htmx = client.get(f"/coverage/{world.phuong_3.id}/trend?month=2025-06&map=then", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "06/2025" in htmx.get_data(as_text=True)


def test_after_a_hamlet_moved_the_trend_and_adults_as_the_map_was_keep_it_where_it_was(world, client, login_as):
    # Khu vực 4 (100 households) leaves Phường Vị Thanh for Xã Một Ngàn on 1 February 2026. January on the
    # map as it was still holds it; on today's map it is Xã Một Ngàn's all along.
    from app.areas.operations import move_subtree
    from app.units.models import AdultCount, UnitPlacement
    hamlet = world.hamlets["Khu vực 4"]
    _db.session.add(AdultCount(unit_id=hamlet.id, adults=70, effective_on=date(2025, 1, 1)))
    _db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=hamlet.parent_id, valid_from=date(2025, 7, 1),
                                  valid_to=date(2026, 2, 1)))
    move_subtree(hamlet, world.mot_ngan)
    _db.session.commit()
    login_as("province", world.province)
    fragment = {"HX-Request": "true"}
    # The page as the map was loads its sections (on scroll) as the map was too; a map not offered is ignored.
    _status, text = _page(client, world.vi_thanh, "?month=2026-01&map=then")
    for section in ("adults", "trend"):
        assert f'hx-get="/coverage/{world.vi_thanh.id}/{section}?month=2026-01&amp;map=then"' in text
    _status, text = _page(client, world.vi_thanh, "?month=2026-01&map=sometime")
    assert f'hx-get="/coverage/{world.vi_thanh.id}/trend?month=2026-01"' in text
    for query, january, in_adults in (("", "980", False), ("&map=then", "1.080", True)):
        trend = client.get(f"/coverage/{world.vi_thanh.id}/trend?month=2026-03{query}", headers=fragment)
        rows = dict(re.findall(r'<tr><th scope="row">(\d\d/\d{4})</th><td class="num">([\d.]+)</td>',
                               trend.get_data(as_text=True)))
        assert (rows["01/2026"], rows["03/2026"]) == (january, "980"), query
        adult_trend = trend.get_data(as_text=True).split('<table class="table adult-trend')[1]
        adult_rows = dict(re.findall(r'<tr><th scope="row">(\d\d/\d{4})</th>\s*<td class="num"[^>]*>([\d.]+)</td>',
                                     adult_trend))
        assert (adult_rows["01/2026"], adult_rows["03/2026"]) == ("70" if in_adults else "0", "0"), query
        adults = client.get(f"/coverage/{world.vi_thanh.id}/adults?month=2026-01{query}", headers=fragment)
        assert adults.status_code == 200 and ("Khu vực 4" in adults.get_data(as_text=True)) == in_adults, query


def test_a_unit_set_up_later_has_no_adult_section_for_a_month_before_it_as_the_map_was(world, client, login_as):
    from app.units.operations import create_unit
    new = create_unit("Xã Tân Lập", "commune", world.province, "31399")
    new.valid_from = date(2026, 1, 1)
    _db.session.commit()
    login_as("province", world.province)
    fragment = {"HX-Request": "true"}
    assert client.get(f"/coverage/{new.id}/adults?month=2025-03&map=then", headers=fragment).status_code == 404
    assert client.get(f"/coverage/{new.id}/adults?month=2026-03&map=then", headers=fragment).status_code == 200
    status, text = _page(client, new, "?month=2025-03&map=then")
    assert status == 200 and "Xã Tân Lập không tồn tại vào 03/2025." in text


def test_the_before_note_says_a_kind_once_only_when_all_the_old_units_share_it():
    from app.units.history import _shorten
    assert _shorten(["Phường I", "Phường III", "Phường VII"]) == ["Phường I", "III", "VII"]
    # Units of different kinds, or one alone, or a name of one word, are written whole.
    assert _shorten(["Phường I", "Xã Hỏa Lựu"]) == ["Phường I", "Xã Hỏa Lựu"]
    assert _shorten(["Thị trấn Một Ngàn"]) == ["Thị trấn Một Ngàn"]
    assert _shorten(["Phường I", "Phường"]) == ["Phường I", "Phường"]
    # A kind of two words is said once, whole.
    assert _shorten(["Thị trấn Một Ngàn", "Thị trấn Bảy Ngàn"]) == ["Thị trấn Một Ngàn", "Bảy Ngàn"]
    assert _shorten(["Thị trấn Cái Bè", "Thị xã Cai Lậy"]) == ["Thị trấn Cái Bè", "Thị xã Cai Lậy"]
    assert _shorten(["Ấp Bắc", "Ấp Nam"]) == ["Ấp Bắc", "Ấp Nam"]  # no unit kind of the official list


def test_a_unit_is_last_counted_in_the_last_month_it_stood_at_the_end_of():
    from app.units.history import last_counted_month
    from app.units.models import AdminUnit

    def ended(day):
        return last_counted_month(AdminUnit(name="Phường I", level="commune", retired_on=day))

    assert ended(date(2025, 7, 1)) == (2025, 6)  # its last day was 30 June
    assert ended(date(2025, 7, 15)) == (2025, 6)  # gone before July's end
    assert ended(date(2025, 7, 31)) == (2025, 6)  # its last day, 30 July, was not July's end
    assert ended(date(2025, 8, 1)) == (2025, 7)
    assert ended(date(2026, 1, 1)) == (2025, 12)
    assert last_counted_month(AdminUnit(name="Phường Vị Thanh", level="commune")) is None  # still in use


def test_a_unit_is_valid_from_its_first_day_to_the_day_before_it_ended(db, tree):
    import sqlalchemy as sa

    from app.units.models import AdminUnit
    vi_thanh = _db.session.get(AdminUnit, tree.commune.id)
    vi_thanh.valid_from, vi_thanh.retired_on = date(2025, 7, 1), date(2026, 1, 1)
    _db.session.commit()
    days = {date(2025, 6, 30): False, date(2025, 7, 1): True, date(2025, 12, 31): True, date(2026, 1, 1): False}
    for day, valid in days.items():
        assert vi_thanh.valid_on(day) is valid, day
        in_sql = _db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(
            AdminUnit.id == vi_thanh.id, AdminUnit.valid_on_clause(day)))
        assert in_sql == int(valid), day  # the SQL form agrees
