"""Adults as the map was: a month before the 2025 reform shows the adult figures of the units valid
then, summed from their hamlets and communes then (tests/maps_world.py), on the page and its trend."""
import re
from datetime import date

import pytest

from app.coverage import adults
from app.extensions import db as _db
from app.units import operations as unit_ops
from tests.adult_world import add_class
from tests.maps_world import Reformed

ADULTS = {"Khu vực 1": 1000, "Khu vực 2": 800, "Khu vực 3": 500, "Khu vực 4": 300, "Ấp Nhơn Xuân": 600,
          "Ấp Nhơn Lộc": 400}
MARCH = (2025, 3)


@pytest.fixture
def world(db):
    return build()


def build() -> Reformed:
    """The reorganized world with adults and classes on the old communes before the reform."""
    w = Reformed()
    h = w.hamlets
    for name, n in ADULTS.items():
        unit_ops.set_adult_count(h[name], n, date(2024, 1, 1))
    unit_ops.set_adult_count(h["Khu vực 1"], 1100, date(2025, 4, 1))  # after the month: not counted in it
    # Before the reform, on the old communes: Phường I has 4 named learners by the end of March
    # (one from February), living in Khu vực 1 (2, one of them through the class's place) and 2.
    add_class(w.phuong_1, date(2025, 2, 20), 15, (0, 10, 5), named=[("Lê Văn Cường", 1990, h["Khu vực 2"], None)])
    add_class(w.phuong_1, date(2025, 3, 14), 30, (3, 20, 7), hamlet=h["Khu vực 1"],
              named=[("Nguyễn Văn An", 1970, h["Khu vực 1"], None), ("Trần Thị Bình", 1972, None, None),
                     ("Phạm Thị Dung", 1985, h["Khu vực 2"], None)], results={"vneid": 12})
    add_class(w.phuong_1, date(2025, 3, 21), 20, (0, 15, 5), named=[("nguyen van an", 1970, h["Khu vực 1"], None)],
              results={"vneid": 4})
    add_class(w.mot_ngan_old, date(2025, 3, 5), 25, (0, 20, 5), hamlet=h["Ấp Nhơn Lộc"],
              named=[("Đỗ Văn Giang", 1960, h["Ấp Nhơn Lộc"], None), ("Hồ Thị Hoa", 1962, h["Ấp Nhơn Xuân"], None)],
              results={"vneid": 6})
    # After the reform, on the new commune: never in a month before it.
    add_class(w.vi_thanh, date(2025, 9, 9), 40, (0, 30, 10), hamlet=h["Khu vực 1"],
              named=[("Võ Văn Em", 1980, h["Khu vực 1"], None)])
    _db.session.commit()
    return w


def _then(unit, month=MARCH):
    return adults.adult_months_then([unit], [month])[unit.id][month]


def test_an_old_commune_s_adults_and_named_learners_before_the_reform_are_its_hamlets_then(world):
    commune = _then(world.phuong_1)
    assert (commune.adults, commune.named, commune.attendances, commune.working) == (1000 + 800, 4, 30 + 20,
                                                                                      {"vneid": 16})
    kv1, kv2 = _then(world.hamlets["Khu vực 1"]), _then(world.hamlets["Khu vực 2"])
    assert (kv1.adults, kv1.named, kv1.attendances) == (1000, 2, 30)
    assert (kv2.adults, kv2.named, kv2.attendances) == (800, 2, 0)
    # Thị trấn Một Ngàn's hamlets, each now in another commune: their learners of its class then.
    for name in ("Ấp Nhơn Lộc", "Ấp Nhơn Xuân"):
        assert _then(world.hamlets[name]).named == 1, name
    district = _then(world.vi_thanh_city)
    assert (district.adults, district.named, district.attendances) == (1000 + 800 + 500 + 300, 4, 50)
    province = _then(world.old_province)
    assert (province.adults, province.named, province.attendances) == (3600, 6, 75)
    # The new commune, not yet formed, stands for Phường I, III and VII; in September it is itself.
    new = _then(world.vi_thanh)
    assert (new.adults, new.named, new.attendances) == (2600, 4, 50)
    september = _then(world.vi_thanh, (2025, 9))
    assert (september.adults, september.named, september.attendances) == (1100 + 800 + 500 + 300, 1, 40)
    # A count taken on the month's last day is that month's.
    unit_ops.set_adult_count(world.hamlets["Khu vực 3"], 520, date(2025, 3, 31))
    _db.session.commit()
    assert (_then(world.hamlets["Khu vực 3"], (2025, 2)).adults, _then(world.hamlets["Khu vực 3"]).adults) == (500, 520)


def test_a_learner_with_no_hamlet_counts_in_the_old_commune_and_above_but_in_no_hamlet(world):
    # A class at the commune's cultural house, its one named learner's hamlet not known.
    add_class(world.phuong_3, date(2025, 3, 18), 12, (0, 12, 0), named=[("Mai Văn Tư", 1975, None, None)])
    _db.session.commit()
    assert _then(world.phuong_3).named == 1
    assert _then(world.hamlets["Khu vực 3"]).named == 0
    assert _then(world.vi_thanh_city).named == 4 + 1
    # In the month before, it had not happened yet.
    assert _then(world.phuong_3, (2025, 2)).named == 0
    # Before any adult count was entered (they take effect in January 2024), a unit counts no adults.
    assert (_then(world.phuong_1, (2023, 12)).adults, _then(world.vi_thanh_city, (2023, 12)).adults) == (0, 0)


def _shift(commune, on, dossiers):
    import uuid

    from app.activities.models import CentreShift, ShiftDossier
    from app.coverage import activity_months
    from tests.adult_world import service
    shift = CentreShift(key=uuid.uuid4().hex, commune_id=commune.id, held_on=on, people_helped=dossiers)
    _db.session.add(shift)
    _db.session.flush()
    _db.session.add(ShiftDossier(shift_id=shift.id, service_id=service("dvc").id, dossiers=dossiers))
    _db.session.flush()
    _db.session.refresh(shift)
    activity_months.ShiftChange().done(shift)  # as the shift operations do


def test_online_dossiers_before_the_reform_count_in_the_share_only_where_the_commune_gave_its_total(world):
    from app.activities.models import CommuneDossierTotal
    _shift(world.phuong_1, date(2025, 3, 10), 6)
    _shift(world.phuong_3, date(2025, 3, 11), 4)
    _shift(world.phuong_1, date(2025, 2, 12), 9)  # another month, with a total of its own
    _shift(world.phuong_7, date(2025, 3, 12), 2)  # Phường VII gave February's total, not March's
    _db.session.add_all([CommuneDossierTotal(commune_id=world.phuong_1.id, month=202503, dossiers=20),
                         CommuneDossierTotal(commune_id=world.phuong_1.id, month=202502, dossiers=90),
                         CommuneDossierTotal(commune_id=world.phuong_7.id, month=202502, dossiers=30)])
    _db.session.commit()
    p1, p3, city = _then(world.phuong_1), _then(world.phuong_3), _then(world.vi_thanh_city)
    assert (p1.online, p1.online_counted, p1.commune_dossiers, p1.online_share) == (6, 6, 20, 0.3)
    # Phường III gave no total: its 4 dossiers are filed, but not in the share.
    assert (p3.online, p3.online_counted, p3.commune_dossiers, p3.online_share) == (4, 0, 0, None)
    assert (city.online, city.online_counted, city.commune_dossiers) == (12, 6, 20)
    february = _then(world.vi_thanh_city, (2025, 2))
    assert (february.online, february.online_counted, february.commune_dossiers) == (9, 9, 120)


def test_the_old_map_page_and_trend_show_the_adults_of_the_units_then(world, client, login_as):
    login_as("province", world.province)
    # The page without JavaScript, asked for with its trend and its adult section.
    text = " ".join(client.get(f"/coverage/{world.vi_thanh_city.id}?month=2025-03&map=then&trend=1&adults=1")
                    .get_data(as_text=True).split())
    # The adult section as the page loads it on scroll (htmx), on the same map.
    fragment = " ".join(client.get(f"/coverage/{world.vi_thanh_city.id}/adults?month=2025-03&map=then",
                                   headers={"HX-Request": "true"}).get_data(as_text=True).split())
    for section in (text[text.index('id="adults"'):], fragment):
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section)
        phuong_1 = next(r for r in rows if "Phường I<" in r or "Phường I </" in r or ">Phường I" in r)
        assert "1.800" in phuong_1 and ">4<" in phuong_1
        assert "2.600" in section
    trend = text[text.index('adult-trend'):]
    march = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", trend) if "03/2025" in r)
    assert "2.600" in march and ">4<" in march


def _page_adults(client, unit, month: str) -> dict[str, str]:
    """The adult section's first row of figures per unit name, as the coverage page shows them on the map asked."""
    html = client.get(f"/coverage/{unit.id}/adults?month={month}&map=then", headers={"HX-Request": "true"})
    out = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", " ".join(html.get_data(as_text=True).split())):
        head = re.search(r"<th[^>]*>(.*?)</th>", row)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        if head and cells:
            out.setdefault(re.sub(r"<[^>]+>", "", head.group(1)).strip(), re.sub(r"<[^>]+>", " ", cells[0]).split()[0])
    return out


def test_the_api_gives_the_adults_the_coverage_page_shows_for_an_old_unit_and_a_new_one(world, client, login_as):
    from app.api.models import issue_token
    user = login_as("province", world.province, username="ttdh-adults")
    _token, secret = issue_token(user, label="test")
    _db.session.commit()

    def api(code, month):
        resp = client.get(f"/api/v1/coverage?unit={code}&month={month}", headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 200, resp.json
        return resp.json

    # Thành phố Vị Thanh (930) ended with the reform; in March 2025 it held Phường I, III and VII.
    old = api("930", "2025-03")
    page = _page_adults(client, world.vi_thanh_city, "2025-03")
    assert old["adults"]["adults"] == 2600 and page["Tổng: Thành phố Vị Thanh"] == "2.600"
    assert {c["unit"]["name"]: c["adults"]["adults"] for c in old["children"]}["Phường I"] == 1800
    assert page["Phường I"] == "1.800"
    assert old["adults"]["named"]["learners"] == 4
    # Phường III (31321) in March 2025 is the old commune, not the new Phường Vị Thanh bearing its code.
    phuong_3 = api("31321", "2025-03")
    assert phuong_3["unit"]["name"] == "Phường III"
    assert f'{phuong_3["adults"]["adults"]:,}'.replace(",", ".") == _page_adults(client, world.phuong_3, "2025-03")[
        "Tổng: Phường III"]
    # After the reform the code names Phường Vị Thanh: the same figures on the API as on its page.
    new = api("31321", "2025-09")
    assert new["unit"]["name"] == "Phường Vị Thanh"
    shown = _page_adults(client, world.vi_thanh, "2025-09")["Tổng: Phường Vị Thanh"]
    assert f'{new["adults"]["adults"]:,}'.replace(",", ".") == shown and new["adults"]["adults"] > 0


def test_the_report_of_a_new_commune_before_the_reform_never_counts_below_zero_in_no_hamlet(world, client,
                                                                                               login_as):
    """On today's map a hamlet's row counts the classes its old commune held in it before the reform, and so does the
    new commune's total, which carries its old communes' classes (app.units.history.commune_heirs): its figures in no
    hamlet are the old communes' classes held in no hamlet (20 attendances), never the total less the hamlets counted
    twice, and every column adds up with no note. As the map was, Phường I's class held in no hamlet is its row in no
    hamlet."""
    from tests.test_adult_indicators import IN_NO_HAMLET, _adult_tables
    login_as("province", world.province)
    html = client.get(f"/reports/{world.vi_thanh.id}/monthly?month=2025-03&map=today").get_data(as_text=True)
    rows = _adult_tables(html)
    assert (rows["Khu vực 1"]["attendances"], rows[IN_NO_HAMLET]["attendances"], rows["Tổng cộng"]["attendances"]) \
        == (30, 20, 50)
    for key in ("adults", "attendances", "named", "online", "working:vneid"):
        assert sum(r[key] for name, r in rows.items() if name != "Tổng cộng") == rows["Tổng cộng"][key], key
    assert "lượt người học)" not in html and "nhiều hơn của xã" not in html
    html = client.get(f"/reports/{world.phuong_1.id}/monthly?month=2025-03&map=then").get_data(as_text=True)
    rows = _adult_tables(html)
    assert list(rows) == ["Khu vực 1", "Khu vực 2", IN_NO_HAMLET, "Tổng cộng"]
    assert (rows[IN_NO_HAMLET]["attendances"], rows[IN_NO_HAMLET]["named"], rows[IN_NO_HAMLET]["working:vneid"]) \
        == (20, 0, 4)
    for key in ("adults", "attendances", "named", "online", "working:vneid"):
        assert sum(r[key] for name, r in rows.items() if name != "Tổng cộng") == rows["Tổng cộng"][key], key
    assert "lượt người học)" not in html and "nhiều hơn của xã" not in html
