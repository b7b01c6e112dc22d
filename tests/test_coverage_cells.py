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
