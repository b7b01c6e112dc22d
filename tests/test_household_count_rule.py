"""One household-count rule, the one coverage uses, stated on the area pages (app/units/views.py)."""
import re
from datetime import date

import sqlalchemy as sa

from app.units import operations as unit_ops
from app.units.models import HouseholdCount
from tests.form_versions import with_version


def test_a_commune_with_hamlets_shows_their_sum_offers_no_form_and_says_why(tree, login_as, client):
    login_as("commune", tree.commune)
    html = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "730 hộ" in html  # Khu vực 1 (320) + Khu vực 2 (410)
    assert "tổng số hộ của các đơn vị trực thuộc" in html
    assert f'action="/units/{tree.commune.id}/households"' not in html
    coverage = client.get(f"/coverage/{tree.commune.id}").get_data(as_text=True)
    assert "730" in coverage


def test_a_commune_count_posted_anyway_is_refused_and_not_saved(tree, login_as, client, db):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/households",
                       data={"count-households": "999", "count-effective_on": "2024-01-01"})
    assert resp.status_code == 409
    assert "đặt số hộ của các đơn vị đó" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdCount)
                             .where(HouseholdCount.unit_id == tree.commune.id)) == 0


def test_a_commune_without_hamlets_keeps_its_own_count_and_form(tree, login_as, client, db):
    login_as("district", tree.district)
    resp = client.post(f"/units/{tree.sibling_commune.id}/households",
                       data=with_version(
                           client, f"/units/{tree.sibling_commune.id}", {"count-households": "1.500",
                           "count-effective_on": "2024-01-01"}))
    assert resp.status_code == 302
    html = client.get(f"/units/{tree.sibling_commune.id}").get_data(as_text=True)
    assert "1.500 hộ, áp dụng từ" in html
    assert f'action="/units/{tree.sibling_commune.id}/households"' in html


def test_the_district_page_lists_each_commune_as_coverage_counts_it(tree, login_as, client, db):
    unit_ops.set_household_count(tree.sibling_commune, 1500, date(2024, 1, 1))
    # An own count left on a commune with hamlets is not what coverage uses: not shown either.
    unit_ops.set_household_count(tree.commune, 9999, date(2024, 1, 1))
    db.session.commit()
    login_as("district", tree.district)
    html = client.get(f"/units/{tree.district.id}").get_data(as_text=True)
    rows = {name: figure for name, figure in
            re.findall(r'>([^<>]+)</a>\s*</td>\s*<td class="num">([^<]+)</td>', html)}
    assert rows == {"Phường I": "730", "Phường III": "1.500"}
    assert "2.230 hộ" in html  # the district: their sum
    commune = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "9.999" in commune and "không được dùng" in commune


def test_the_sum_says_who_enters_the_counts_below_to_those_who_cannot_enter_them_there(tree, login_as, client):
    """An area's or a province's units below are communes summed from their hamlets: no count can be typed for
    them, so their officer is told that commune officers enter the hamlets' counts, not to enter them."""
    instruction = "Hãy nhập số hộ cho các đơn vị đó"
    who = "Cán bộ xã nhập số hộ của từng thôn, ấp"
    login_as("province", tree.province)
    html = " ".join(client.get(f"/units/{tree.province.id}").get_data(as_text=True).split())
    assert who in html and instruction not in html
    login_as("district", tree.other_district)  # its one commune has a hamlet
    html = " ".join(client.get(f"/units/{tree.other_district.id}").get_data(as_text=True).split())
    assert who in html and instruction not in html
    # Below Thành phố Vị Thanh, Phường III has no hamlets: its count is typed on its page.
    login_as("district", tree.district)
    html = " ".join(client.get(f"/units/{tree.district.id}").get_data(as_text=True).split())
    assert instruction in html and who not in html
    login_as("commune", tree.commune)
    html = " ".join(client.get(f"/units/{tree.commune.id}").get_data(as_text=True).split())
    assert instruction in html and who not in html
