"""Areas through a reorganization (tests/test_reorganize.py's world, then Cần Thơ reorganized again): an area
follows its communes into the new ones where that is unambiguous and its officers keep their accounts; an area
left with none ends, its officers re-bound as the plan says or deactivated; the preview and the page of the plan
applied say so."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.areas.operations import create_area, set_area_communes
from app.auth.cli import create_user
from app.auth.models import User
from app.extensions import db as _db
from app.units.models import AdminUnit, Reorganization, unit_for_code
from tests.test_reorganize import PLAN, items, plan_csv, reorganize, tally, upload, world  # noqa: F401

SECOND_DAY = date(2026, 1, 1)
# Cần Thơ from 2026-01-01: Phường Vị Thanh is split (Khu vực 3 goes to Xã Thạnh Xuân), Xã Tân Hòa joins it.
SPLIT = [("92", "", "92", ""), ("31321", "Khu vực 1", "31321", ""), ("31321", "Khu vực 2", "31321", ""),
         ("31321", "Khu vực 3", "31360", ""), ("31342", "", "31321", ""), ("31360", "", "31360", "")]


def area_plan(tmp_path, rows, accounts=(), name="areas.csv", day="2026-01-01"):
    """Unit lines (old code, hamlet, new code, new name), then account lines (account, new code, new name)."""
    text = "effective_on,old_code,hamlet,new_code,new_name,account\n" + "".join(
        f"{day},{old},{hamlet},{new},{new_name},\n" for old, hamlet, new, new_name in rows) + "".join(
        f"{day},,,{new},{new_name},{account}\n" for account, new, new_name in accounts)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _area(name, current=True):
    query = sa.select(AdminUnit).where(AdminUnit.level == "area", AdminUnit.name == name)
    if current:
        query = query.where(AdminUnit.retired_on.is_(None))
    return _db.session.scalars(query.order_by(AdminUnit.id)).all()


def _accounts():
    return {u.username: u for u in _db.session.scalars(sa.select(User))}


@pytest.fixture
def areas(world, runner, tmp_path):  # noqa: F811 - the fixture imported above
    """Cần Thơ after the reform, with two areas made the month after it: Khu vực Vị Thanh (Phường Vị Thanh and
    Xã Tân Hòa) with its officer, and Khu vực Thạnh Xuân (Xã Thạnh Xuân) with two."""
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    can_tho = unit_for_code("92")
    vi_thanh, thanh_xuan = create_area(can_tho, "Khu vực Vị Thanh"), create_area(can_tho, "Khu vực Thạnh Xuân")
    vi_thanh.valid_from = thanh_xuan.valid_from = date(2025, 8, 1)
    set_area_communes(vi_thanh, {unit_for_code("31321").id, unit_for_code("31342").id})
    set_area_communes(thanh_xuan, {unit_for_code("31360").id})
    for username, area in (("cum-vi-thanh", vi_thanh), ("cum-thanh-xuan", thanh_xuan),
                           ("cum-thanh-xuan-2", thanh_xuan)):
        create_user(username, "district", _db.session.get(AdminUnit, area.id), "matkhau-dai-du-12")
    _db.session.commit()
    return {"Khu vực Vị Thanh": vi_thanh.id, "Khu vực Thạnh Xuân": thanh_xuan.id}


def test_an_area_follows_its_communes_its_officer_keeps_the_account_and_an_area_left_with_none_ends(
        runner, areas, tmp_path):
    """Phường Vị Thanh and Xã Tân Hòa go into the new Phường Vị Thanh: wholly Khu vực Vị Thanh's, so it is in that
    area, which carries on. The new Xã Thạnh Xuân takes in a hamlet of Khu vực Vị Thanh beside Khu vực Thạnh
    Xuân's commune: whose it is, is not for the plan to guess, so it is in no area and Khu vực Thạnh Xuân, left with
    nothing, ends. One of its officers goes where the plan says, the other is deactivated."""
    result = reorganize(runner, area_plan(tmp_path, SPLIT, [("cum-thanh-xuan", "", "Khu vực Vị Thanh")]))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    province, vi_thanh, thanh_xuan = unit_for_code("92"), unit_for_code("31321"), unit_for_code("31360")
    # The old areas end on the plan's day; Khu vực Vị Thanh goes on from that day under the new province.
    old_vi_thanh, old_thanh_xuan = (_db.session.get(AdminUnit, areas[n])
                                    for n in ("Khu vực Vị Thanh", "Khu vực Thạnh Xuân"))
    assert old_vi_thanh.retired_on == old_thanh_xuan.retired_on == SECOND_DAY
    [area] = _area("Khu vực Vị Thanh")
    assert (area.parent_id, area.valid_from, area.retired_on) == (province.id, SECOND_DAY, None)
    assert _area("Khu vực Thạnh Xuân") == []
    assert vi_thanh.parent_id == area.id and thanh_xuan.parent_id == province.id
    # The area's officer keeps the account, bound to the area as it goes on; the plan's line re-binds the other
    # area's officer there; the officer it does not name is deactivated.
    accounts = _accounts()
    assert accounts["cum-vi-thanh"].is_enabled and accounts["cum-vi-thanh"].unit_id == area.id
    assert accounts["cum-thanh-xuan"].is_enabled and accounts["cum-thanh-xuan"].unit_id == area.id
    assert not accounts["cum-thanh-xuan-2"].is_enabled
    # The area adds up its commune, for the months before the plan too (the hamlets it holds now).
    for month in (202503, 202507, 202509):
        assert tally(area.id, month) == tally(vi_thanh.id, month)
    assert tally(area.id, 202507) > 0
    verify = runner.invoke(args=["coverage", "verify"])
    assert verify.exit_code == 0, verify.output
    # The command says what became of each area and of the commune it could not place.
    assert ("Area Khu vực Vị Thanh carries on, holding Phường Vị Thanh (31321); its officers: "
            "Account cum-vi-thanh stays with Khu vực Vị Thanh.") in result.output
    assert ("Area Khu vực Thạnh Xuân ended: each new commune its communes went into also took in communes outside "
            "it (Xã Thạnh Xuân (31360)); its officers: Account cum-thanh-xuan moved to Khu vực Vị Thanh; Account "
            "cum-thanh-xuan-2 deactivated (was Khu vực Thạnh Xuân).") in result.output
    assert ("Xã Thạnh Xuân (31360) is in no area: it took in communes of Khu vực Thạnh Xuân, Khu vực Vị Thanh. Put "
            "it in an area on the areas page.") in result.output


def test_a_dry_run_of_a_plan_over_areas_writes_nothing(runner, areas, tmp_path):
    before = _db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on)
                                 .order_by(AdminUnit.id)).all()
    bound = {u.username: (u.unit_id, u.is_enabled) for u in _accounts().values()}
    result = reorganize(runner, area_plan(tmp_path, SPLIT), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Area Khu vực Vị Thanh will carry on, holding Phường Vị Thanh (31321)" in result.output
    assert "Area Khu vực Thạnh Xuân will end" in result.output
    _db.session.remove()
    assert _db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.retired_on)
                               .order_by(AdminUnit.id)).all() == before
    assert {u.username: (u.unit_id, u.is_enabled) for u in _accounts().values()} == bound
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 1


def test_an_account_line_may_name_an_area_that_carries_on_and_nothing_else(runner, areas, tmp_path):
    refused = reorganize(runner, area_plan(tmp_path, SPLIT, [
        ("cum-vi-thanh", "", "Khu vực Thạnh Xuân"), ("cum-thanh-xuan", "", "Khu vực Cái Răng"),
        ("xa-31318", "", "Khu vực Vị Thanh")]))
    assert refused.exit_code != 0
    assert ("areas.csv:8: No area of this plan carries on under the name Khu vực Thạnh Xuân: name one that does, or "
            "leave the new unit's name empty to deactivate the account.") in refused.output
    assert "areas.csv:9: No area of this plan carries on under the name Khu vực Cái Răng" in refused.output
    assert "areas.csv:10: xa-31318's role needs a unit of another level." in refused.output
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)) == 1


def test_the_preview_s_areas_section_says_what_each_area_holds_and_what_becomes_of_its_officers(
        client, login_as, areas, tmp_path):
    login_as("province", unit_for_code("92"), username="staff-92")
    preview = upload(client, area_plan(tmp_path, SPLIT, [("cum-thanh-xuan", "", "Khu vực Vị Thanh")]))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    section = html.split('id="preview"')[1]
    said = items(section.split("<h3>Cụm xã</h3>")[1].split("</ul>")[0])
    assert said == [
        "Cụm xã Khu vực Thạnh Xuân sẽ kết thúc: mỗi xã, phường mới nhận các xã, phường của cụm đều nhận cả xã, "
        "phường ngoài cụm (Xã Thạnh Xuân (31360)); cán bộ của cụm: Tài khoản cum-thanh-xuan chuyển sang Khu vực Vị "
        "Thanh; Tài khoản cum-thanh-xuan-2 bị vô hiệu hóa (trước thuộc Khu vực Thạnh Xuân).",
        "Cụm xã Khu vực Vị Thanh sẽ tiếp tục, gồm Phường Vị Thanh (31321); cán bộ của cụm: Tài khoản cum-vi-thanh "
        "vẫn thuộc Khu vực Vị Thanh.",
        "Để giữ một cán bộ của cụm xã kết thúc, thêm vào phương án một dòng ghi tài khoản của người đó và tên một "
        "cụm xã tiếp tục ở cột tên đơn vị mới.",
        "Xã Thạnh Xuân (31360) sẽ không thuộc cụm xã nào: xã, phường này nhận các xã, phường của Khu vực Thạnh "
        "Xuân, Khu vực Vị Thanh. Sau khi áp dụng, hãy xếp xã, phường này vào một cụm trên trang Cụm xã."]
    # The preview changed nothing; confirmed, the page of the plan applied says the same, as done.
    assert [a.id for a in _area("Khu vực Thạnh Xuân")] == [areas["Khu vực Thạnh Xuân"]]
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post("/units/reorganize/confirm", data={"payload": payload})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    applied = items(page.split("<h2>Cụm xã</h2>")[1].split("</ul>")[0])
    assert applied[0].startswith("Cụm xã Khu vực Thạnh Xuân đã kết thúc: mỗi xã, phường mới nhận các xã, phường "
                                 "của cụm đều đã nhận cả xã, phường ngoài cụm")
    assert applied[1] == ("Cụm xã Khu vực Vị Thanh tiếp tục, gồm Phường Vị Thanh (31321); cán bộ của cụm: Tài khoản "
                          "cum-vi-thanh vẫn thuộc Khu vực Vị Thanh.")
    assert applied[2] == ("Hãy gắn các cán bộ bị vô hiệu hóa vào một cụm xã trên trang Tài khoản và mở lại tài "
                          "khoản của họ.")
    assert applied[3] == ("Xã Thạnh Xuân (31360) không thuộc cụm xã nào: xã, phường này đã nhận các xã, phường của "
                          "Khu vực Thạnh Xuân, Khu vực Vị Thanh. Hãy xếp xã, phường này vào một cụm trên trang Cụm xã.")


def test_an_area_made_after_the_plan_s_day_follows_its_communes_too(runner, world, tmp_path):  # noqa: F811
    """An area made today, before a plan dated earlier is applied (the day before the plan's day it did not stand):
    it is part of the plan all the same, and goes on from the day it was made, with its officer."""
    from app.dates import today_vn
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    area = create_area(unit_for_code("92"), "Khu vực Vị Thanh")
    _db.session.flush()
    set_area_communes(area, {unit_for_code("31321").id, unit_for_code("31342").id})
    create_user("cum-vi-thanh", "district", _db.session.get(AdminUnit, area.id), "matkhau-dai-du-12")
    _db.session.commit()
    made_on, area_id = area.valid_from, area.id
    assert made_on == today_vn() > SECOND_DAY
    second = [("92", "", "92", ""), ("31321", "", "31321", ""), ("31342", "", "31321", ""), ("31360", "", "31360", "")]
    result = reorganize(runner, area_plan(tmp_path, second))
    assert result.exit_code == 0, result.output
    _db.session.remove()
    old = _db.session.get(AdminUnit, area_id)
    # It ends on the plan's day, as every unit of the old province: it stood on no day under it.
    assert old.retired_on == SECOND_DAY and not old.valid_on(made_on) and not old.valid_on(SECOND_DAY)
    [new] = _area("Khu vực Vị Thanh")
    assert (new.parent_id, new.valid_from) == (unit_for_code("92").id, made_on)
    assert unit_for_code("31321").parent_id == new.id and unit_for_code("31360").parent_id == unit_for_code("92").id
    account = _accounts()["cum-vi-thanh"]
    assert account.is_enabled and account.unit_id == new.id
    # No area is left current under a province that ended.
    assert not _db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(
        AdminUnit.level == "area", AdminUnit.retired_on.is_(None), AdminUnit.parent_id != unit_for_code("92").id))


# Cần Thơ and a two-level Sóc Trăng merged from 2026-01-01 (an administrator's plan): each had an area named
# Khu vực Trung tâm.
MERGED = [("92", "", "92", ""), ("94", "", "92", ""), ("31321", "", "31321", ""), ("31342", "", "31342", ""),
          ("31360", "", "31360", ""), ("31507", "", "31507", "")]


def test_two_merged_provinces_areas_of_one_name_are_told_apart_by_the_old_province_s_name(
        app, client, login_as, world, runner, tmp_path):  # noqa: F811 - the fixture imported above
    """The area of the province whose code the new one keeps keeps its name; the other's gets its old province's
    name after it, as people say it ("Sóc Trăng", not "Tỉnh Sóc Trăng"). The administrator's preview says so, and
    the province's staff find both on the page of the plan applied and on the areas page."""
    from app.units import operations as units
    assert reorganize(runner, plan_csv(tmp_path, PLAN)).exit_code == 0
    _db.session.remove()
    soc_trang = units.create_unit("Tỉnh Sóc Trăng", "province", None, "94")
    phuong = units.create_unit("Phường Sóc Trăng", "commune", soc_trang, "31507")
    units.set_household_count(units.create_unit("Khóm 1", "hamlet", phuong), 300, date(2024, 1, 1))
    # Sóc Trăng's area made first: which keeps the name is not a matter of which was made first.
    for province, communes, officer in ((soc_trang, {phuong.id}, "cum-soc-trang"),
                                        (unit_for_code("92"), {unit_for_code("31321").id}, "cum-can-tho")):
        area = create_area(province, "Khu vực Trung tâm")
        area.valid_from = date(2025, 8, 1)
        _db.session.flush()
        set_area_communes(area, communes)
        create_user(officer, "district", _db.session.get(AdminUnit, area.id), "matkhau-dai-du-12")
    _db.session.commit()

    login_as("admin", unit_for_code("92"))
    preview = upload(client, area_plan(tmp_path, MERGED))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    said = items(html.split('id="preview"')[1].split("<h3>Cụm xã</h3>")[1].split("</ul>")[0])
    assert said == [
        "Cụm xã Khu vực Trung tâm sẽ tiếp tục, gồm Phường Vị Thanh (31321); cán bộ của cụm: Tài khoản cum-can-tho "
        "vẫn thuộc Khu vực Trung tâm.",
        "Cụm xã Khu vực Trung tâm sẽ tiếp tục với tên Khu vực Trung tâm (Sóc Trăng), vì tỉnh mới đã "
        "có một cụm xã mang tên này, gồm Phường Sóc Trăng (31507); cán bộ của cụm: Tài khoản cum-soc-trang vẫn "
        "thuộc Khu vực Trung tâm (Sóc Trăng)."]
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    assert client.post("/units/reorganize/confirm", data={"payload": payload}).status_code == 303

    staff = app.test_client()
    province = unit_for_code("92")
    login_as("province", province, http=staff)
    page = staff.get("/units/reorganize/done").get_data(as_text=True)
    applied = items(page.split("<h2>Cụm xã</h2>")[1].split("</ul>")[0])
    assert applied[1] == (
        "Cụm xã Khu vực Trung tâm tiếp tục với tên Khu vực Trung tâm (Sóc Trăng), vì tỉnh mới đã có "
        "một cụm xã mang tên này, gồm Phường Sóc Trăng (31507); cán bộ của cụm: Tài khoản cum-soc-trang vẫn thuộc "
        "Khu vực Trung tâm (Sóc Trăng).")
    listed = staff.get(f"/areas/{province.id}").get_data(as_text=True)
    rows = re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td><td class="num">(\d+)</td></tr>', listed)
    assert rows == [("Khu vực Trung tâm", "1"), ("Khu vực Trung tâm (Sóc Trăng)", "1")]
    assert unit_for_code("31507").parent.name == "Khu vực Trung tâm (Sóc Trăng)"
    assert _accounts()["cum-soc-trang"].unit.name == "Khu vực Trung tâm (Sóc Trăng)"
