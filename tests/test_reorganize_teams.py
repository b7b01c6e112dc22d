"""Teams on the map as it was: a month before the reform counts each old unit's teams where they
were then, though the reorganization moved them with their hamlets (tests/test_reorganize.py's plan)."""
import re
from datetime import date

import pytest
from flask_babel import refresh

from app.extensions import db as _db
from app.reports import exports
from app.reports.summary import build_summary
from app.teams.models import Team
from app.units.models import AdminUnit, unit_for_code
from tests.test_coverage import households, visit
from tests.test_reorganize import PLAN, plan_csv, reorganize, world  # noqa: F401 - the world fixture


def _unit(unit_id):
    return _db.session.get(AdminUnit, unit_id)


def _teams(summary):
    """{unit name: (teams, teams active, members)} of every row the report shows, and its total."""
    rows = {r["name"]: (r["teams"], r["active_teams"], r["members"]) for _l, level in summary.levels for r in level}
    rows[summary.unit["name"]] = (summary.total["teams"], summary.total["active_teams"], summary.total["members"])
    return rows


@pytest.fixture
def reformed(world, runner, tmp_path):  # noqa: F811 - the fixture imported above
    # Each team logs a visit in May, so it is active in that month.
    for team_id, hamlet_id in zip(world.teams, (world.hamlet, world.other_hamlet2)):
        visit(households(_unit(hamlet_id), 1)[0], date(2025, 5, 6), team=_db.session.get(Team, team_id))
    _db.session.commit()
    before = {m: build_summary(_unit(world.province), 2025, m) for m in (3, 5)}
    result = reorganize(runner, plan_csv(tmp_path, PLAN))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    refresh()  # the command chose English for its output in this application context
    return world, before


def _xlsx_teams(data: bytes) -> dict[str, tuple]:
    """{unit name: (teams, teams active, members)} from every sheet of a report's workbook."""
    from io import BytesIO

    from openpyxl import load_workbook
    out = {}
    for ws in load_workbook(BytesIO(data)).worksheets:
        rows = list(ws.iter_rows(values_only=True))
        head = rows[3]  # after the title, the produced line and a blank row
        lead = 3 if head[2] in ("Thuộc", "Belongs to") else 2
        if head[lead] not in ("Số tổ", "Number of teams"):
            continue  # the adults' sheet
        out.update({r[1]: tuple(r[lead:lead + 3]) for r in rows[4:] if r[0]})  # the total has no code
    return out


def test_an_old_district_and_commune_count_the_teams_they_had_in_a_month_before_the_reform(
        reformed, client, login_as):
    world, before = reformed  # noqa: F811 - the ids of the world fixture
    may = build_summary(_unit(world.province), 2025, 5, as_then=True)
    teams = _teams(may)
    # Tổ Phường I was Phường I's (Thành phố Vị Thanh's) in May; Tổ Một Ngàn was Thị trấn Một Ngàn's.
    assert teams["Phường I"] == (1, 1, 3) and teams["Thành phố Vị Thanh"] == (1, 1, 3)
    assert teams["Thị trấn Một Ngàn"] == (1, 1, 3) and teams["Huyện Châu Thành A"] == (1, 1, 3)
    assert teams["Phường III"] == (0, 0, 0) and teams["Tỉnh Hậu Giang"] == (2, 2, 6)
    # The same figures the report gave before the reform moved the teams.
    assert teams == _teams(before[5])
    # June, the old units' last month, still counts them; the new province counts them from July.
    assert build_summary(_unit(world.commune), 2025, 6, as_then=True).total["teams"] == 1
    assert build_summary(unit_for_code("92"), 2025, 8).total["teams"] == 2

    # Every download says the same: the closed March byte for byte, the open May counted now.
    login_as("province", unit_for_code("92"))
    with client.application.test_request_context():  # in the page's language, as the downloads are
        march_csv, march_xlsx = exports.write_csv(before[3]), exports.write_xlsx(before[3])
        may_before = exports.write_csv(before[5])
    assert client.get(f"/reports/{world.province}/monthly.csv?month=2025-03").data == march_csv
    assert client.get(f"/reports/{world.province}/monthly.xlsx?month=2025-03").data == march_xlsx
    may_csv = client.get(f"/reports/{world.province}/monthly.csv?month=2025-05").data
    assert [line.split(",")[1:7] for line in may_csv.decode("utf-8-sig").splitlines()[1:]] == \
        [line.split(",")[1:7] for line in may_before.decode("utf-8-sig").splitlines()[1:]]
    may_xlsx = _xlsx_teams(client.get(f"/reports/{world.province}/monthly.xlsx?month=2025-05").data)
    assert may_xlsx["Phường I"] == may_xlsx["Thành phố Vị Thanh"] == (1, 1, 3)
    for page in ("monthly", "monthly/print"):
        resp = client.get(f"/reports/{world.district}/{page}?month=2025-05")
        cells = {name: counts for name, *counts in re.findall(
            r'<th scope="row">(?:<a[^>]*>)?(Phường III|Phường I)(?:</a>)?</th>\s*'
            r'<td[^>]*data-key="teams">(\d+)</td>\s*<td[^>]*data-key="active_teams">(\d+)</td>\s*'
            r'<td[^>]*data-key="members">(\d+)</td>', resp.get_data(as_text=True))}
        assert resp.status_code == 200 and cells["Phường I"] == ["1", "1", "3"], page
        assert cells["Phường III"] == ["0", "0", "0"]


def test_on_today_s_units_the_new_commune_counts_its_teams_and_the_team_s_history_shows_both_communes(
        reformed, client, login_as):
    world, _before = reformed  # noqa: F811 - the ids of the world fixture
    vi_thanh = unit_for_code("31321")
    may = build_summary(vi_thanh, 2025, 5)
    assert (may.total["teams"], may.total["active_teams"], may.total["members"]) == (1, 1, 3)
    province = _teams(build_summary(unit_for_code("92"), 2025, 5))
    assert province["Phường Vị Thanh"] == (1, 1, 3) and province["Thành phố Cần Thơ"] == (2, 2, 6)
    login_as("commune", vi_thanh)
    page = client.get(f"/teams/{world.teams[0]}")
    text = " ".join(page.get_data(as_text=True).split())
    assert page.status_code == 200
    assert ("<strong>01/07/2025</strong> Chuyển cùng các thôn, ấp từ Phường I về Phường Vị Thanh "
            "theo phương án sắp xếp") in text
