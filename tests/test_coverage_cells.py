"""The coverage table's cells written in Python (app/coverage/cells.py) are the cells the plain Jinja
macro writes, whitespace aside, in Vietnamese and English."""
import random
import re
from types import SimpleNamespace

import pytest

from app.coverage.cells import CellWriter
from app.coverage.queries import CoverageRow, ServiceFigure

# The macro the table used before its cells were written in one Python pass: the plain way.
PLAIN = """
{%- macro figures(row) %}
  <td class="num">{{ row.households|number }}</td>
  <td class="num">{{ row.reached|number }}</td>
  <td class="num">{{ row.reach_share|percent }}</td>
  {% for s in services %}{% set f = row.services[s.code] %}
  <td class="num cov{% if f.below_target %} below{% endif %}">
    <span class="share">{% if f.below_target %}<span aria-hidden="true">▼ </span>
      <span class="visually-hidden">{{ _("Below target:") }} </span>{% endif %}{{ f.share|percent }}</span>
    <span class="sub">{{ _("%(n)s hh", n=f.adopted|number) }}</span>
    {% if f.gap is not none %}<span class="sub gap">
      {%- if f.gap < 0 %}{{ _("%(gap)s pts short", gap=(-f.gap * 100)|round(1)|number) }}
      {%- else %}{{ _("target met") }}{% endif %}</span>{% endif %}
  </td>
  {% endfor %}
{% endmacro -%}
{%- macro shares(row) %}
  <td class="num">{{ row.households|number }}</td>
  <td class="num">{{ row.reach_share|percent }}</td>
  {% for s in services %}<td class="num">{{ row.services[s.code].share|percent }}</td>{% endfor %}
{% endmacro -%}
{% for row in rows %}<tr>{{ figures(row) if kind == 'cells' else shares(row) }}</tr>
{% endfor %}"""


def _rows(services, count=300):
    """Rows with every case: no households, no target, below, exactly on and above a target, big numbers."""
    rng = random.Random(21)
    rows = []
    for _ in range(count):
        households = rng.choice([0, 1, 7, 320, 1851, 500291, rng.randint(0, 10**6)])
        figures = {}
        for s in services:
            adopted = rng.randint(0, households) if households else 0
            share = adopted / households if households else None
            target = rng.choice([None, 0.0, 0.5, 0.7, 1.0, share if share is not None else 0.3])
            figures[s.code] = ServiceFigure(service=s, adopted=adopted, share=share, target_share=target)
        rows.append(CoverageRow(households=households, reached=rng.randint(0, households) if households else 0,
                                services=figures))
    return rows


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+", ">", re.sub(r"\s+<", "<", str(html)))).strip()


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_python_cells_are_the_macros_cells(app, locale):
    services = [SimpleNamespace(code=code) for code in ("dvc", "vneid", "ttkdtt", "hocso")]
    rows = _rows(services)
    with app.test_request_context(headers={"Accept-Language": locale}):
        from flask import session
        session["locale"] = locale
        plain = app.jinja_env.from_string(PLAIN)
        writer = CellWriter(services)
        written = {}
        for kind, write in (("cells", writer.cells), ("shares", writer.shares)):
            expected = _squeeze(plain.render(rows=rows, services=services, kind=kind))
            written[kind] = _squeeze("".join(f"<tr>{write(row)}</tr>" for row in rows))
            assert written[kind] == expected
    short, met = ("điểm phần trăm", "đạt chỉ tiêu") if locale == "vi" else ("pts short", "target met")
    assert short in written["cells"] and met in written["cells"] and "–" in written["shares"]


# The adult section's rows as coverage/_adults.html wrote them before its cells came from CellWriter.
PLAIN_ADULT = """
{% set l_adults, l_att, l_named, l_named_share, l_online, l_online_share = _("Adults"), _("Attendances (month)"), _("Named learners"), _("Share of adults"), _("Online dossiers (month)"), _("Share of dossiers") %}
{% for f in rows %}<tr>
  <td class="num" data-label="{{ l_adults }}">{{ f.adults|number }}</td>
  <td class="num" data-label="{{ l_att }}">{{ f.attendances|number }}</td>
  <td class="num" data-label="{{ l_named }}">{{ f.named|number }}</td>
  <td class="num{% if named_target and f.named_share is not none and f.named_share < named_target.share|float %} below{% endif %}" data-label="{{ l_named_share }}">{{ f.named_share|percent if f.named_share is not none else '–' }}</td>
  <td class="num" data-label="{{ l_online }}">{{ f.online|number }}</td>
  <td class="num{% if online_target and f.online_share is not none and f.online_share < online_target.share|float %} below{% endif %}" data-label="{{ l_online_share }}">{{ f.online_share|percent if f.online_share is not none else '–' }}</td>
</tr><tr>{% for s in services %}<td class="num" data-label="{{ s.name }}">{{ f.working.get(s.code, 0)|number }}</td>{% endfor %}</tr>
{% endfor %}"""  # noqa: E501


def _adult_rows(services, count=300):
    from app.coverage.adults import AdultFigures
    rng = random.Random(16)
    rows = []
    for _ in range(count):
        adults = rng.choice([0, 1, 35, 1800, 412345, rng.randint(0, 10**6)])
        dossiers = rng.choice([0, 60, rng.randint(0, 5000)])
        rows.append(AdultFigures(
            adults=adults, attendances=rng.randint(0, 5000), named=rng.randint(0, adults) if adults else 0,
            working={s.code: rng.randint(1, 300) for s in services if rng.random() < 0.6},
            online=rng.randint(0, 900), online_counted=rng.randint(0, dossiers), commune_dossiers=dossiers))
    return rows


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("targets", [(None, None), (0.3, 0.8), (0.0, 1.0)])
def test_the_python_adult_cells_are_the_templates_cells(app, locale, targets):
    services = [SimpleNamespace(code=code, name=name) for code, name in
                (("vneid", "VNeID mức 2"), ("e_wallet", "Ví điện tử & <ngân hàng>"), ("dvc", "Dịch vụ công"))]
    rows = _adult_rows(services)
    named, online = (SimpleNamespace(share=str(t)) if t is not None else None for t in targets)
    with app.test_request_context(headers={"Accept-Language": locale}):
        from flask import session
        session["locale"] = locale
        expected = _squeeze(app.jinja_env.from_string(PLAIN_ADULT).render(
            rows=rows, services=services, named_target=named, online_target=online))
        writer = CellWriter(services)
        written = _squeeze("".join(
            f"<tr>{writer.adult_cells(f, *targets)}</tr><tr>{writer.working_cells(f, services)}</tr>" for f in rows))
    assert written == expected
    assert "&lt;ngân hàng&gt;" in written
    assert ("Học viên có tên" if locale == "vi" else "Named learners") in written
    if targets[0]:
        assert "num below" in written


# A phone card's figures as coverage/_content.html wrote them before they came from CellWriter.card.
PLAIN_CARD = """
{% for row in rows %}{% set f = row.services[code] %}<li class="{{ ' below' if f.below_target }}">
<span class="share">{% if f.below_target %}<span aria-hidden="true">▼ </span><span class="visually-hidden">{{ _("Below target:") }} </span>{% endif %}{{ f.share|percent if f.share is not none else '–' }}</span>
<p class="meta">{{ _("%(n)s hh", n=f.adopted|number) }} / {{ row.households|number }}{% if f.gap is not none %} · {% if f.below_target %}{{ _("%(gap)s pts short", gap=(-f.gap * 100)|round(1)|number) }}{% else %}{{ _("target met") }}{% endif %}{% endif %} · {{ _("Reach") }} {{ row.reach_share|percent if row.reach_share is not none else '–' }}</p></li>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_python_phone_cards_are_the_templates_cards(app, locale):
    services = [SimpleNamespace(code=code) for code in ("dvc", "vneid")]
    rows = _rows(services)
    with app.test_request_context(headers={"Accept-Language": locale}):
        from flask import session
        session["locale"] = locale
        writer = CellWriter(services)
        for code in ("dvc", "vneid"):
            expected = _squeeze(app.jinja_env.from_string(PLAIN_CARD).render(rows=rows, code=code))
            cards = [writer.card(row, code) for row in rows]
            written = _squeeze("".join(f'<li class="{" below" if below else ""}">{share}{meta}</li>'
                                       for below, share, meta in cards))
            assert written == expected
    assert any(below for below, _s, _m in cards) and not all(below for below, _s, _m in cards)
    assert ("đạt chỉ tiêu" if locale == "vi" else "target met") in written


def test_a_row_written_before_is_written_anew_when_its_target_share_or_language_changes(app):
    # Each worker keeps the cells of the rows it wrote, by everything they show: the same households
    # and adopters under another target (the province changed it), another share or language.
    from flask import session
    service = SimpleNamespace(code="vneid")

    def row(adopted, share, target):
        figure = ServiceFigure(service=service, adopted=adopted, share=share, target_share=target)
        return CoverageRow(households=200, reached=120, services={"vneid": figure})

    for locale, short, met in (("vi", "thiếu %s điểm phần trăm", "đạt chỉ tiêu"), ("en", "%s pts short", "target met")):
        with app.test_request_context():
            session["locale"] = locale
            writer = CellWriter([service])
            assert short % 5 in writer.cells(row(90, 0.45, 0.5))
            assert short % 15 in writer.cells(row(90, 0.45, 0.6))
            assert met in writer.cells(row(90, 0.45, 0.4))
            assert short % 5 in CellWriter([service]).cells(row(90, 0.45, 0.5))  # kept, and still right
            # The same adopters over the same households with another share (a row built otherwise).
            assert short % 10 in writer.cells(row(90, 0.5, 0.6))


# The table's body rows and the phone cards as coverage/_content.html wrote them before they came from
# CellWriter (table_row, card_item).
PLAIN_ROWS = """
{% for row, url in body %}<tr{% if row.below_any_target %} class="lagging"{% endif %}>
  <th scope="row">
    {% if url %}<a href="{{ url }}" hx-get="{{ url }}" hx-target="#coverage"
       hx-swap="innerHTML show:window:top" hx-push-url="true">{{ row.name }}</a>
    {% else %}{{ row.name }}{% endif %}
  </th>
  {{ writer.cells(row) }}
</tr>{% endfor %}
{% for row, url in body %}{% set below, share, meta = writer.card(row, code) %}<li class="{{ ' below' if below }}">
  <div class="unit-card-head">
    {% if url %}<a href="{{ url }}" hx-get="{{ url }}" hx-target="#coverage"
       hx-swap="innerHTML show:window:top" hx-push-url="true">{{ row.name }}</a>
    {% else %}<strong>{{ row.name }}</strong>{% endif %}
    {{ share }}
  </div>
  {{ meta }}
</li>{% endfor %}"""


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_python_table_rows_and_cards_are_the_templates(app, locale):
    services = [SimpleNamespace(code=code) for code in ("dvc", "vneid", "hocso")]
    names = ["Ấp Đông Hòa <1>", 'Tổ "A" & B', "Xã Đông Hòa Hiệp", "Ấp Long Hưng 4 (Xã Hòa Khánh)"]
    urls = ["/coverage/448", "/coverage/9?month=2026-11&sort=name", None]
    rows = _rows(services, 120)
    for i, row in enumerate(rows):
        row.unit = SimpleNamespace(name=names[i % len(names)])
    body = [(row, urls[i % len(urls)]) for i, row in enumerate(rows)]
    with app.test_request_context():
        from flask import session
        session["locale"] = locale
        writer = CellWriter(services)
        for code in ("dvc", "hocso"):
            expected = _squeeze(app.jinja_env.from_string(PLAIN_ROWS).render(body=body, writer=writer, code=code))
            written = _squeeze("".join([writer.table_row(row, url) for row, url in body]
                                       + [writer.card_item(row, url, code) for row, url in body]))
            assert written == expected
    assert "&lt;1&gt;" in written and "&amp;sort=name" in written and 'class="lagging"' in written


def _tallied_rows(services, count=200, seed=5):
    """(row made from a tally, the same row given its figures as the plain way builds them), with every case:
    no households, services missing from the tally, no target, below, on and above one."""
    from datetime import date

    from app.coverage.queries import REACH, RowPlan
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        entries = tuple((s, s.code, rng.choice([None, 0.0, 0.5, 0.7, 1.0]), rng.choice([None, date(2026, 12, 31)]))
                        for s in services)
        plan = RowPlan(entries, tuple(s.id for s in services), tuple((code, share) for _s, code, share, _d in entries))
        households = rng.choice([0, 1, 7, 320, 1851, 500291])
        tally = {s.id: rng.randint(0, households) for s in services if households and rng.random() < 0.8}
        tally[REACH] = rng.randint(0, households) if households else 0
        plain = CoverageRow(households=households, reached=tally[REACH], services={
            code: ServiceFigure(service=s, adopted=tally.get(s.id, 0),
                                share=tally.get(s.id, 0) / households if households else None,
                                target_share=target, target_date=due)
            for s, code, target, due in entries})
        out.append((CoverageRow.tallied(households, tally, plan), plain))
    return out


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_row_made_from_a_tally_has_the_figures_and_markup_of_one_given_them(app, locale):
    services = [SimpleNamespace(code=code, id=i) for i, code in enumerate(("dvc", "vneid", "hocso"), start=1)]
    pairs = _tallied_rows(services)
    with app.test_request_context():
        from flask import session
        session["locale"] = locale
        writer = CellWriter(services)
        for n, (tallied, plain) in enumerate(pairs):
            tallied.unit = plain.unit = SimpleNamespace(name=f"Ấp Đông Hòa {n}")
            # Written from the tally first, then from the figures, then again from the tally (kept): the same.
            cells = writer.cells(tallied)
            assert cells == writer.cells(plain) == writer.cells(tallied)
            assert writer.table_row(tallied, "/coverage/7") == writer.table_row(plain, "/coverage/7")
            assert writer.card_item(tallied, None, "vneid") == writer.card_item(plain, None, "vneid")
            assert tallied.services == plain.services and tallied == plain
            assert tallied.below_any_target == plain.below_any_target
    # A name the row does not have stays missing on both (a template's typo shows empty, not the figures).
    tallied, plain = pairs[0]
    assert not hasattr(tallied, "share") and not hasattr(plain, "share")
    assert getattr(_tallied_rows(services, count=1)[0][0], "figures", None) is None


def test_a_row_from_a_tally_is_written_anew_when_its_target_or_households_change_and_not_otherwise(app):
    from app.coverage.queries import REACH, RowPlan
    service = SimpleNamespace(code="vneid", id=3)

    def row(households, adopted, target):
        plan = RowPlan(((service, "vneid", target, None),), (3,), (("vneid", target),))
        return CoverageRow.tallied(households, {3: adopted, REACH: 150}, plan)

    with app.test_request_context():
        from flask import session
        session["locale"] = "en"
        writer = CellWriter([service])
        assert "5 pts short" in writer.cells(row(200, 90, 0.5))
        assert "15 pts short" in writer.cells(row(200, 90, 0.6))  # the province raised its target
        assert "target met" in writer.cells(row(180, 90, 0.5))    # fewer households: 50%
        assert "40.0%" in writer.cells(row(200, 80, None)) and "pts short" not in writer.cells(row(200, 80, None))
        again = row(200, 90, 0.5)
        assert "5 pts short" in writer.cells(again)
        assert not _figures_made(again)  # kept: written without making its figures
        assert again.services["vneid"].share == 0.45 and _figures_made(again)


def _figures_made(row) -> bool:
    """Whether the row's `services` slot is set (reading it through the row would make them)."""
    try:
        CoverageRow.services.__get__(row, CoverageRow)
    except AttributeError:
        return False
    return True


# The adult section's two table bodies as coverage/_adults.html looped over them before CellWriter.adult_body.
PLAIN_ADULT_BODIES = """{% set total_name = _("Total: %(name)s", name=unit.name) -%}
{% for row, cells, _working in adult_body %}
      <tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ total_name if loop.last else row.unit.name }}</th>{{ cells }}</tr>
    {% endfor %}|{% for row, _cells, working in adult_body %}
      <tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ total_name if loop.last else row.unit.name }}</th>{{ working }}</tr>
    {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_adult_section_s_rows_are_the_template_loops_byte_for_byte(app, locale):
    from app.coverage.adults import AdultRow
    services = [SimpleNamespace(code=code, name=name) for code, name in
                (("vneid", "VNeID mức 2"), ("e_wallet", "Ví điện tử & <ngân hàng>"))]
    names = ["Xã Đông Hòa <Hiệp>", 'Ấp "Một" & Hai', "Phường Vị Thanh"]
    figures = _adult_rows(services, 60)
    rows = [AdultRow(SimpleNamespace(name=names[i % 3]), f) for i, f in enumerate(figures[:-1])]
    total = AdultRow(SimpleNamespace(name="Tỉnh <Cần Thơ>"), figures[-1])
    with app.test_request_context():
        from flask import session
        session["locale"] = locale
        from flask_babel import gettext
        for named, online in ((None, None), (0.3, 0.8), (0.5, 0.2)):
            writer = CellWriter(services)
            body = [(r, writer.adult_cells(r.figures, named, online), writer.working_cells(r.figures, services))
                    for r in rows + [total]]
            expected = app.jinja_env.from_string(PLAIN_ADULT_BODIES).render(adult_body=body, unit=total.unit)
            for _ in range(2):  # written, then kept
                written = writer.adult_body(rows, total, gettext("Total: %(name)s", name=total.unit.name),
                                            named, online, services)
                assert f"{written[0]}|{written[1]}" == expected
        assert "Xã Đông Hòa &lt;Hiệp&gt;" in written[0] and "&lt;Cần Thơ&gt;" in written[1]
        # A service renamed: the kept rows are written anew under the new name.
        renamed = [SimpleNamespace(code="vneid", name="Định danh mức 2"), services[1]]
        working = CellWriter(renamed).adult_body(rows, total, gettext("Total: %(name)s", name=total.unit.name),
                                                 None, None, renamed)[1]
        assert working.count('data-label="Định danh mức 2"') == len(rows) + 1 and "VNeID mức 2" not in working
