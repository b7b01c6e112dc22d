"""Downloads are named from a safe slug, whatever a unit's code or name holds already in the database."""
import os
import re
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.auth.cli import create_user
from app.downloads import file_name, slug
from app.households.operations import create_household
from app.units.models import AdminUnit
from tests import servers
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2024-10"
# Codes and names as an attack run imported them, before codes were validated at input (the code
# within the column's 20 characters, which PostgreSQL enforces and SQLite does not).
EVIL_CODE = "\";filename=evil.html"
LONG_EVIL_CODE = "X\";filename*=UTF-8''evil.html;x=\""
EVIL_NAME = "MÃ…Ấ \"quoted\"; name\r\nX-Injected: 1\x07"
EXPECTED = "bao-cao-filename-evil-html-2024-10"
# A clean header: `attachment` and an ASCII, token-safe file name, nothing else.
CLEAN = re.compile(r"attachment; filename=[a-z0-9][a-z0-9.-]*\Z")


def _poison(db, unit: AdminUnit, code: str | None, name: str) -> None:
    """Write the values straight into the table, as an older import or another tool left them."""
    db.session.execute(sa.update(AdminUnit).where(AdminUnit.id == unit.id).values(code=code, name=name))
    db.session.commit()


def test_slugs_are_ascii_words_joined_by_hyphens():
    assert slug("Phường I (Vị Thanh)") == "phuong-i-vi-thanh"
    assert slug(LONG_EVIL_CODE) == "x-filename-utf-8-evil-html-x"
    assert slug("\r\n\x00\"';") == ""
    assert file_name("bao-cao", "Ấp Đông", "2026-11", ext="xlsx") == "bao-cao-ap-dong-2026-11.xlsx"
    assert file_name("", "\u200b", ext="csv") == "tai-ve.csv"
    # A long name is cut at 60 characters, never in the middle of a hyphen run at the end.
    assert slug("Ấp " + "Phú Hòa " * 20) == ("ap-" + "phu-hoa-" * 8)[:60].strip("-")
    assert len(slug("x" * 100)) == 60


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_report_download_of_a_unit_with_a_hostile_code_has_a_clean_name(tree, login_as, client, db, kind):
    _poison(db, tree.hamlet, EVIL_CODE, EVIL_NAME)
    login_as("province", tree.province)
    resp = client.get(f"/reports/{tree.hamlet.id}/monthly.{kind}?month={MONTH}")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert CLEAN.match(disposition), disposition
    assert disposition == f"attachment; filename={EXPECTED}.{kind}"
    assert "X-Injected" not in resp.headers and resp.headers["Cache-Control"] == "no-store"


def test_a_unit_without_a_code_is_named_by_its_name_and_one_with_neither_by_its_id(tree, login_as, client, db):
    _poison(db, tree.hamlet, None, "Ấp \"Mới\"; ÃẤ\r\n")
    _poison(db, tree.hamlet2, None, "\"\r\n;\x07…")
    login_as("province", tree.province)
    named = client.get(f"/reports/{tree.hamlet.id}/monthly.csv?month={MONTH}")
    assert named.headers["Content-Disposition"] == "attachment; filename=bao-cao-ap-moi-aa-2024-10.csv"
    nameless = client.get(f"/reports/{tree.hamlet2.id}/monthly.xlsx?month={MONTH}")
    assert nameless.status_code == 200
    assert nameless.headers["Content-Disposition"] == \
        f"attachment; filename=bao-cao-don-vi-{tree.hamlet2.id}-2024-10.xlsx"


def test_report_page_and_print_of_a_hostile_unit_open(tree, login_as, client, db):
    _poison(db, tree.hamlet, EVIL_CODE, EVIL_NAME)
    login_as("province", tree.province)
    for path in ("monthly", "monthly/print"):
        resp = client.get(f"/reports/{tree.hamlet.id}/{path}?month={MONTH}")
        assert resp.status_code == 200 and "Content-Disposition" not in resp.headers
        assert "MÃ…Ấ &#34;quoted&#34;" in resp.get_data(as_text=True)


def test_household_export_of_a_hostile_hamlet_is_a_clean_attachment(tree, login_as, client, db):
    household = create_household(tree.hamlet.id, "Nguyễn Văn \"A\"; B\r\n")
    db.session.commit()
    _poison(db, tree.hamlet, EVIL_CODE, EVIL_NAME)
    login_as("commune", tree.commune)
    resp = client.get(f"/households/{household.id}/export.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f"attachment; filename=household-{household.id}.json"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "ETag" not in resp.headers  # personal data: nothing a cache could revalidate


@pytest.fixture
def gunicorn(app, tmp_path):
    """One gunicorn worker on the test database; skipped if it cannot start here, failed in CI
    (REQUIRE_SERVICES=1), as tests/test_faults.py's servers are."""
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    with servers.gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log",
                          start_within=60 if required else 20,
                          not_started=pytest.fail if required else pytest.skip) as (base, _proc):
        yield base


def test_under_gunicorn_hostile_units_download_with_a_clean_name(tree, db, gunicorn):
    _poison(db, tree.hamlet, EVIL_CODE, EVIL_NAME)
    _poison(db, tree.hamlet2, "MÃ…Ấ", "MÃ…Ấ")
    create_user("tinh", "province", tree.province, PASSWORD)
    db.session.commit()
    http = requests.Session()
    page = http.get(gunicorn + "/auth/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed_in = http.post(gunicorn + "/auth/login", timeout=10, allow_redirects=False,
                          data={"username": "tinh", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    for unit, expected in ((tree.hamlet, EXPECTED), (tree.hamlet2, "bao-cao-ma-a-2024-10")):
        for kind in ("xlsx", "csv"):
            resp = http.get(f"{gunicorn}/reports/{unit.id}/monthly.{kind}?month={MONTH}", timeout=10)
            assert resp.status_code == 200, (unit.code, kind)
            assert resp.headers["Content-Disposition"] == f"attachment; filename={expected}.{kind}"
            assert len(resp.content) > 100
