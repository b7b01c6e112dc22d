"""The administrative tree: GSO and file imports, hamlets, household counts, and their scope."""
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import Workbook

from app.audit.models import AuditEvent
from app.dates import today_vn
from app.units.models import AdminUnit, HouseholdCount
from app.units.operations import create_unit
from tests.form_versions import with_version
from tests.html_tree import parse


def units_named(db, name):
    return db.session.scalars(sa.select(AdminUnit).where(AdminUnit.name == name)).all()


def test_import_gso_loads_hau_giang(runner, db):
    result = runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-06-30"])
    assert result.exit_code == 0, result.output
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "93"))
    assert province.name == "Tỉnh Hậu Giang" and province.level == "province"
    districts = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == province.id)).all()
    assert len(districts) == 8  # DOMAIN.md: 8 district-level units
    communes = db.session.scalar(sa.select(sa.func.count()).where(
        AdminUnit.level == "commune", AdminUnit.path.startswith(province.path)))
    assert communes == 75       # DOMAIN.md: 75 communes
    vi_thanh = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "930"))
    assert vi_thanh.name == "Thành phố Vị Thanh" and vi_thanh.parent_id == province.id
    assert "84 units created, 0 renamed" in result.output  # the province, 8 districts, 75 communes
    # Running it again changes nothing; a name edited since is put back, and said.
    vi_thanh.name, vi_thanh.kind = "Thành phố Vị Thanh (sửa tay)", None
    db.session.commit()
    again = runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-06-30"])
    assert again.exit_code == 0 and "0 units created, 1 renamed" in again.output, again.output
    db.session.expire_all()
    vi_thanh = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "930"))
    assert vi_thanh.name == "Thành phố Vị Thanh" and vi_thanh.kind == "thanh_pho"


def test_import_gso_keeps_an_island_district_without_communes(runner, db):
    """Before the reform Đà Nẵng's Huyện Hoàng Sa had no commune: it is loaded as a district of none, and
    no commune without a code is made for it."""
    result = runner.invoke(args=["units", "import-gso", "--province", "48", "--on", "2025-06-30"])
    assert result.exit_code == 0, result.output
    hoang_sa = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "498"))
    assert hoang_sa.name == "Huyện Hoàng Sa" and hoang_sa.level == "district"
    assert db.session.scalar(sa.select(sa.func.count()).where(AdminUnit.parent_id == hoang_sa.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(
        AdminUnit.level == "commune", sa.or_(AdminUnit.code.is_(None), AdminUnit.code == ""))) == 0


def test_import_gso_unknown_province(runner):
    """On either list, a code no province bears is refused, naming the list's day and the data it came from."""
    from importlib.metadata import version
    for on in ("2025-06-30", "2026-12-01"):
        result = runner.invoke(args=["units", "import-gso", "--province", "00", "--on", on])
        assert result.exit_code == 1, result.output
        assert (f"no province with GSO code '00' in the list in force on {on} "
                f"(vietnamadminunits {version('vietnamadminunits')})") in result.output


def test_the_official_links_into_can_tho_say_which_old_communes_merged_whole_and_which_were_split():
    """New Cần Thơ (92) took in old Cần Thơ, Hậu Giang and Sóc Trăng: each of its 103 communes has its old ones;
    Phường Vị Thanh took Phường I, III and VII whole; old Phường Bùi Hữu Nghĩa (31178) was split between Phường
    Cái Khế and Phường Bình Thủy, and only an old commune that went to several new ones is marked split (its
    hamlets must then be assigned one by one in the plan)."""
    from app.units import official
    links = official.links_into("92")
    assert {link.old_province_code for link in links} == {"92", "93", "94"}
    assert len({link.new_code for link in links}) == 103 and all(link.old_code for link in links)
    assert [(x.old_code, x.old_province_code, x.split) for x in links if x.new_code == "31321"] == [
        ("31318", "93", False), ("31321", "93", False), ("31330", "93", False)]
    assert [(x.new_code, x.split) for x in links if x.old_code == "31178"] == [("31120", True), ("31168", True)]
    targets: dict[str, list] = {}
    for link in links:
        targets.setdefault(link.old_code, []).append(link)
    for old, its in targets.items():
        assert {x.split for x in its} == {len(its) > 1}, old
    assert sum(len(its) > 1 for its in targets.values()) == 19
    # Hải Phòng's Đặc khu Bạch Long Vĩ was an island district without communes: it has no old commune to draft.
    haiphong = official.links_into("31")
    assert haiphong and all(link.old_code for link in haiphong)
    assert [x for x in haiphong if x.new_code == "11948"] == []


def test_a_province_code_typed_without_its_leading_zero_is_the_same_province():
    """Tuyên Quang is 08 on both lists; an officer typing 8 (or " 8 ") means it."""
    from app.units import official
    for day in (date(2025, 6, 30), date(2025, 7, 1)):
        units = official.province_units(" 8 ", day)
        assert units == official.province_units("08", day) and units[0].name == "Tỉnh Tuyên Quang", day
        assert units[0].code == "08"
    links = official.links_into("8")
    assert links == official.links_into("08") and len(links) > 100
    assert {link.old_province_code for link in links} == {"02", "08"}  # Hà Giang's communes and its own


def test_import_gso_on_the_reform_day_loads_can_tho_with_its_103_communes_and_their_kinds(runner, db):
    result = runner.invoke(args=["units", "import-gso", "--province", "92", "--on", "2025-07-01"])
    assert result.exit_code == 0, result.output
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "92"))
    assert province.name == "Thành phố Cần Thơ" and province.kind == "thanh_pho_tw"
    communes = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == province.id)).all()
    assert len(communes) == 103  # DOMAIN.md: 31 phường, 72 xã, no districts
    kinds = [c.kind for c in communes]
    assert (kinds.count("phuong"), kinds.count("xa")) == (31, 72)
    vi_thanh = next(c for c in communes if c.code == "31321")
    assert vi_thanh.name == "Phường Vị Thanh" and vi_thanh.valid_from == date(2025, 7, 1)
    assert "104 units created, 0 renamed" in result.output
    # The same list again is the same units, not a clash with an earlier list.
    again = runner.invoke(args=["units", "import-gso", "--province", "92", "--on", "2026-12-01"])
    assert again.exit_code == 0 and "0 units created, 0 renamed" in again.output, again.output


def test_hau_giang_is_not_in_the_list_in_force_after_the_reform(runner, db):
    result = runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-07-01"])
    assert result.exit_code != 0 and "no province" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 0


def test_a_code_of_the_other_list_is_named_with_its_successor_and_the_day_to_give(runner, db):
    """Hậu Giang (93) is not in today's list: the refusal says what 93 was, which province took it in, the --on
    that loads the old list, and how to list the codes in force."""
    for args in ([], ["--on", "2025-07-01"]):
        result = runner.invoke(args=["units", "import-gso", "--province", "93", *args])
        assert result.exit_code == 1, result.output
        assert "the 34-province list. 93 was Tỉnh Hậu Giang until 30/06/2025; it is now part of 92 Thành phố " \
               "Cần Thơ; for the list before the reform add --on 2025-06-30." in result.output, result.output
        assert ("`flask units import-gso --list" + (" --on 2025-07-01`" if args else "`")) in result.output
    from app.units import official
    assert official.province_in_the_other_list("93", date(2025, 6, 30)) is None  # the old list has it
    later = official.province_in_the_other_list("92", date(2025, 6, 30))
    assert (later.name, later.since, later.until) == ("Thành phố Cần Thơ", date(2025, 7, 1), None)


def test_import_gso_lists_the_provinces_of_the_list_in_force(runner, db):
    result = runner.invoke(args=["units", "import-gso", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"34 provinces in the list in force on {today_vn():%Y-%m-%d}") and len(lines) == 35
    assert "92\tThành phố Cần Thơ" in lines and not any(line.startswith("93\t") for line in lines)
    old = runner.invoke(args=["units", "import-gso", "--list", "--on", "2025-06-30"]).output.splitlines()
    assert old[0].startswith("63 provinces") and "93\tTỉnh Hậu Giang" in old and len(old) == 64
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 0


def test_the_new_list_over_the_old_one_sharing_codes_is_refused_for_a_reorganization(runner, db):
    assert runner.invoke(args=["units", "import-gso", "--province", "93", "--on", "2025-06-30"]).exit_code == 0
    result = runner.invoke(args=["units", "import-gso", "--province", "92", "--on", "2025-07-01"])
    assert result.exit_code != 0 and "reorganization" in result.output
    # It says how many codes clash and names the first five.
    clash = re.search(r"(\d+) code\(s\) of this list are borne today by units of an earlier list \(([^)]*)\)",
                      result.output)
    assert clash and int(clash.group(1)) > 5 and len(clash.group(2).split(", ")) == 5, result.output
    old = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "31321"))
    assert old.name == "Phường III"  # not renamed in place


def write_csv(tmp_path, text, name="units.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_file_reports_every_bad_row_and_imports_nothing(runner, db, tmp_path):
    path = write_csv(tmp_path, (
        "code,name,level,parent_code,households,effective_date\n"
        "01,Thành phố Hà Nội,province,,,\n"
        "001,Quận Ba Đình,district,01,,\n"
        "00001,,commune,001,1200,2024-01-01\n"          # line 4: no name
        "00004,Phường Trúc Bạch,commune,999,abc,2024-13-01\n"  # line 5: parent, count, date
        "00006,Phường Vĩnh Phúc,village,001,10,\n"      # line 6: level
    ))
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code != 0
    out = result.output
    assert "units.csv:4: The name is missing." in out
    assert "units.csv:5: Parent code 999" in out and "units.csv:5: The number of households" in out
    assert "units.csv:5: The effective date is not a date" in out
    assert "units.csv:6: Unknown level" in out
    assert "nothing imported" in out
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0


def test_import_file_any_depth_with_counts(runner, db, tmp_path):
    # A post-2025 province has no districts: communes sit straight under it.
    path = write_csv(tmp_path, (
        "Mã,Tên,Cấp,Mã cha,Số hộ,Ngày hiệu lực\n"
        "92,Thành phố Cần Thơ,tỉnh,,,\n"
        "31117,Phường Ninh Kiều,xã,92,\"12.500\",01/07/2025\n"
        "AP-1,Khu vực 1,ấp,31117,410,01/07/2025\n"
    ))
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "31117"))
    assert commune.parent.code == "92" and commune.level == "commune"
    assert commune.households_on(date(2025, 7, 1)).households == 12500
    assert commune.households_on(date(2025, 6, 30)) is None
    hamlet = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "AP-1"))
    assert hamlet.path == f"{commune.path}{hamlet.id}/" and hamlet.depth == 2


def test_importing_a_file_again_renames_by_code_finds_codeless_hamlets_by_name_and_refuses_a_code_of_another_level(
        runner, db, tmp_path):
    first = ("Mã,Tên,Cấp,Mã cha,Số hộ\n92,Thành phố Cần Thơ,tỉnh,,\n31117,Phường Ninh Kiều,xã,92,\n"
             ",Khu vực 1,ấp,31117,410\n,Khu vực 2,ấp,31117,380\n")
    result = runner.invoke(args=["units", "import", str(write_csv(tmp_path, first))])
    assert result.exit_code == 0 and "4 units created, 0 renamed, 2 household counts" in result.output, result.output
    again = first.replace("Phường Ninh Kiều", "Phường Ninh Kiều Mới").replace("410", "415")
    result = runner.invoke(args=["units", "import", str(write_csv(tmp_path, again))])
    assert result.exit_code == 0 and "0 units created, 1 renamed, 2 household counts" in result.output, result.output
    hamlets = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "hamlet")).all()
    assert sorted(h.name for h in hamlets) == ["Khu vực 1", "Khu vực 2"]
    assert db.session.scalar(sa.select(AdminUnit.name).where(AdminUnit.code == "31117")) == "Phường Ninh Kiều Mới"
    wrong = "Mã,Tên,Cấp,Mã cha\n92,Thành phố Cần Thơ,tỉnh,\n31117,Phường Ninh Kiều,tỉnh,\n"
    result = runner.invoke(args=["units", "import", str(write_csv(tmp_path, wrong))])
    assert result.exit_code != 0 and "units.csv:3: Code 31117 already exists as a commune." in result.output
    assert "units.csv:3:" in result.stderr and "units.csv" not in result.stdout


def test_the_unit_commands_given_too_little_or_a_folder_say_what_is_missing_and_change_nothing(runner, db, tmp_path):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
    cases = [
        (["units", "import-gso"], "Missing option '--province'"),
        (["units", "import", str(tmp_path / "missing.csv")], "does not exist"),
        (["units", "import", str(tmp_path)], "is a directory"),
        (["units", "reorganize"], "give --plan FILE (or --draft)"),
        (["units", "reorganize", "--plan", str(tmp_path / "missing.xlsx")], "does not exist"),
        (["units", "reorganize", "--plan", str(tmp_path)], "is a directory"),
        (["units", "reorganize", "--draft", "--province", "92"], "--draft needs --province and --output"),
        (["units", "reorganize", "--draft", "--output", str(tmp_path / "plan.xlsx")],
         "--draft needs --province and --output"),
        (["units", "reorganize", "--draft", "--province", "92", "--output", str(tmp_path)], "is a directory"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)  # a usage error, not a traceback
        assert message in result.stderr, (args, result.stderr)
    # A draft for a province the two-level list does not hold (Hậu Giang was merged into Cần Thơ) is refused.
    result = runner.invoke(args=["units", "reorganize", "--draft", "--province", "93", "--output",
                                 str(tmp_path / "plan.xlsx")])
    assert result.exit_code == 1 and "no province '93' in the list in force on 2025-07-01" in result.output
    missing = tmp_path / "gone" / "plan.xlsx"
    result = runner.invoke(args=["units", "reorganize", "--draft", "--province", "92", "--output", str(missing)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"could not write {missing}: No such file or directory" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == before
    assert not (tmp_path / "plan.xlsx").exists()


def test_import_xlsx(runner, db, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "name", "level", "parent_code", "households", "effective_date"])
    ws.append(["93", "Tỉnh Hậu Giang", "province", None, None, None])
    ws.append([930, "Thành phố Vị Thanh", "district", 93, None, None])
    ws.append(["31318", "Phường I", "commune", "930", 2150, date(2024, 1, 1)])
    path = tmp_path / "units.xlsx"
    wb.save(path)
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "31318"))
    assert commune.parent.parent.code == "93"
    assert commune.households_on(date(2024, 6, 1)).households == 2150


def test_import_rejects_a_file_that_is_not_a_spreadsheet(runner, tmp_path):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"PK\x03\x04not really a zip")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code != 0 and "not a readable Excel" in result.output


def test_household_count_applies_from_its_date(db, tree):
    from app.units import operations as unit_ops
    unit_ops.set_household_count(tree.hamlet, 350, date(2025, 1, 1))
    db.session.commit()
    tree.refresh()
    assert tree.hamlet.households_on(date(2024, 12, 31)).households == 320
    assert tree.hamlet.households_on(date(2025, 1, 1)).households == 350
    assert tree.hamlet.households_on(date(2023, 12, 31)) is None


# --- web: hamlets ------------------------------------------------------------------------------

def test_commune_officer_adds_hamlet_with_count(client, db, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/hamlets",
                       data={"hamlet-name": "  A\u0302\u0301p Tha\u0323nh Ho\u0300a  ", "hamlet-households": "1.851",
                             "hamlet-effective_on": "2024-05-23"})
    assert resp.status_code == 302
    assert "Đã thêm ấp Ấp Thạnh Hòa." in client.get(resp.location).get_data(as_text=True)
    hamlet = units_named(db, "Ấp Thạnh Hòa")  # decomposed input, stored NFC and trimmed
    assert len(hamlet) == 1
    assert hamlet[0].parent_id == tree.commune.id and hamlet[0].name_folded == "ap thanh hoa"
    assert hamlet[0].households_on(date(2024, 5, 23)).households == 1851
    html = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "Ấp Thạnh Hòa" in html and "1.851" in html
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.record_id == hamlet[0].id,
                                                          AuditEvent.action == "create"))
    assert event is not None and event.user_id is not None


def test_bad_hamlet_input_keeps_what_was_typed(client, db, tree, login_as):
    login_as("commune", tree.commune)
    future = (today_vn() + timedelta(days=3)).isoformat()
    resp = client.post(f"/units/{tree.commune.id}/hamlets",
                       data={"hamlet-name": "Ấp <script>alert(1)</script>", "hamlet-households": "nhiều",
                             "hamlet-effective_on": future})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Số hộ phải là số nguyên từ 0 đến 10.000.000" in html
    assert "Ngày không được ở tương lai." in html
    assert "nhiều" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert units_named(db, "Ấp <script>alert(1)</script>") == []


def test_a_new_hamlet_whose_count_is_far_from_the_other_hamlets_is_asked_about_then_added_when_sent_again(
        client, db, tree, login_as):
    """Phường I's hamlets have 320 and 410 households: a new one of 99,999 (a digit typed twice, or more) or of 30
    comes back with the question beside the number, its name and number kept, and nothing added; tapped again,
    it is added. 250 is added at once."""
    login_as("commune", tree.commune)
    url = f"/units/{tree.commune.id}/hamlets"
    for typed, shown in (("99999", "99.999"), ("30", "30")):
        resp = client.post(url, data={"hamlet-name": "Ấp Mới", "hamlet-households": typed})
        page = parse(resp.get_data(as_text=True))
        assert resp.status_code == 409, typed
        error = page.find(id="hamlet-households-error")
        assert error is not None and f"{shown} hộ khác xa các ấp khác của xã (khoảng 365 hộ mỗi ấp)" in error.text()
        assert "bấm “Thêm ấp” lần nữa" in error.text()
        assert page.find(name="hamlet-name").attrs["value"] == "Ấp Mới"
        assert page.find(name="hamlet-households").attrs["value"] == typed
        assert units_named(db, "Ấp Mới") == []
    # With a name already taken, both are said at once.
    resp = client.post(url, data={"hamlet-name": "Khu vực 2", "hamlet-households": "99999"})
    page = parse(resp.get_data(as_text=True))
    assert resp.status_code == 400 and "khác xa các ấp khác" in page.find(id="hamlet-households-error").text()
    assert "đã có ở một thôn, ấp, khu phố khác của xã" in page.find(id="hamlet-name-error").text()
    # Another number than the one asked about is asked about in its turn; the same one again is added.
    assert client.post(url, data={"hamlet-name": "Ấp Mới", "hamlet-households": "9999",
                                  "hamlet-confirm": "30"}).status_code == 409
    resp = client.post(url, data={"hamlet-name": "Ấp Mới", "hamlet-households": "99999", "hamlet-confirm": "99999"})
    assert resp.status_code == 302
    assert "Đã thêm ấp Ấp Mới." in client.get(resp.location).get_data(as_text=True)
    assert units_named(db, "Ấp Mới")[0].households_on(today_vn()).households == 99999
    # Now that it is there, the usual hamlet is still about 410 (the median, not pulled up by 99,999): 250 is fine,
    # 5,000 is not.
    assert client.post(url, data={"hamlet-name": "Ấp Hai", "hamlet-households": "250"}).status_code == 302
    assert client.post(url, data={"hamlet-name": "Ấp Ba", "hamlet-households": "5000"}).status_code == 409
    # No count typed: nothing to ask.
    assert client.post(url, data={"hamlet-name": "Ấp Bốn"}).status_code == 302


def test_the_first_hamlet_of_a_commune_is_asked_about_above_a_few_thousand_households(client, db, tree, login_as):
    """Phường III has no hamlet to compare with: a hamlet has a few hundred households, so 60,000 is asked about
    (5,000 is not); a retired hamlet (of 400: ten times that would be asked) is no comparison either."""
    login_as("commune", tree.sibling_commune)
    url = f"/units/{tree.sibling_commune.id}/hamlets"
    gone = create_unit("Ấp Cũ", "hamlet", tree.sibling_commune)
    from app.units.operations import retire_unit, set_household_count
    set_household_count(gone, 400, date(2024, 1, 1))
    retire_unit(gone, date(2024, 6, 1))
    db.session.commit()
    resp = client.post(url, data={"hamlet-name": "Khu vực 1", "hamlet-households": "60.000"})
    error = parse(resp.get_data(as_text=True)).find(id="hamlet-households-error")
    assert resp.status_code == 409 and "60.000 hộ là quá nhiều cho một ấp" in error.text()
    assert client.post(url, data={"hamlet-name": "Khu vực 1", "hamlet-households": "5.000"}).status_code == 302


def test_a_new_hamlet_is_compared_with_the_hamlets_counted_today_and_not_with_those_of_no_size_or_ended(
        client, db, tree, login_as):
    """The comparison is the commune's hamlets as they stand on the day: one made today (a split's new hamlet)
    with a count dated today is one of them; one retired today is not; a hamlet counted 0 (entered before it was
    counted) is no size to compare with. So beside Ấp Hai's 60 households, 600 is asked about."""
    from app.units.operations import retire_unit, set_household_count
    today = today_vn()
    commune = tree.sibling_commune
    made_today = create_unit("Ấp Hai", "hamlet", commune)
    made_today.valid_from = today
    set_household_count(made_today, 60, today)
    for name in ("Ấp Không", "Ấp Chưa Đếm"):
        set_household_count(create_unit(name, "hamlet", commune), 0, today)
    ended = create_unit("Ấp Cũ", "hamlet", commune)
    set_household_count(ended, 600, date(2024, 1, 1))
    retire_unit(ended, today)
    db.session.commit()
    login_as("commune", commune)
    resp = client.post(f"/units/{commune.id}/hamlets", data={"hamlet-name": "Ấp Mới", "hamlet-households": "600"})
    error = parse(resp.get_data(as_text=True)).find(id="hamlet-households-error")
    assert resp.status_code == 409 and "600 hộ khác xa các ấp khác của xã (khoảng 60 hộ mỗi ấp)" in error.text()
    assert units_named(db, "Ấp Mới") == []


def test_empty_and_overlong_names_are_refused(client, db, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "   "})
    assert resp.status_code == 400 and "Hãy nhập tên ấp." in resp.get_data(as_text=True)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấ" * 500})
    assert resp.status_code == 400 and "Tối đa 200 ký tự." in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 9


def test_duplicate_hamlet_name_without_diacritics_is_refused(client, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "khu vuc 1"})
    assert resp.status_code == 400 and "đã có ở một thôn, ấp, khu phố khác của xã" in resp.get_data(as_text=True)


def test_rename_and_retire_hamlet(client, db, tree, login_as):
    login_as("commune", tree.commune)
    form = client.get(f"/units/{tree.hamlet.id}/rename")
    assert form.status_code == 200 and 'value="Khu vực 1"' in form.get_data(as_text=True)
    # Not to a sibling's name, however it is typed; its own, with the case corrected, is fine.
    resp = client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "KHU VỰC 2"}))
    assert resp.status_code == 400 and "đã có ở một thôn, ấp, khu phố khác của xã" in resp.get_data(as_text=True)
    assert client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu Vực 1"})).status_code == 302
    resp = client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu vực Một"}))
    assert resp.status_code == 302
    assert "Đã đổi tên thành Khu vực Một." in client.get(resp.location).get_data(as_text=True)
    resp = client.post(f"/units/{tree.hamlet.id}/retire", data={"payload": "1"})
    assert resp.status_code == 302
    assert ("Đã ngừng sử dụng Khu vực Một. Dữ liệu và số hộ vẫn được giữ; muốn dùng lại, bấm nút “Sử dụng lại” trên "
            "trang của ấp.") in client.get(resp.location).get_data(as_text=True)
    db.session.expire_all()
    hamlet = db.session.get(AdminUnit, tree.hamlet.id)
    assert hamlet.name == "Khu vực Một" and hamlet.retired_on == today_vn()
    # Its counts stay.
    assert hamlet.households_on(date(2024, 2, 1)).households == 320
    html = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "ngừng sử dụng" in html
    # Retired by a slip of the finger: restored, with its counts.
    resp = client.post(f"/units/{tree.hamlet.id}/restore", data={"payload": "1"})
    assert resp.status_code == 302
    assert "Khu vực Một đã được sử dụng lại." in client.get(resp.location).get_data(as_text=True)
    db.session.expire_all()
    hamlet = db.session.get(AdminUnit, tree.hamlet.id)
    assert hamlet.retired_on is None and hamlet.households_on(date(2024, 2, 1)).households == 320


def test_retiring_a_hamlet_from_its_page_asks_first_saying_what_it_does(client, db, tree, login_as):
    """"Ngừng sử dụng" beside "Chia tách" is a link to a question, not a one-tap form: the page says the hamlet's
    320 households leave Phường I's figures from today, that its records stay and how to use it again; Cancel
    goes back and changes nothing, the button retires it."""
    login_as("commune", tree.commune)
    hamlet_page = parse(client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True))
    link = hamlet_page.find(href=f"/units/{tree.hamlet.id}/retire")
    assert link is not None and link.tag == "a" and link.text() == "Ngừng sử dụng"
    assert hamlet_page.find(action=f"/units/{tree.hamlet.id}/retire") is None
    resp = client.get(link.attrs["href"])
    page = parse(resp.get_data(as_text=True))
    assert resp.status_code == 200 and next(page.find_all("h1")).text() == "Ngừng sử dụng Khu vực 1?"
    assert "320 hộ" in page.find(id="households").text()
    text = page.text()
    assert f"Từ hôm nay, {today_vn():%d/%m/%Y}, ấp không còn được tính vào số liệu của Phường I" in text
    assert "vẫn được giữ" in text and "“Sử dụng lại”" in text
    cancel = next(page.find_all("a", **{"class": "cancel"}), None)
    assert cancel is not None and cancel.attrs["href"] == f"/units/{tree.hamlet.id}"
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.hamlet.id).retired_on is None  # asking retires nothing
    form = page.find(**{"class": "card narrow"}).find(method="post")
    assert next(form.find_all("button")).text().strip() == "Ngừng sử dụng"
    token = form.find(name="csrf_token")
    data = {"payload": form.find(name="payload").attrs["value"]}
    if token is not None:
        data["csrf_token"] = token.attrs["value"]
    done = client.post(f"/units/{tree.hamlet.id}/retire", data=data, follow_redirects=True)
    assert done.status_code == 200 and done.request.path == f"/units/{tree.commune.id}"
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.hamlet.id).retired_on == today_vn()
    # Asked again once retired, the page says so and offers nothing to tap but the way back.
    again = parse(client.get(f"/units/{tree.hamlet.id}/retire").get_data(as_text=True))
    assert again.find(id="retired") is not None and again.find(**{"class": "card narrow"}).find(method="post") is None


def test_a_retirement_or_restoring_sent_again_changes_nothing_more(client, db, tree, login_as):
    """The back button or a second tap sends the same confirmation again, maybe the next day: the hamlet keeps
    the day it was first retired, and each change is in the history once."""
    login_as("commune", tree.commune)
    retired_on = today_vn()
    assert client.post(f"/units/{tree.hamlet.id}/retire", data={"payload": "1"}).status_code == 302
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1), tick=False):
        assert client.post(f"/units/{tree.hamlet.id}/retire", data={"payload": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.hamlet.id).retired_on == retired_on

    def entries(action):
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.record_id == tree.hamlet.id, AuditEvent.action == action))

    assert entries("retire") == 1
    for _ in range(2):
        assert client.post(f"/units/{tree.hamlet.id}/restore", data={"payload": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.hamlet.id).retired_on is None and entries("restore") == 1


def test_hamlet_with_records_cannot_be_deleted(client, db, tree, login_as):
    from app.households.models import Household
    login_as("commune", tree.commune)
    db.session.add(Household(hamlet_id=tree.hamlet.id, head_name="Nguyễn Văn An",
                             head_name_folded="nguyen van an"))
    db.session.commit()
    resp = client.post(f"/units/{tree.hamlet.id}/delete", data={"payload": "1"})
    assert resp.status_code == 303
    assert db.session.get(AdminUnit, tree.hamlet.id) is not None
    # A team serving it is a record too.
    from tests.visits_helpers import make_team
    make_team(tree.commune, [tree.hamlet2])
    db.session.commit()
    assert client.post(f"/units/{tree.hamlet2.id}/delete", data={"payload": "1"}).status_code == 303
    assert db.session.get(AdminUnit, tree.hamlet2.id) is not None
    # One entered by mistake, with nothing attached, may go (another hamlet's team is not its own).
    resp = client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Nhập Nhầm"})
    mistake_id = units_named(db, "Ấp Nhập Nhầm")[0].id  # the row goes
    resp = client.post(f"/units/{mistake_id}/delete", data={"payload": "1"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert units_named(db, "Ấp Nhập Nhầm") == []
    # The confirmation sent again (back button, double tap): the commune's page says it is done, not a 404.
    again = client.post(f"/units/{mistake_id}/delete", data={"payload": "1"}, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == f"/units/{tree.commune.id}"
    assert "Ấp này đã được xóa." in again.get_data(as_text=True)
    # Anyone else finds nothing there.
    client.post("/auth/logout")
    login_as("commune", tree.commune)
    assert client.post(f"/units/{mistake_id}/delete", data={"payload": "1"}).status_code == 404


def test_a_hamlet_entered_by_mistake_is_deleted_from_its_page_after_a_question_with_its_counts(
        client, db, tree, login_as):
    from app.units.models import AdultCount, HouseholdCount
    login_as("commune", tree.commune)
    client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Nhập Nhầm", "hamlet-households": "120"})
    mistake_id = units_named(db, "Ấp Nhập Nhầm")[0].id  # the row goes
    assert client.post(f"/units/{mistake_id}/adults", data=with_version(
        client, f"/units/{mistake_id}", {"adults-adults": "30", "adults-effective_on": "2025-01-01"}
                       )).status_code in (302, 303)
    page = parse(client.get(f"/units/{mistake_id}").get_data(as_text=True))
    button = page.find(href=f"/units/{mistake_id}/delete")
    assert button is not None and button.text() == "Xóa"
    from tests.visits_helpers import sign_in_as  # district staff read the page, and delete nothing
    district = sign_in_as(client.application, "district", tree.district)[0]
    assert parse(district.get(f"/units/{mistake_id}").get_data(as_text=True)).find(
        href=f"/units/{mistake_id}/delete") is None
    ask = client.get(f"/units/{mistake_id}/delete").get_data(as_text=True)
    assert "Xóa Ấp Nhập Nhầm?" in ask and "không thể hoàn tác" in ask
    assert units_named(db, "Ấp Nhập Nhầm") != []  # asking deletes nothing
    done = client.post(f"/units/{mistake_id}/delete", data={"payload": "1"}, follow_redirects=True)
    assert done.status_code == 200 and done.request.path == f"/units/{tree.commune.id}"
    assert "Đã xóa Ấp Nhập Nhầm." in done.get_data(as_text=True)
    db.session.expire_all()
    assert units_named(db, "Ấp Nhập Nhầm") == []
    for model in (HouseholdCount, AdultCount):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                 .where(model.unit_id == mistake_id)) == 0
    # A hamlet with households has no such button; asked anyway, the page says why and offers nothing to tap.
    from app.households.models import Household
    db.session.add(Household(hamlet_id=tree.hamlet.id, head_name="Nguyễn Văn An", head_name_folded="nguyen van an"))
    db.session.commit()
    assert parse(client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True)).find(
        href=f"/units/{tree.hamlet.id}/delete") is None
    held = parse(client.get(f"/units/{tree.hamlet.id}/delete").get_data(as_text=True))
    assert held.find(id="held") is not None and not any("danger" in b.classes() for b in held.find_all("button"))


def test_the_empty_part_of_a_split_is_not_deleted_though_it_has_no_households(
        client, db, tree, login_as):
    """The map's history points at it: deleting it would leave that pointing at nothing (on PostgreSQL, a 500)."""
    from app.units.models import HamletChange
    from tests.test_hamlet_changes import change_confirmed
    from tests.visits_helpers import household
    household(tree.hamlet2, "Nguyễn Văn An")
    login_as("commune", tree.commune)
    resp = change_confirmed(client, f"/units/{tree.hamlet2.id}/split", {
        "effective_on": "2026-11-01", "name_1": "Khu vực 2A", "count_1": "", "name_2": "Khu vực 2B",
        "count_2": "", "name_3": "", "count_3": "", "rest": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    empty = units_named(db, "Khu vực 2B")[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HamletChange)
                             .where(HamletChange.to_unit_id == empty.id)) == 1
    assert parse(client.get(f"/units/{empty.id}").get_data(as_text=True)).find(
        href=f"/units/{empty.id}/delete") is None
    refused = client.post(f"/units/{empty.id}/delete", data={"payload": "1"}, follow_redirects=True)
    assert refused.status_code == 200 and "không thể xóa" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert units_named(db, "Khu vực 2B") == [empty]


def test_set_household_count_and_history(client, db, tree, login_as):
    login_as("commune", tree.commune)
    # 0 after 320 may be a slip: asked first, saved when sent again.
    resp = client.post(f"/units/{tree.hamlet.id}/households",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"count-households": "0",
                           "count-effective_on": "2025-01-01"}))
    assert resp.status_code == 409
    resp = client.post(f"/units/{tree.hamlet.id}/households",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"count-households": "0",
                           "count-effective_on": "2025-01-01", "count-confirm": "0"}))
    assert resp.status_code == 302
    resp = client.post(f"/units/{tree.hamlet.id}/households",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"count-households": "-5",
                           "count-effective_on": "2025-01-01"}))
    assert resp.status_code == 400
    resp = client.post(f"/units/{tree.hamlet.id}/households",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"count-households": "", "count-effective_on": "x"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Hãy nhập số hộ." in html and "Hãy nhập ngày hợp lệ." in html
    counts = db.session.scalars(sa.select(HouseholdCount.households).where(
        HouseholdCount.unit_id == tree.hamlet.id).order_by(HouseholdCount.effective_on)).all()
    assert counts == [320, 0]


def test_a_count_that_looks_like_a_slip_of_the_finger_is_asked_about_then_saved_when_sent_again(
        client, db, tree, login_as):
    """Khu vực 1 has 320 households from 2024: 3200 (a digit typed twice) or 32 (one left out) is asked about,
    the number kept in the field; sent again, it is saved. 350 is saved at once."""
    from app.households.models import Household
    from app.units.models import AdultCount
    login_as("commune", tree.commune)
    url = f"/units/{tree.hamlet.id}/households"

    def saved():
        db.session.expire_all()
        return db.session.get(AdminUnit, tree.hamlet.id).households_on(date(2025, 3, 1)).households

    for typed, before in (("3200", "3.200"), ("32", "32")):
        resp = client.post(url, data=with_version(
            client, f"/units/{tree.hamlet.id}", {"count-households": typed, "count-effective_on": "2025-03-01"}))
        page = parse(resp.get_data(as_text=True))
        assert resp.status_code == 409, typed
        error = page.find(id="count-households-error")
        assert error is not None and f"{before} khác xa số hộ trước đó, 320" in error.text(), typed
        assert page.find(name="count-households").attrs["value"] == typed
        assert page.find(name="count-confirm").attrs["value"] == typed
        assert saved() == 320
    # Another number than the one asked about is asked about in its turn.
    resp = client.post(url, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"count-households": "3300", "count-effective_on": "2025-03-01",
                                  "count-confirm": "32"}))
    assert resp.status_code == 409 and saved() == 320
    resp = client.post(url, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"count-households": "3200", "count-effective_on": "2025-03-01",
                                  "count-confirm": "3200"}))
    assert resp.status_code == 302 and saved() == 3200
    assert "Đã lưu số hộ." in client.get(resp.location).get_data(as_text=True)
    # Corrected on the same day, the count is compared with the one before that day (320), not with the slip
    # (3,200: 300 would be a tenth of it).
    assert client.post(url, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"count-households": "300",
        "count-effective_on": "2025-03-01"})).status_code == 302
    assert saved() == 300
    # Fewer households than the app already holds for the hamlet would put its coverage past 100%.
    for n in range(3):
        db.session.add(Household(hamlet_id=tree.hamlet.id, head_name=f"Hộ {n}", head_name_folded=f"ho {n}"))
    db.session.commit()
    resp = client.post(url, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"count-households": "2", "count-effective_on": "2025-04-01"}))
    error = parse(resp.get_data(as_text=True)).find(id="count-households-error")
    assert resp.status_code == 409 and "đã có 3 hộ được ghi nhận trong ứng dụng, nhiều hơn 2" in error.text()
    # A new hamlet with no count yet: as many households as it holds is not more than counted, though 3 is far
    # from the commune's other hamlets (300 and 410); any number after a count of 0 is no slip (nothing to be
    # ten times of).
    from app.units.operations import create_unit, set_household_count
    new, empty = create_unit("Ấp Mới", "hamlet", tree.commune), create_unit("Ấp Trống", "hamlet", tree.commune)
    set_household_count(empty, 0, date(2024, 1, 1))
    for n in range(3):
        db.session.add(Household(hamlet_id=new.id, head_name=f"Hộ mới {n}", head_name_folded=f"ho moi {n}"))
    db.session.commit()
    resp = client.post(f"/units/{new.id}/households",
                       data=with_version(
                           client, f"/units/{new.id}", {"count-households": "3", "count-effective_on": "2025-04-01"}))
    error = parse(resp.get_data(as_text=True)).find(id="count-households-error")
    assert resp.status_code == 409 and "khác xa các ấp khác của xã" in error.text()
    assert "ghi nhận trong ứng dụng" not in error.text()
    for hamlet, typed, confirm in ((new, "3", "3"), (empty, "120", "")):
        resp = client.post(f"/units/{hamlet.id}/households", data=with_version(
            client, f"/units/{hamlet.id}", {"count-households": typed, "count-confirm": confirm,
                                                                    "count-effective_on": "2025-04-01"}))
        assert resp.status_code == 302, (hamlet.name, resp.get_data(as_text=True)[:2000])
    # The smallest count before there is, 1: ten is ten times it, and asked about like 3,200 after 320.
    set_household_count(db.session.get(AdminUnit, empty.id), 1, date(2025, 5, 1))
    db.session.commit()
    resp = client.post(f"/units/{empty.id}/households", data=with_version(
        client, f"/units/{empty.id}", {"count-households": "10", "count-effective_on": "2025-06-01"}))
    error = parse(resp.get_data(as_text=True)).find(id="count-households-error")
    assert resp.status_code == 409 and "10 khác xa số hộ trước đó, 1:" in error.text()
    # The adult population likewise.
    adults = f"/units/{tree.hamlet.id}/adults"
    assert client.post(adults, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"adults-adults": "900",
        "adults-effective_on": "2025-01-01"})).status_code == 302
    resp = client.post(adults, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"adults-adults": "9000", "adults-effective_on": "2025-02-01"}))
    error = parse(resp.get_data(as_text=True)).find(id="adults-adults-error")
    assert resp.status_code == 409 and "9.000 khác xa số người trưởng thành trước đó, 900" in error.text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdultCount)) == 1
    resp = client.post(adults, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"adults-adults": "9000", "adults-effective_on": "2025-02-01",
                                     "adults-confirm": "9000"}))
    assert resp.status_code == 302
    assert "Đã lưu số người trưởng thành." in client.get(resp.location).get_data(as_text=True)
    # Corrected on the same day: weighed against 900, the figure before that day, not the 9,000 it replaces.
    assert client.post(adults, data=with_version(
        client, f"/units/{tree.hamlet.id}", {"adults-adults": "850",
        "adults-effective_on": "2025-02-01"})).status_code == 302


def _earlier(html: str, label: str) -> list[str]:
    """The rows of an earlier-counts table on a unit's page: "in effect from · figure · who recorded it"."""
    table = html.split(f"<summary>{label}</summary>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td><td class=\"recorded-by\">([^<]*)</td></tr>",
                      table)
    return [" · ".join(cells) for cells in rows]


def test_a_unit_page_shows_its_own_counts_and_a_commune_with_hamlets_asks_for_none(client, db, tree, login_as):
    from app.units.operations import set_adult_count
    today = today_vn()
    set_adult_count(tree.hamlet, 900, date(2024, 1, 1))
    set_adult_count(tree.hamlet2, 700, date(2024, 1, 1))
    db.session.commit()
    officer = login_as("commune", tree.commune)
    assert client.post(f"/units/{tree.hamlet.id}/households",
                       data=with_version(
                           client, f"/units/{tree.hamlet.id}", {"count-households": "333",
                           "count-effective_on": today.isoformat()})).status_code == 302
    html = client.get(f"/units/{tree.hamlet.id}").get_data(as_text=True)
    # Today's count is the one in effect; the earlier counts are the hamlet's own (Khu vực 2 has 410 and 700).
    assert f"333 hộ, áp dụng từ {today:%d/%m/%Y}" in html
    # Who recorded each: the officer signed in, and no one for the set-up's.
    assert _earlier(html, "Số hộ các lần trước") == [
        f"{today:%d/%m/%Y} · 333 · {officer.full_name} ({officer.username})", "01/01/2024 · 320 · –"]
    assert _earlier(html, "Các số liệu người trưởng thành trước đây") == ["01/01/2024 · 900 · –"]
    # Phường I counts its hamlets' sum: no form asks for its own count, and a count sent anyway is refused.
    html = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert 'name="count-households"' not in html and 'name="adults-adults"' not in html
    resp = client.post(f"/units/{tree.commune.id}/households",
                       data={"count-households": "999", "count-effective_on": today.isoformat()})
    assert resp.status_code == 409 and "tính theo tổng số hộ của các đơn vị trực thuộc" in resp.get_data(as_text=True)
    assert db.session.get(AdminUnit, tree.commune.id).households_on(today) is None
    # A retired hamlet is listed after the active ones.
    assert client.post(f"/units/{tree.hamlet.id}/retire", data={"payload": "1"}).status_code == 302
    listed = client.get(f"/units/{tree.commune.id}").get_data(as_text=True).split('id="children"', 1)[1]
    assert listed.index("Khu vực 2") < listed.index("Khu vực 1")


def test_district_officer_sets_commune_count_but_cannot_add_hamlets(client, db, tree, login_as):
    login_as("district", tree.district)
    # Phường III has no hamlets: its own count is the one coverage uses.
    resp = client.post(f"/units/{tree.sibling_commune.id}/households",
                       data=with_version(
                           client, f"/units/{tree.sibling_commune.id}", {"count-households": "2.400",
                           "count-effective_on": "2024-01-01"}))
    assert resp.status_code == 302
    assert db.session.get(AdminUnit, tree.sibling_commune.id).households_on(date(2024, 1, 2)).households == 2400
    assert client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Mới"}).status_code == 403



def test_the_hamlet_forms_act_on_hamlets_of_a_commune_only_even_for_an_admin(client, db, tree, login_as):
    """An admin edits every commune's hamlets, but a hamlet goes under a commune, and renaming, retiring,
    merging, splitting or deleting through the hamlet pages takes a hamlet: a district or a commune
    asked there is refused and stays as it was."""
    login_as("admin", tree.province)
    for unit in (tree.province, tree.district, tree.hamlet):
        assert client.post(f"/units/{unit.id}/hamlets", data={"hamlet-name": "Ấp Mới"}).status_code == 403
    assert db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Ấp Mới")) is None
    for unit in (tree.commune, tree.district):
        assert client.post(f"/units/{unit.id}/rename", data={"name": "Tên khác"}).status_code == 403
        for action in ("merge", "split"):
            assert client.get(f"/units/{unit.id}/{action}").status_code == 403
        for action in ("retire", "delete"):
            assert client.post(f"/units/{unit.id}/{action}", data={"payload": "1"}).status_code == 403
    tree.refresh()
    assert (tree.commune.name, tree.commune.retired_on) == ("Phường I", None)
    assert (tree.district.name, tree.district.retired_on) == ("Thành phố Vị Thanh", None)
    # The same forms on a hamlet go through.
    assert client.post(f"/units/{tree.commune.id}/hamlets", data={"hamlet-name": "Ấp Mới"}).status_code == 302
    assert client.post(f"/units/{tree.hamlet.id}/rename", data=with_version(
            client, f"/units/{tree.hamlet.id}/rename", {"name": "Khu vực Một"})).status_code == 302
    tree.refresh()
    assert tree.hamlet.name == "Khu vực Một"


# --- web: hamlet list upload -------------------------------------------------------------------

def xlsx_bytes(rows):
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, unit_id, data, filename):
    return client.post(f"/units/{unit_id}/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_hamlet_upload_preview_shows_problems_and_writes_nothing(client, db, tree, login_as):
    login_as("commune", tree.commune)
    data = xlsx_bytes([["Tên ấp", "Số hộ", "Ngày hiệu lực"],
                       ["Ấp Mới", 120, "01/06/2024"],
                       ["", 50, None],
                       ["Ấp Hai", "mười", None],
                       ["\u0301\u0301", 40, None]])
    resp = upload(client, tree.commune.id, data, "ds-ap.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "3 trên 4 dòng có lỗi" in html
    assert "Thiếu tên." in html and "Số hộ phải là số nguyên" in html
    assert "Tên phải có ít nhất một chữ cái hoặc chữ số." in html
    assert "Xác nhận" not in html
    assert units_named(db, "Ấp Mới") == []


def test_hamlet_upload_asks_for_each_count_and_refuses_a_code_held_by_another_unit(client, db, tree, login_as):
    login_as("commune", tree.commune)
    code = tree.other_commune.code
    data = xlsx_bytes([["Tên ấp", "Mã", "Số hộ"],
                       ["Ấp Mới", None, None],           # line 2: no count
                       ["Ấp Hai", code, 40],             # line 3: another unit's code
                       ["Ấp Ba", "31399", 55]])          # line 4: a code nobody holds
    resp = upload(client, tree.commune.id, data, "ds-ap.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert {int(n) for n in re.findall(r'<tr class="bad">\s*<td class="num">(\d+)</td>', html)} == {2, 3}
    assert "2 trên 3 dòng có lỗi" in html
    assert "Thiếu số hộ." in html and f"Mã {code} thuộc về đơn vị khác." in html
    assert units_named(db, "Ấp Ba") == []



def test_an_uploaded_hamlet_name_may_have_200_characters_and_not_one_more(client, db, tree, login_as):
    # As the form's limit (above), by characters, not bytes: "Ấ" is three bytes in UTF-8.
    login_as("commune", tree.commune)
    longest, too_long = "Ấp " + "Ấ" * 197, "Ấp " + "Ấ" * 198
    resp = upload(client, tree.commune.id, xlsx_bytes([["Tên ấp", "Số hộ"], [too_long, 10]]), "ds-ap.xlsx")
    assert resp.status_code == 422 and "Tên dài quá 200 ký tự." in resp.get_data(as_text=True)
    resp = upload(client, tree.commune.id, xlsx_bytes([["Tên ấp", "Số hộ"], [longest, 120]]), "ds-ap.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Tên dài quá" not in html
    import re
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload}).status_code == 302
    assert len(units_named(db, longest)) == 1 and units_named(db, too_long) == []

def test_hamlet_upload_preview_then_confirm(client, db, tree, login_as):
    login_as("commune", tree.commune)
    data = ("Tên ấp;Số hộ\nẤp Mới;120\nkhu vuc 1;333\n").encode("utf-8-sig")
    resp = upload(client, tree.commune.id, data, "ds-ap.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "mới" in html and "cập nhật" in html
    assert units_named(db, "Ấp Mới") == []  # nothing until confirmed
    import re
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload})
    assert resp.status_code == 302
    assert len(units_named(db, "Ấp Mới")) == 1
    db.session.expire_all()
    assert db.session.get(AdminUnit, tree.hamlet.id).households_on(today_vn()).households == 333
    # A tampered payload is refused.
    resp = client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload[:-3] + "abc"})
    assert resp.status_code == 400


def test_a_hamlet_upload_shows_each_hamlets_count_before_and_leaves_out_a_slip_unless_ticked(
        client, db, tree, login_as):
    """Khu vực 1 has 320 households and the list says 3.200 (a zero typed twice); Ấp Lớn, new, 41.000 beside hamlets
    of about 400. The preview shows "320 → 3.200" and asks about both rows; confirmed as it is, the others are
    saved and those two left out, which the messages say; uploaded again with the box ticked, they are saved."""
    login_as("commune", tree.commune)
    data = "Tên ấp;Số hộ\nKhu vực 1;3.200\nKhu vực 2;415\nẤp Mới;350\nẤp Lớn;41000\n".encode("utf-8-sig")

    def preview():
        resp = upload(client, tree.commune.id, data, "ds-ap.csv")
        assert resp.status_code == 200
        return parse(resp.get_data(as_text=True))

    def cells(tr):
        return [td.text() for td in tr.find_all("td")]

    page = preview()
    rows = [cells(tr) for tr in page.find_all("tr") if len(cells(tr)) == 5]
    assert {r[1]: r[2] for r in rows} == {"Khu vực 1": "320 → 3.200", "Khu vực 2": "410 → 415", "Ấp Mới": "350",
                                          "Ấp Lớn": "41.000"}
    assert [cells(tr)[1] for tr in page.find_all("tr") if "flagged" in tr.classes()] == ["Khu vực 1", "Ấp Lớn"]
    questions = " ".join(tr.text() for tr in page.find_all("tr") if "flag" in tr.classes())
    assert "3.200 khác xa số hộ trước đó, 320" in questions
    assert "41.000 hộ khác xa các ấp khác của xã" in questions
    assert "2 dòng có số hộ cần kiểm tra" in page.text()
    payload = page.find(name="payload").attrs["value"]
    done = client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload}, follow_redirects=True)
    assert "Đã thêm 1 ấp, cập nhật 1 ấp." in done.get_data(as_text=True)
    assert "2 dòng có số hộ cần kiểm tra chưa được lưu" in done.get_data(as_text=True)
    db.session.expire_all()

    def count(hamlet_id):
        return db.session.get(AdminUnit, hamlet_id).households_on(today_vn()).households

    assert (count(tree.hamlet.id), count(tree.hamlet2.id)) == (320, 415)
    assert units_named(db, "Ấp Lớn") == [] and len(units_named(db, "Ấp Mới")) == 1
    # Checked, and right after all: uploaded again, the box ticked.
    page = preview()
    assert page.find(name="take_flagged") is not None
    resp = client.post(f"/units/{tree.commune.id}/import/confirm",
                       data={"payload": page.find(name="payload").attrs["value"], "take_flagged": "y"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert count(tree.hamlet.id) == 3200 and count(units_named(db, "Ấp Lớn")[0].id) == 41000


def test_a_preview_of_one_commune_cannot_be_confirmed_on_another(client, db, tree, login_as):
    # An administrator may import the hamlets of every commune of the province: the signed rows still
    # belong to the commune they were previewed for.
    login_as("admin", tree.province)
    data = "Tên ấp;Số hộ\nẤp Lạc Chỗ;120\n".encode("utf-8-sig")
    html = upload(client, tree.commune.id, data, "ds-ap.csv").get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(f"/units/{tree.sibling_commune.id}/import/confirm", data={"payload": payload})
    assert resp.status_code == 400 and "Yêu cầu không hợp lệ" in resp.get_data(as_text=True)
    assert units_named(db, "Ấp Lạc Chỗ") == []
    assert client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload}).status_code == 302
    assert [u.parent_id for u in units_named(db, "Ấp Lạc Chỗ")] == [tree.commune.id]


def test_an_import_without_its_file_or_its_preview_or_after_the_list_changed_is_refused(client, db, tree, login_as):
    login_as("commune", tree.commune)
    resp = client.post(f"/units/{tree.commune.id}/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Hãy chọn một tệp." in resp.get_data(as_text=True)
    assert client.post(f"/units/{tree.commune.id}/import/confirm", data={}).status_code == 400
    header_only = upload(client, tree.commune.id, xlsx_bytes([["Tên ấp", "Mã", "Số hộ"]]), "ds-ap.xlsx")
    assert header_only.status_code == 400
    assert "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề." in header_only.get_data(as_text=True)
    data = xlsx_bytes([["Tên ấp", "Mã", "Số hộ"], ["Ấp Ba", "31399", 55]])
    html = upload(client, tree.commune.id, data, "ds-ap.xlsx").get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    # Meanwhile another unit takes the code: the confirmation checks the rows again and applies nothing.
    create_unit("Ấp Khác", "hamlet", tree.other_commune, "31399")
    db.session.commit()
    resp = client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload})
    assert resp.status_code == 409
    assert "Danh sách đã thay đổi kể từ khi xem trước." in resp.get_data(as_text=True)
    assert units_named(db, "Ấp Ba") == []


def test_upload_of_something_that_is_not_a_spreadsheet(client, tree, login_as):
    login_as("commune", tree.commune)
    resp = upload(client, tree.commune.id, b"\x89PNG\r\n\x1a\n", "anh.png")
    assert resp.status_code == 400 and "tệp Excel (.xlsx) hoặc tệp CSV" in resp.get_data(as_text=True)
    resp = upload(client, tree.commune.id, b"PK\x03\x04garbage", "ds.xlsx")
    assert resp.status_code == 400 and "không phải là tệp Excel" in resp.get_data(as_text=True)


# --- search -------------------------------------------------------------------------------------

def test_children_search_without_diacritics_and_htmx_partial(client, tree, login_as):
    login_as("district", tree.district)
    resp = client.get(f"/units/{tree.district.id}?q=phuong iii",
                      headers={"HX-Request": "true", "HX-Target": "children"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Phường III" in html and "Phường I<" not in html
    assert "<html" not in html  # only the partial


# --- the same rules on every path in --------------------------------------------------------------

BAD_CODES = ['X";filename*=UTF-8\'\'evil.html;x="', "MÃ…Ấ", "A" * 21, "12 34", "ấp-1"]


def test_household_counts_outside_the_form_range_in_an_upload_are_refused_by_row(client, db, tree, login_as):
    login_as("commune", tree.commune)
    before = db.session.scalar(sa.select(sa.func.count(HouseholdCount.id)))
    data = xlsx_bytes([["Tên ấp", "Số hộ"], ["Ấp Một", 10**20], ["Ấp Hai", 9 * 10**18], ["Ấp Ba", "9e18"],
                       ["Ấp Bốn", -5], ["Ấp Năm", "-5"], ["Ấp Sáu", 10_000_001], ["Ấp Bảy", 10_000_000]])
    resp = upload(client, tree.commune.id, data, "ds-ap.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "6 trên 7 dòng có lỗi" in html
    assert html.count("Số hộ phải là số nguyên từ 0 đến 10.000.000") == 6
    assert "Xác nhận" not in html
    assert db.session.scalar(sa.select(sa.func.count(HouseholdCount.id))) == before
    assert units_named(db, "Ấp Bảy") == []


def test_the_household_count_form_refuses_what_the_import_refuses_with_the_same_message(client, db, tree,
                                                                                       login_as):
    login_as("commune", tree.commune)
    # ١٢٣: another script's digits, which Python reads as 123 unless told not to.
    for typed in ("10000001", "10.000.001", "-5", "9e18", "100000000000000000000", "١٢٣"):
        resp = client.post(f"/units/{tree.hamlet.id}/households",
                           data=with_version(
                               client, f"/units/{tree.hamlet.id}", {"count-households": typed,
                               "count-effective_on": "2025-01-01"}))
        assert resp.status_code == 400, typed
        assert "Số hộ phải là số nguyên từ 0 đến 10.000.000" in resp.get_data(as_text=True), typed
    resp = client.post(f"/units/{tree.hamlet.id}/households", data=with_version(client, f"/units/{tree.hamlet.id}", {
        "count-households": "10.000.000", "count-effective_on": "2025-01-01", "count-confirm": "10000000"}))
    assert resp.status_code == 302
    assert db.session.get(AdminUnit, tree.hamlet.id).households_on(date(2025, 1, 1)).households == 10_000_000


def test_the_database_refuses_a_household_count_outside_the_range(db, tree):
    # PostgreSQL's integer column refuses 9×10¹⁸ even before the check; SQLite needs the check.
    for households, refusal in ((-5, sa.exc.IntegrityError), (10_000_001, sa.exc.IntegrityError),
                                (9 * 10**18, (sa.exc.IntegrityError, sa.exc.DataError))):
        db.session.add(HouseholdCount(unit_id=tree.hamlet.id, households=households, effective_on=date(2020, 1, 1)))
        with pytest.raises(refusal):
            db.session.flush()
        db.session.rollback()


def test_bad_unit_codes_in_a_hamlet_upload_are_refused_by_row(client, db, tree, login_as):
    login_as("commune", tree.commune)
    data = xlsx_bytes([["Tên ấp", "Mã", "Số hộ"]] + [[f"Ấp {i}", code, 10] for i, code in enumerate(BAD_CODES)]
                      + [["Ấp Tốt", "AP-01.b_2", 10], ["Ấp Dài", "A" * 20, 10]])  # 20 characters: the most
    resp = upload(client, tree.commune.id, data, "ds-ap.xlsx")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f"{len(BAD_CODES)} trên {len(BAD_CODES) + 2} dòng có lỗi" in html
    assert html.count("Mã: Mã có tối đa 20 ký tự") == len(BAD_CODES)
    assert db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code.in_(BAD_CODES + ["AP-01.b_2"]))) is None


def test_the_cli_import_refuses_bad_codes_and_counts_naming_line_and_field(runner, db, tmp_path):
    bad_code = BAD_CODES[0].replace('"', '""')
    path = write_csv(tmp_path, (
        "code,name,level,parent_code,households\n"
        "93,Tỉnh Hậu Giang,province,,\n"
        f'"{bad_code}",Huyện A,district,93,\n'             # line 3
        "MÃ…Ấ,Huyện B,district,93,\n"                      # line 4
        "931,Huyện C,district,93 x,\n"                      # line 5: the parent code
        "932,Huyện D,district,93,100000000000000000000\n"   # line 6
        "933,Huyện E,district,93,-5\n"                      # line 7
        "934,Huyện F,district,93,9e18\n"                    # line 8
        "935,Huyện G,district,93,khoảng 200\n"              # line 9: words, not a number
    ))
    before = db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code != 0
    out = result.output
    for line in (3, 4):
        assert f"units.csv:{line}: Code: A code has at most 20 characters" in out
    assert "units.csv:5: Parent code: A code has at most 20 characters" in out
    for line in (6, 7, 8, 9):
        assert f"units.csv:{line}: The number of households must be a whole number from 0 to 10,000,000" in out
    assert "7 bad row(s) of 8; nothing imported" in out
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == before


def test_every_unit_created_goes_through_the_code_rule(db, tree):
    from app.rules import RuleError
    from app.units.operations import create_unit
    for code in BAD_CODES:
        with pytest.raises(RuleError):
            create_unit("Ấp Lạ", "hamlet", tree.commune, code)
    assert create_unit("Ấp Lạ", "hamlet", tree.commune, " AP-01.b_2 ").code == "AP-01.b_2"


def test_a_phuong_is_labelled_phuong_and_a_special_zone_dac_khu_never_xa(runner, db, client, login_as):
    assert runner.invoke(args=["units", "import-gso", "--province", "92", "--on", "2025-07-01"]).exit_code == 0
    vi_thanh = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "31321"))
    login_as("admin", vi_thanh.parent)
    page = client.get(f"/units/{vi_thanh.id}").get_data(as_text=True)
    import re
    assert re.search(r"(\w+)\s*·\s*Mã 31321", page).group(1) == "Phường"
    from app.units.kinds import label
    with client.application.test_request_context():  # a page's language (the command line's is English)
        assert label(AdminUnit(level="commune", kind="dac_khu")) == "Đặc khu"
        assert label(AdminUnit(level="commune", kind=None)) == "Xã"


def test_the_count_forms_are_offered_to_staff_only(app, db, tree, team):
    """Staff of the hamlet's units set its households and adults; its team's leader reads the same page without
    the forms (a refused post would be their only answer)."""
    from tests.visits_helpers import sign_in_as
    officer = sign_in_as(app, "district", tree.district)[0]
    leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])[0]
    mine = parse(officer.get(f"/units/{tree.hamlet.id}").get_data(as_text=True))
    assert mine.find(name="count-households") is not None and mine.find(name="adults-adults") is not None
    theirs = leader.get(f"/units/{tree.hamlet.id}")
    page = parse(theirs.get_data(as_text=True))
    assert theirs.status_code == 200 and "Khu vực 1" in theirs.get_data(as_text=True)
    assert page.find(name="count-households") is None and page.find(name="adults-adults") is None


def test_a_commune_page_offers_the_new_hamlet_form_to_its_officer_and_filters_hamlets_by_name(app, db, tree, team):
    from tests.visits_helpers import sign_in_as
    officer = sign_in_as(app, "commune", tree.commune)[0]
    leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])[0]
    assert parse(officer.get(f"/units/{tree.commune.id}").get_data(as_text=True)).find(name="hamlet-name") is not None
    theirs = leader.get(f"/units/{tree.commune.id}")
    assert theirs.status_code == 200 and parse(theirs.get_data(as_text=True)).find(name="hamlet-name") is None
    # The hamlet filter takes what is typed as text: "%" and "_" are no wildcards.
    def listed(q):
        rows = officer.get(f"/units/{tree.commune.id}", query_string={"q": q},
                           headers={"HX-Request": "true", "HX-Target": "children"}).get_data(as_text=True)
        return [name for name in ("Khu vực 1", "Khu vực 2") if name in rows]
    assert listed("vuc 2") == ["Khu vực 2"] and listed("%") == [] and listed("Khu_vực") == []
