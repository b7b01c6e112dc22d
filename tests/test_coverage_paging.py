"""A province on the two-level map lists its communes a page at a time: the whole table sorted and
totalled, one page of it written out, the page links keeping the month and the order."""
from datetime import date

import pytest

from app.extensions import db as _db
from app.units import operations as units
from app.units.models import AdminUnit
from tests import snapshots
from tests.html_tree import parse
from tests.test_coverage import households, make_services, visit

COMMUNES = 45


@pytest.fixture
def province(db):
    """45 communes of 100 households each; in Xã Số k, k households adopted the e-wallet (k%). Built once per
    test process, put back for each test after (tests/snapshots.py)."""
    return _db.session.get(AdminUnit, snapshots.world("45 communes", _build_province))


def _build_province() -> int:
    wallet, _vneid = make_services()
    province = units.create_unit("Thành phố Cần Thơ", "province", None, "92")
    for k in range(1, COMMUNES + 1):
        commune = units.create_unit(f"Xã Số {k:02d}", "commune", province, f"9{k:04d}")
        hamlet = units.create_unit("Ấp Một", "hamlet", commune)
        units.set_household_count(hamlet, 100, date(2025, 7, 1))
        for h in households(hamlet, k):
            visit(h, date(2025, 8, 3), adopted=[wallet])
    return province.id


def first(element, tag: str, **attrs):
    return next(element.find_all(tag, **attrs), None)


def _rows(html: str) -> list[str]:
    """The unit names in the wide table's body, in order."""
    body = first(first(parse(html), "table", **{"class": "table coverage-table"}), "tbody")
    return [th.text().strip() for th in body.find_all("th")]


def _cards(html: str) -> list[str]:
    cards = first(parse(html), "ul", **{"class": "unit-cards"})
    heads = [first(li, "div", **{"class": "unit-card-head"}) for li in cards.find_all("li")]
    return [(first(head, "a") or first(head, "strong")).text().strip() for head in heads]


def _pager(html: str):
    return first(parse(html), "nav", **{"class": "pager rows-pager"})


def test_a_long_table_shows_a_page_of_units_and_the_whole_total(province, client, login_as):
    login_as("province", province)
    html = client.get(f"/coverage/{province.id}?month=2025-08").get_data(as_text=True)
    assert _rows(html) == [f"Xã Số {k:02d}" for k in range(1, 21)]
    # A phone's cards are the same units; the total is the whole province's, every page.
    assert _cards(html)[:20] == [f"Xã Số {k:02d}" for k in range(1, 21)] and len(_cards(html)) == 21
    total = first(parse(html), "tfoot").text()
    assert "4.500" in total and "1.035 hộ" in total  # 45 × 100 households; 1 + 2 + … + 45 adopted
    pager = _pager(html)
    assert "1–20 trên 45" in pager.text()
    links = list(pager.find_all("a"))
    assert [a.attrs["rel"] for a in links] == ["next"]
    assert links[0].attrs["href"] == links[0].attrs["hx-get"]
    assert "page=2" in links[0].attrs["href"] and "month=2025-08" in links[0].attrs["href"]

    last = client.get(links[0].attrs["href"].replace("page=2", "page=3")).get_data(as_text=True)
    assert _rows(last) == [f"Xã Số {k:02d}" for k in range(41, 46)]
    assert "41–45 trên 45" in _pager(last).text()
    assert [a.attrs["rel"] for a in _pager(last).find_all("a")] == ["prev"]
    assert "4.500" in first(parse(last), "tfoot").text()
    # Back from the last page is the page before it, not the first.
    back = next(_pager(last).find_all("a", rel="prev")).attrs["href"]
    assert "page=2" in back and "month=2025-08" in back
    middle = client.get(back).get_data(as_text=True)
    assert _rows(middle) == [f"Xã Số {k:02d}" for k in range(21, 41)]
    assert [a.attrs["rel"] for a in _pager(middle).find_all("a")] == ["prev", "next"]


def test_the_order_runs_across_the_whole_table_and_the_links_keep_it(province, client, login_as):
    login_as("province", province)
    html = client.get(f"/coverage/{province.id}?month=2025-08&sort=s-ewallet&dir=desc").get_data(as_text=True)
    assert _rows(html) == [f"Xã Số {k:02d}" for k in range(45, 25, -1)]  # the highest shares of all 45
    nxt = next(_pager(html).find_all("a", rel="next")).attrs["href"]
    assert "sort=s-ewallet" in nxt and "dir=desc" in nxt
    assert _rows(client.get(nxt).get_data(as_text=True)) == [f"Xã Số {k:02d}" for k in range(25, 5, -1)]
    # A phone's "lowest share first" is the lowest of all the communes, not of one page.
    html = client.get(f"/coverage/{province.id}?month=2025-08&service=ewallet&sort=share").get_data(as_text=True)
    assert _cards(html)[:3] == ["Xã Số 01", "Xã Số 02", "Xã Số 03"]
    nxt = next(_pager(html).find_all("a", rel="next")).attrs["href"]
    assert _cards(client.get(nxt).get_data(as_text=True))[:2] == ["Xã Số 21", "Xã Số 22"]


def test_a_last_page_of_one_row_says_which_row(db, client, login_as):
    province = units.create_unit("Tỉnh Lẻ", "province", None, "96")
    for k in range(1, 22):
        units.create_unit(f"Xã Lẻ {k:02d}", "commune", province, f"96{k:03d}")
    _db.session.commit()
    login_as("province", province)
    html = client.get(f"/coverage/{province.id}?page=2").get_data(as_text=True)
    assert _rows(html) == ["Xã Lẻ 21"]
    assert "21 trên 21" in _pager(html).text()
    assert "–" not in first(_pager(html), "span", **{"class": "pager-count"}).text()
    # Two rows on the last page are a range.
    units.create_unit("Xã Lẻ 22", "commune", province, "96022")
    _db.session.commit()
    html = client.get(f"/coverage/{province.id}?page=2").get_data(as_text=True)
    assert _rows(html) == ["Xã Lẻ 21", "Xã Lẻ 22"]
    assert first(_pager(html), "span", **{"class": "pager-count"}).text().strip() == "21–22 trên 22"


@pytest.mark.parametrize("page, first", [("0", 1), ("-3", 1), ("abc", 1), ("２", 21), ("3", 41), ("999", 41),
                                         ("", 1), (" 2 ", 21)])
def test_a_page_that_does_not_exist_shows_the_nearest_one(province, client, login_as, page, first):
    login_as("province", province)
    resp = client.get(f"/coverage/{province.id}?month=2025-08&page={page}")
    assert resp.status_code == 200
    assert _rows(resp.get_data(as_text=True))[0] == f"Xã Số {first:02d}"


def test_a_table_that_fits_on_one_page_has_no_page_links(db, tree, client, login_as):
    login_as("district", tree.district)
    html = client.get(f"/coverage/{tree.district.id}").get_data(as_text=True)
    assert "Phường I" in html and "Phường III" in html and _pager(html) is None


def test_the_adult_section_pages_through_the_units_by_name(province, client, login_as):
    login_as("province", province)
    part = client.get(f"/coverage/{province.id}/adults?month=2025-08&apage=2",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    table = first(parse(part), "table", **{"class": "table adult-table stack"})
    names = [th.text().strip() for th in table.find_all("th", scope="row")]
    assert names[1:] == [f"Xã Số {k:02d}" for k in range(21, 41)] + ["Tổng: Thành phố Cần Thơ"]
    pager = _pager(part)
    assert "21–40 trên 45" in pager.text()
    nxt = next(pager.find_all("a", rel="next"))
    assert nxt.attrs["hx-get"] == f"/coverage/{province.id}/adults?month=2025-08&apage=3"
    assert nxt.attrs["hx-target"] == "#adults" and nxt.attrs["hx-swap"] == "outerHTML show:top"
    # Without JavaScript the link opens the page with its adult section on that page.
    assert "adults=1" in nxt.attrs["href"] and "apage=3" in nxt.attrs["href"]
    page = client.get(nxt.attrs["href"].split("#")[0]).get_data(as_text=True)
    table = first(parse(page), "table", **{"class": "table adult-table stack"})
    assert [th.text().strip() for th in table.find_all("th", scope="row")][1] == "Xã Số 41"
    plain = client.get(f"/coverage/{province.id}/adults?month=2025-08&apage=2")
    assert plain.status_code == 302 and "apage=2" in plain.headers["Location"]
    assert "month=2025-08" in plain.headers["Location"]  # the bookmark keeps its month
    # Page 2 and back: the first page's "next" names page 2, the second's "previous" names none (the first).
    prev = next(pager.find_all("a", rel="prev"))
    assert prev.attrs["hx-get"] == f"/coverage/{province.id}/adults?month=2025-08"
    assert "apage" not in prev.attrs["href"]
    opening = _pager(client.get(f"/coverage/{province.id}/adults?month=2025-08",
                                headers={"HX-Request": "true"}).get_data(as_text=True))
    to_two = next(opening.find_all("a", rel="next"))
    assert to_two.attrs["hx-get"] == f"/coverage/{province.id}/adults?month=2025-08&apage=2"
    assert "apage=2" in to_two.attrs["href"]


def _figures(row):
    return (row.name, row.households, row.reached, {c: f.adopted for c, f in row.services.items()})


def _both_ways(unit, on):
    """Each page in name order (both directions) as coverage_by_name builds it, and as a slice of the whole."""
    from app.coverage import queries
    from app.text import sort_key
    whole = queries.coverage(unit, on)
    for descending in (False, True):
        ordered = sorted(whole.rows, key=lambda r: sort_key(r.name), reverse=descending)
        for number in (1, 2, 3):
            table, page = queries.coverage_by_name(unit, on, str(number), descending)
            assert [_figures(r) for r in table.rows] == [_figures(r) for r in page.of(ordered)]
            assert _figures(table.total) == _figures(whole.total)
            assert page.count == len(whole.rows)


def test_a_page_in_name_order_has_the_figures_of_the_whole_table(app, province):
    with app.test_request_context():
        _both_ways(province, date(2025, 8, 31))
        _both_ways(province, date(2025, 8, 15))  # a partial month: the days counted from the adoptions


def test_a_page_in_name_order_with_a_retired_unit_below_is_a_slice_of_the_whole_table(app, province):
    """With a unit retired below the province (a commune, here), its table is built whole and sliced:
    the same pages, in either direction, as where nothing is retired."""
    from app.units.models import AdminUnit
    retired = _db.session.scalar(_db.select(AdminUnit).where(AdminUnit.name == "Xã Số 07"))
    units.retire_unit(retired, date(2025, 8, 1))
    _db.session.commit()
    with app.test_request_context():
        _both_ways(province, date(2025, 8, 31))
        from app.coverage import queries
        table, page = queries.coverage_by_name(province, date(2025, 8, 31), "3", True)
        assert page.count == COMMUNES - 1
        assert [r.name for r in table.rows] == [f"Xã Số {k:02d}" for k in (4, 3, 2, 1)]  # 45–26, then 25–8 and 6, 5


def test_a_page_in_name_order_on_a_three_level_tree(app, tree):
    from tests.test_coverage import _page_data
    _page_data(tree)
    with app.test_request_context():
        for unit in (tree.province, tree.district, tree.commune, tree.hamlet):
            _both_ways(unit, date(2024, 3, 31))


def test_the_adult_section_lists_the_units_in_the_household_tables_order(db, client, login_as):
    """Vietnamese order, not the letters without their marks: "Xã Dương Hòa" before "Xã Đa Lộc" (D
    before Đ), so page 1 of the adult section is page 1 of the table above it."""
    wallet, _vneid = make_services()
    province = units.create_unit("Tỉnh Thử", "province", None, "91")
    names = ["Xã Đa Lộc", "Xã Dương Hòa", "Xã Đông Thái", "Xã Dừa", "Xã An Biên", "Xã Ân Thạnh"]
    for n, name in enumerate(names):
        hamlet = units.create_unit("Ấp Một", "hamlet", units.create_unit(name, "commune", province, f"91{n:03d}"))
        units.set_household_count(hamlet, 10, date(2025, 7, 1))
    _db.session.commit()
    login_as("province", province)
    table = _rows(client.get(f"/coverage/{province.id}?month=2025-08").get_data(as_text=True))
    part = client.get(f"/coverage/{province.id}/adults?month=2025-08",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    adult = first(parse(part), "table", **{"class": "table adult-table stack"})
    rows = [th.text().strip() for th in adult.find_all("th", scope="row")][1:-1]
    assert table == ["Xã An Biên", "Xã Ân Thạnh", "Xã Dừa", "Xã Dương Hòa", "Xã Đa Lộc", "Xã Đông Thái"]
    assert rows == table


# The macro the pages used before the links were written in Python (app/paging.py `row_pager`): the plain way.
PAGER_MACRO = """{% macro pager(rows, href, hx, hx_attrs, label) -%}
{% if rows.pages > 1 %}
<nav class="pager rows-pager" aria-label="{{ label }}">
  {#- One address made per link where htmx asks for the same one (`hx` is `href`). #}
  {% if rows.previous %}{% set to = href(rows.previous) %}<a href="{{ to }}" hx-get="{{ to if hx is sameas href else hx(rows.previous) }}" {{ hx_attrs }} rel="prev">‹ {{ _("Previous") }}</a>{% else %}<span class="pager-edge"></span>{% endif %}
  <span class="pager-count">{% if rows.stop > rows.start + 1 %}{{ _("%(first)s–%(last)s of %(count)s", first=(rows.start + 1)|number, last=rows.stop|number, count=rows.count|number) }}{% else %}{{ _("%(first)s of %(count)s", first=rows.stop|number, count=rows.count|number) }}{% endif %}</span>
  {% if rows.next %}{% set to = href(rows.next) %}<a href="{{ to }}" hx-get="{{ to if hx is sameas href else hx(rows.next) }}" {{ hx_attrs }} rel="next">{{ _("Next") }} ›</a>{% else %}<span class="pager-edge"></span>{% endif %}
</nav>
{% endif %}
{%- endmacro %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_page_links_are_the_macro_s_byte_for_byte(app, db, language):
    from flask import render_template_string, session
    from markupsafe import Markup

    from app.paging import RowPage
    both = "{{ pager(rows, href, hx, attrs, label) }}|{{ row_pager(rows, href, hx, attrs, label) }}"
    same = lambda n: f"/coverage/7?month=2025-08&sort=s-ewallet&page={n}"
    other = lambda n: f"/coverage/7/adults?apage={n}&x=<a>"
    cases = [RowPage.asked(count, page, size) for count, page, size in
             [(45, "1", 20), (45, "2", 20), (45, "3", 20), (41, "3", 20), (20, "1", 20), (0, "1", 20),
              (12_345, "300", 20), (12_345, "9999", 20), (3, "2", 1)]]
    with app.test_request_context("/"):
        session["locale"] = language
        for rows in cases:
            for href, hx in ((same, same), (same, other)):
                for attrs, label in ((Markup('hx-target="#coverage" hx-push-url="true"'), "Trang của bảng"),
                                     ('hx-target="#a" & <b>', 'Pages "of" <the> table')):
                    plain, fast = render_template_string(PAGER_MACRO + both, rows=rows, href=href, hx=hx,
                                                         attrs=attrs, label=label).split("|")
                    assert fast == plain, (rows, href is hx, attrs)
        shown = render_template_string("{{ row_pager(rows, h, h, '', 'x') }}", rows=cases[-2], h=same)
        assert ("12.341–12.345 trên 12.345" if language == "vi" else "12,341–12,345 of 12,345") in shown


def _report_units(html: str) -> list[str]:
    """The units of the report's first table (activity in the month), total last."""
    table = first(parse(html), "table", **{"class": "table report stack"})
    return [tr.attrs["data-unit"] for tr in first(table, "tbody").find_all("tr")]


def test_the_monthly_report_on_screen_goes_20_units_a_page_and_its_downloads_hold_them_all(province, client,
                                                                                             login_as):
    """A province of 45 communes: each page of the screen report holds 20 of them and the whole total, in
    every table; the page links keep the month; the printable page and the csv hold all 45."""
    login_as("province", province)
    codes = [f"9{k:04d}" for k in range(1, COMMUNES + 1)]
    html = client.get(f"/reports/{province.id}/monthly?month=2025-08").get_data(as_text=True)
    assert _report_units(html) == codes[:20] + ["92"]
    for table in parse(html).find_all("table"):  # activity, new adoptions, coverage (and adults if shown)
        assert [tr.attrs["data-unit"] for tr in first(table, "tbody").find_all("tr")] == codes[:20] + ["92"]
    # The total is the whole province's on every page: 45 × 100 households, 1 + 2 + … + 45 adopted.
    coverage_total = [tr for tr in parse(html).find_all("tr", **{"data-unit": "92"}) if "4.500" in tr.text()]
    assert len(coverage_total) == 1 and "1.035" in coverage_total[0].text()
    assert "20 trên 45" in first(parse(html), "p", **{"class": "hint"}).text()
    pager = _pager(html)
    assert "1–20 trên 45" in pager.text()
    following = first(pager, "a", rel="next").attrs["href"]
    assert following == f"/reports/{province.id}/monthly?month=2025-08&page=2"
    last = client.get(f"/reports/{province.id}/monthly?month=2025-08&page=3").get_data(as_text=True)
    assert _report_units(last) == codes[40:] + ["92"]
    assert "41–45 trên 45" in _pager(last).text()
    assert _report_units(client.get(f"/reports/{province.id}/monthly?month=2025-08&page=9")
                         .get_data(as_text=True)) == codes[40:] + ["92"]  # past the end: the last page
    printable = client.get(f"/reports/{province.id}/monthly/print?month=2025-08").get_data(as_text=True)
    assert _report_units(printable) == codes + ["92"] and _pager(printable) is None
    csv = client.get(f"/reports/{province.id}/monthly.csv?month=2025-08").get_data(as_text=True)
    assert all(code in csv for code in codes)
