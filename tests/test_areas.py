"""Areas: a two-level province groups its communes into named areas; an area officer sees its
communes; coverage rolls up province → area → commune, or province → commune without areas."""
import re
from datetime import date

import sqlalchemy as sa

from app.coverage import queries
from app.extensions import db as _db
from app.units.models import AdminUnit
from app.units.operations import create_unit, set_household_count
from tests.form_versions import post_opened
from tests.test_coverage import households, make_services, visit


class TwoLevels:
    """A province after the reform: communes straight under it, each with a hamlet and visits."""

    def __init__(self):
        self.province = create_unit("Thành phố Cần Thơ", "province", None, "92")
        self.communes, self.hamlets = [], []
        for i, (name, code, n) in enumerate((("Phường Vị Thanh", "31321", 300), ("Xã Vị Thủy", "31351", 200),
                                              ("Phường Ngã Bảy", "31411", 500))):
            commune = create_unit(name, "commune", self.province, code)
            hamlet = create_unit(f"Khu vực {i + 1}", "hamlet", commune)
            set_household_count(hamlet, n, date(2024, 1, 1))
            self.communes.append(commune)
            self.hamlets.append(hamlet)
        self.wallet, _vneid = make_services()
        # Adoptions before and after the reform date, so an area shows its communes' whole history.
        for hamlet, days in zip(self.hamlets, ((date(2025, 3, 4), date(2025, 9, 2)), (date(2025, 8, 5),),
                                               (date(2024, 11, 20),))):
            for day, hh in zip(days, households(hamlet, len(days))):
                visit(hh, day, adopted=[self.wallet])
        _db.session.commit()


def _area_of_vi_thanh(client, world) -> AdminUnit:
    """Province staff (signed in on `client`) add the area Khu vực Vị Thanh and give it Vị Thanh and Vị Thủy."""
    vi_thanh, vi_thuy, _nga_bay = world.communes
    client.post(f"/areas/{world.province.id}", data={"name": "Khu vực Vị Thanh"})
    area = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực Vị Thanh"))
    post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh", "communes": [vi_thanh.id, vi_thuy.id]})
    return area


def _add_areas(client, world, *names) -> list[AdminUnit]:
    """Province staff (signed in on `client`) add areas of these names, without communes; the province's areas."""
    for name in names:
        client.post(f"/areas/{world.province.id}", data={"name": name})
    return list(_db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "area").order_by(AdminUnit.id)))


def _verify(runner):
    _db.session.remove()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 0, result.output


def test_without_areas_the_province_rolls_up_straight_to_its_communes(db, runner):
    world = TwoLevels()
    table = queries.coverage(world.province, date(2025, 9, 30))
    assert [r.unit.name for r in table.rows] == ["Phường Ngã Bảy", "Phường Vị Thanh", "Xã Vị Thủy"]
    assert table.total.households == 1000
    assert table.total.services["ewallet"].adopted == 4


def test_province_staff_group_communes_into_an_area_whose_figures_are_their_whole_history(
        db, client, login_as, runner):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    page = client.get(f"/areas/{world.province.id}")
    assert page.status_code == 200 and "3 xã, phường chưa thuộc cụm nào." in page.get_data(as_text=True)
    refused = client.post(f"/areas/{world.province.id}", data={"name": "🙂"})
    assert refused.status_code == 400
    assert "Tên phải có ít nhất một chữ cái hoặc chữ số." in refused.get_data(as_text=True)
    resp = client.post(f"/areas/{world.province.id}", data={"name": "Khu vực Vị Thanh"})
    assert resp.status_code == 303
    area = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "area"))
    resp = post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh",
                                                      "communes": [vi_thanh.id, vi_thuy.id]})
    assert resp.status_code == 303
    _db.session.expire_all()
    assert {c.parent_id for c in (vi_thanh, vi_thuy)} == {area.id}
    hamlet = _db.session.get(AdminUnit, world.hamlets[0].id)
    assert hamlet.path == f"{hamlet.parent.path}{hamlet.id}/" and hamlet.path.startswith(area.path)
    # Each unit one level below its parent: province 0, area 1, commune 2, hamlet 3.
    assert (area.depth, hamlet.parent.depth, hamlet.depth) == (1, 2, 3)
    # The area's months before it was made, and before the reform, are its communes' figures.
    march = queries.coverage(area, date(2025, 3, 31))
    assert (march.total.households, march.total.services["ewallet"].adopted) == (500, 1)
    sept = queries.coverage(area, date(2025, 9, 30))
    assert [r.unit.name for r in sept.rows] == ["Phường Vị Thanh", "Xã Vị Thủy"]
    assert sept.total.services["ewallet"].adopted == 3
    series = queries.monthly_series(area, [(2025, 2), (2025, 3), (2025, 8), (2025, 9)])
    assert [m.row.services["ewallet"].adopted for m in series] == [0, 1, 2, 3]
    # The province: an area and a commune in no area; the same total as before.
    province = queries.coverage(world.province, date(2025, 9, 30))
    assert [r.unit.name for r in province.rows] == ["Khu vực Vị Thanh", "Phường Ngã Bảy"]
    assert (province.total.households, province.total.services["ewallet"].adopted) == (1000, 4)
    index = client.get(f"/areas/{world.province.id}").get_data(as_text=True)
    assert re.search(r'>Khu vực Vị Thanh</a></td><td class="num">2</td>', index)  # its two communes
    # Opened again, its communes are ticked; renamed there, the new name is kept and audited.
    page = client.get(f"/areas/area/{area.id}")
    ticked = re.findall(r'<input type="checkbox" name="communes" value="(\d+)" id="commune-\d+" checked>',
                        page.get_data(as_text=True))
    assert page.status_code == 200 and sorted(ticked) == sorted([str(vi_thanh.id), str(vi_thuy.id)])
    resp = post_opened(client, f"/areas/area/{area.id}", {"name": "Cụm Vị Thanh – Vị Thủy",
                                                      "communes": [vi_thanh.id, vi_thuy.id]})
    assert resp.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, area.id).name == "Cụm Vị Thanh – Vị Thủy"
    from app.audit.models import AuditEvent
    renamed = _db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.record_type == "unit", AuditEvent.record_id == area.id, AuditEvent.action == "update")).all()
    assert [{f: (b, a) for f, b, a in e.change_items} for e in renamed] == [
        {"name": ("Khu vực Vị Thanh", "Cụm Vị Thanh – Vị Thủy")}]
    _verify(runner)


def test_a_commune_taken_out_of_an_area_leaves_none_of_its_figures_there(db, client, login_as, runner):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    area = _area_of_vi_thanh(client, world)
    client.post(f"/areas/{world.province.id}", data={"name": "Khu vực Ngã Bảy"})
    other = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.name == "Khu vực Ngã Bảy"))
    # Xã Vị Thủy moves to the other area; ticking it there takes it out of the first.
    resp = post_opened(client, f"/areas/area/{other.id}",
                       {"name": "Khu vực Ngã Bảy", "communes": [vi_thuy.id, nga_bay.id]})
    assert resp.status_code == 303
    _db.session.expire_all()
    area, other = _db.session.get(AdminUnit, area.id), _db.session.get(AdminUnit, other.id)
    sept = date(2025, 9, 30)
    assert queries.coverage(area, sept).total.services["ewallet"].adopted == 2
    assert queries.coverage(other, sept).total.services["ewallet"].adopted == 2
    # The province's rows for its areas too: each area's own figures, the one left no longer counting the commune.
    rows = {r.unit.name: (r.households, r.services["ewallet"].adopted)
            for r in queries.coverage(_db.session.get(AdminUnit, world.province.id), sept).rows}
    assert rows == {"Khu vực Vị Thanh": (300, 2), "Khu vực Ngã Bảy": (700, 2)}
    # Unticked, a commune goes back directly under the province.
    post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh", "communes": []})
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, vi_thanh.id).parent_id == world.province.id
    assert queries.coverage(_db.session.get(AdminUnit, area.id), sept).total.households == 0
    _verify(runner)


def test_each_area_change_says_what_it_did_and_the_communes_moved_are_audited(db, client, login_as):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    officer = login_as("province", world.province)
    page = client.post(f"/areas/{world.province.id}", data={"name": "Khu vực Vị Thanh"}, follow_redirects=True)
    assert "Đã thêm cụm Khu vực Vị Thanh. Bây giờ hãy chọn các xã của cụm." in page.get_data(as_text=True)
    area = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "area"))

    def save(*communes):
        return post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh", "communes": list(communes)},
                           follow_redirects=True).get_data(as_text=True)

    assert "Đã lưu cụm Khu vực Vị Thanh: thêm 2 xã, trả 0 xã về trực thuộc tỉnh." in save(vi_thanh.id, vi_thuy.id)
    assert "Đã lưu cụm Khu vực Vị Thanh: thêm 1 xã, trả 1 xã về trực thuộc tỉnh." in save(vi_thanh.id, nga_bay.id)
    # Saved again with nothing changed: said, and nothing audited.
    assert "Đã lưu cụm Khu vực Vị Thanh: thêm 0 xã, trả 0 xã về trực thuộc tỉnh." in save(vi_thanh.id, nga_bay.id)
    from app.audit.models import AuditEvent
    _db.session.expire_all()
    events = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "set_communes",
                                                             AuditEvent.record_id == area.id)
                                 .order_by(AuditEvent.id)).all()
    assert [(e.user_id, e.unit_id) for e in events] == [(officer.id, area.id)] * 2
    assert [{f: (b, a) for f, b, a in e.change_items} for e in events] == [
        {"communes_in": (None, ["Phường Vị Thanh", "Xã Vị Thủy"]), "communes_out": ([], None)},
        {"communes_in": (None, ["Phường Ngã Bảy"]), "communes_out": (["Xã Vị Thủy"], None)}]


def test_an_area_is_not_renamed_to_another_areas_name_and_its_page_says_where_each_commune_is(
        db, client, login_as):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    first, second = _add_areas(client, world, *("Khu vực Vị Thanh", "Khu vực Ngã Bảy"))
    post_opened(client, f"/areas/area/{second.id}", {"name": "Khu vực Ngã Bảy", "communes": [nga_bay.id]})
    resp = post_opened(client, f"/areas/area/{first.id}", {"name": "Khu Vực Ngã Bảy", "communes": [vi_thanh.id]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Tỉnh đã có một cụm với tên này." in html
    assert 'value="Khu Vực Ngã Bảy"' in html
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, first.id).name == "Khu vực Vị Thanh"
    assert _db.session.get(AdminUnit, vi_thanh.id).parent_id == world.province.id
    # Beside a commune of the other area, that area (ticking it moves it here); beside the others, nothing.
    html = client.get(f"/areas/area/{first.id}").get_data(as_text=True)
    labels = dict(re.findall(r'<label for="commune-(\d+)">(.*?)</label>', html))
    assert labels == {str(vi_thanh.id): "Phường Vị Thanh", str(vi_thuy.id): "Xã Vị Thủy",
                      str(nga_bay.id): 'Phường Ngã Bảy <span class="meta">(hiện thuộc Khu vực Ngã Bảy)</span>'}
    labels = dict(re.findall(r'<label for="commune-(\d+)">(.*?)</label>',
                             client.get(f"/areas/area/{second.id}").get_data(as_text=True)))
    assert labels[str(nga_bay.id)] == "Phường Ngã Bảy"


def test_an_areas_page_lists_its_own_communes_first_then_the_free_ones_then_those_of_other_areas(
        db, client, login_as):
    """A province of a hundred communes: on a phone the officer sees what the area holds and what is free to add
    before the communes other areas hold, each group in the province's order, and a search box to narrow them."""
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    first, second = _add_areas(client, world, *("Khu vực Vị Thủy", "Khu vực Ngã Bảy"))
    post_opened(client, f"/areas/area/{first.id}", {"name": "Khu vực Vị Thủy", "communes": [vi_thuy.id]})
    post_opened(client, f"/areas/area/{second.id}", {"name": "Khu vực Ngã Bảy", "communes": [nga_bay.id]})
    html = client.get(f"/areas/area/{first.id}").get_data(as_text=True)
    listed = re.findall(r'id="commune-(\d+)"', html)
    assert listed == [str(vi_thuy.id), str(vi_thanh.id), str(nga_bay.id)]
    assert re.search(rf'id="commune-{vi_thuy.id}"\s+checked', html)
    assert 'data-filter-list="#area-communes" hidden' in html and "Tìm xã, phường" in html
    # A refused save lists them in the same order, with the officer's ticks kept.
    resp = post_opened(client, f"/areas/area/{first.id}", {"name": "", "communes": [vi_thanh.id]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert re.findall(r'id="commune-(\d+)"', html) == listed
    assert re.findall(r'id="commune-(\d+)"\s+checked', html) == [str(vi_thanh.id)]


def test_as_the_map_was_before_an_area_was_made_its_communes_stand_under_the_province(db, client, login_as):
    """An area is today's grouping: on the map of a month before it was made, the communes it now groups stand
    under the province, each with its figures, in pages, trends and reports alike."""
    from app.coverage import maps
    from app.reports.summary import compute_figures
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    area = _area_of_vi_thanh(client, world)
    _db.session.expire_all()
    province = _db.session.get(AdminUnit, world.province.id)
    sept = date(2025, 9, 30)
    then = maps.coverage_then(province, sept).table
    assert {r.unit.name: (r.households, r.services["ewallet"].adopted) for r in then.rows} == {
        "Phường Vị Thanh": (300, 2), "Xã Vị Thủy": (200, 1), "Phường Ngã Bảy": (500, 1)}
    assert (then.total.households, then.total.services["ewallet"].adopted) == (1000, 4)
    series = maps.series_then(province, [(2025, 8), (2025, 9)])
    assert [(m.row.households, m.row.services["ewallet"].adopted) for m in series] == [(1000, 3), (1000, 4)]
    page = client.get(f"/coverage/{province.id}?month=2025-09&map=then").get_data(as_text=True)
    assert ">Xã Vị Thủy</a>" in page and ">Khu vực Vị Thanh</a>" not in page
    figures = compute_figures(province, 2025, 9, as_then=True)
    assert {str(vi_thanh.id), str(vi_thuy.id), str(nga_bay.id)} <= set(figures["units"])
    assert str(area.id) not in figures["units"]
    # On this month's map the area stands, with the same total.
    today = date.today()
    now = maps.coverage_then(province, date(today.year, today.month, 28)).table
    assert sorted(r.unit.name for r in now.rows) == ["Khu vực Vị Thanh", "Phường Ngã Bảy"]
    assert now.total.households == 1000


def test_an_area_no_longer_wanted_is_removed_and_its_communes_go_back_under_the_province(
        db, client, login_as, runner):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    officer = login_as("province", world.province)
    area_id = _area_of_vi_thanh(client, world).id
    assert f'href="/areas/area/{area_id}/remove"' in client.get(f"/areas/area/{area_id}").get_data(as_text=True)
    asked = client.get(f"/areas/area/{area_id}/remove").get_data(as_text=True)
    assert "Xóa cụm Khu vực Vị Thanh?" in asked and "(Phường Vị Thanh, Xã Vị Thủy)" in asked
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, area_id) is not None  # asking removed nothing
    done = client.post(f"/areas/area/{area_id}/remove", follow_redirects=True)
    assert done.status_code == 200 and done.request.path == f"/areas/{world.province.id}"
    assert "Đã xóa cụm Khu vực Vị Thanh: 2 xã trở lại trực thuộc tỉnh." in done.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, area_id) is None
    assert {_db.session.get(AdminUnit, c.id).parent_id for c in (vi_thanh, vi_thuy)} == {world.province.id}
    sept = queries.coverage(_db.session.get(AdminUnit, world.province.id), date(2025, 9, 30))
    assert sorted(r.unit.name for r in sept.rows) == ["Phường Ngã Bảy", "Phường Vị Thanh", "Xã Vị Thủy"]
    assert (sept.total.households, sept.total.services["ewallet"].adopted) == (1000, 4)
    from app.audit.models import AuditEvent
    [event] = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "remove_area")).all()
    assert (event.record_id, event.unit_id, event.user_id) == (area_id, world.province.id, officer.id)
    from flask_babel import force_locale

    from app.audit.words import describe
    with client.application.test_request_context(), force_locale("vi"):
        assert describe([event])[0].sentence == "Đã xóa cụm Khu vực Vị Thanh"  # by the name it had
    # The confirmation sent again (a double tap) says it is done already.
    again = client.post(f"/areas/area/{area_id}/remove")
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/areas/{world.province.id}")
    assert "Cụm này đã được xóa." in client.get(again.headers["Location"]).get_data(as_text=True)
    _verify(runner)


def test_an_area_with_an_account_bound_to_it_is_not_removed_and_only_its_provinces_staff_remove_one(
        db, client, login_as):
    from app.auth.cli import create_user
    from app.auth.models import User
    world = TwoLevels()
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    empty = create_unit("Khu vực Ngã Bảy", "area", world.province)
    create_user("can-bo-khu-vuc", "district", area, "mat-khau-dai-du-1", full_name="Trần Thị Khuê")
    elsewhere = create_unit("Tỉnh Vĩnh Long", "province", None, "86")
    _db.session.commit()
    login_as("province", world.province)
    asked = client.get(f"/areas/area/{area.id}/remove").get_data(as_text=True)
    assert "Tài khoản Trần Thị Khuê (can-bo-khu-vuc) đang gắn với cụm này nên không xóa được cụm." in asked
    officer_id = _db.session.scalar(sa.select(User.id).where(User.username == "can-bo-khu-vuc"))
    # Where to bind it elsewhere.
    assert f'<li><a href="/users/{officer_id}">Trần Thị Khuê (can-bo-khu-vuc)</a></li>' in asked
    assert 'class="primary danger"' not in asked
    refused = client.post(f"/areas/area/{area.id}/remove")
    assert refused.status_code == 409 and "Trần Thị Khuê (can-bo-khu-vuc)" in refused.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, area.id) is not None
    assert "Cụm không có xã nào." in client.get(f"/areas/area/{empty.id}/remove").get_data(as_text=True)
    # Staff of another province, and the area's own officer, may not remove it.
    from tests.report_data import forget_signed_in_user
    for role, unit, status in (("province", elsewhere, 404), ("district", empty, 403)):
        forget_signed_in_user()
        other = client.application.test_client()
        login_as(role, unit, http=other)
        assert other.post(f"/areas/area/{empty.id}/remove").status_code == status, role
        assert other.get(f"/areas/area/{empty.id}/remove").status_code == status, role
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, empty.id) is not None


def test_the_accounts_bound_to_an_area_are_named_with_their_usernames_and_linked_where_the_viewer_opens_them(
        db, client, login_as):
    """Two officers of one name bound to the area are told apart by their usernames; province staff open an area
    officer's account but not an administrator's, so only the first is a link for them; an administrator opens
    both."""
    from app.auth.cli import create_user
    from tests.html_tree import parse
    from tests.report_data import forget_signed_in_user
    world = TwoLevels()
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    officer = create_user("nguyen.van.an", "district", area, "mat-khau-dai-du-1", full_name="Nguyễn Văn An")
    admin = create_user("an.quan.tri", "admin", area, "mat-khau-dai-du-1", full_name="Nguyễn Văn An")
    _db.session.commit()

    def bound(http) -> tuple[str, list[tuple[str, str]]]:
        page = parse(http.get(f"/areas/area/{area.id}/remove").get_data(as_text=True))
        notice = " ".join(page.find(id="bound").text().split())
        links = [(" ".join(a.text().split()), a.attrs["href"]) for a in page.find(tag="section").find_all(tag="a")
                 if a.attrs["href"].startswith("/users/")]
        return notice, links

    login_as("province", world.province)
    notice, links = bound(client)
    assert notice == ("Tài khoản Nguyễn Văn An (an.quan.tri), Nguyễn Văn An (nguyen.van.an) đang gắn với cụm này "
                      "nên không xóa được cụm.")
    assert links == [("Nguyễn Văn An (nguyen.van.an)", f"/users/{officer.id}")]
    page = client.get(f"/areas/area/{area.id}/remove").get_data(as_text=True)
    assert page.count("Nguyễn Văn An (an.quan.tri)") == 2  # in the notice, and unlinked on the line below
    assert client.get(f"/users/{admin.id}").status_code == 404
    forget_signed_in_user()
    other = client.application.test_client()
    login_as("admin", world.province, http=other)
    assert bound(other)[1] == [("Nguyễn Văn An (an.quan.tri)", f"/users/{admin.id}"),
                               ("Nguyễn Văn An (nguyen.van.an)", f"/users/{officer.id}")]


def test_an_account_the_viewer_cannot_open_is_left_to_an_administrator_on_the_area_removal_page(
        db, client, login_as):
    """Province staff cannot open an administrator's account, so they are not sent to its page to bind it elsewhere:
    its line says to ask an administrator; the area officer's account beside it keeps the advice and the link. An
    administrator, who opens both, is told to bind each from its page."""
    from app.auth.cli import create_user
    from tests.html_tree import parse
    from tests.report_data import forget_signed_in_user
    world = TwoLevels()
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    alone = create_unit("Khu vực Ngã Bảy", "area", world.province)
    officer = create_user("can-bo-khu-vuc", "district", area, "mat-khau-dai-du-1", full_name="Trần Thị Khuê")
    create_user("quan-tri", "admin", area, "mat-khau-dai-du-1", full_name="Lê Văn Quản")
    create_user("quan-tri-2", "admin", alone, "mat-khau-dai-du-1", full_name="Phạm Văn Trị")
    _db.session.commit()
    ask = "chỉ quản trị viên mới mở được tài khoản này; hãy nhờ quản trị viên gắn tài khoản với đơn vị khác trước."
    from_page = "Trước hết hãy gắn tài khoản với đơn vị khác từ trang của tài khoản:"

    def lines(http, unit) -> list[str]:
        """The page's advice under the notice, a paragraph or a list item a line."""
        section = parse(http.get(f"/areas/area/{unit.id}/remove").get_data(as_text=True)).find(tag="section")
        return [" ".join(e.text().split()) for e in section.iter() if e.tag in ("p", "li")
                and e.attrs.get("id") != "bound" and not any(c.tag in ("p", "li") for c in e.iter() if c is not e)]

    login_as("province", world.province)
    assert lines(client, area) == [from_page, "Trần Thị Khuê (can-bo-khu-vuc)", f"Lê Văn Quản (quan-tri): {ask}",
                                   "Quay lại"]
    assert lines(client, alone) == [f"Phạm Văn Trị (quan-tri-2): {ask}", "Quay lại"]
    page = parse(client.get(f"/areas/area/{area.id}/remove").get_data(as_text=True))
    assert [a.attrs["href"] for a in page.find(tag="section").find_all(tag="a")
            if a.attrs["href"].startswith("/users/")] == [f"/users/{officer.id}"]
    forget_signed_in_user()
    other = client.application.test_client()
    login_as("admin", world.province, http=other)
    assert lines(other, area) == [from_page, "Trần Thị Khuê (can-bo-khu-vuc)", "Lê Văn Quản (quan-tri)", "Quay lại"]
    assert lines(other, alone) == [from_page, "Phạm Văn Trị (quan-tri-2)", "Quay lại"]


def test_an_area_officer_is_bound_to_another_area_then_the_empty_area_is_removed(db, client, login_as):
    """An area's officer changes post: province staff bind the account to another area from its page; it then
    opens the new area's communes and no longer the old one's, and the old area, with no account bound, goes."""
    from app.audit.models import AuditEvent
    from app.auth.cli import create_user
    from app.auth.models import User
    from tests.report_data import forget_signed_in_user
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    login_as("province", world.province)
    area = _area_of_vi_thanh(client, world)
    other = create_unit("Khu vực Ngã Bảy", "area", world.province)
    from app.areas.operations import set_area_communes
    set_area_communes(other, {nga_bay.id})
    officer = create_user("can-bo-khu-vuc", "district", area, "mat-khau-dai-du-1")
    _db.session.commit()
    page = client.get(f"/users/{officer.id}").get_data(as_text=True)
    options = re.findall(r'<option (?:selected )?value="(\d+)">([^<]+)</option>', page)
    assert sorted(name for _id, name in options) == ["Khu vực Ngã Bảy — Thành phố Cần Thơ",
                                                     "Khu vực Vị Thanh — Thành phố Cần Thơ"]
    refused = client.post(f"/users/{officer.id}/unit", data={"bind-unit": str(vi_thanh.id)})  # a commune
    assert refused.status_code == 400 and "Hãy chọn một trong các đơn vị trong danh sách cho vai trò này." in \
        refused.get_data(as_text=True)
    done = post_opened(client, f"/users/{officer.id}/unit", {"bind-unit": str(other.id)}, f"/users/{officer.id}",
                       follow_redirects=True)
    assert "Tài khoản can-bo-khu-vuc nay gắn với Khu vực Ngã Bảy." in done.get_data(as_text=True)
    assert "Đã gắn tài khoản can-bo-khu-vuc với Khu vực Ngã Bảy" in done.get_data(as_text=True)  # its history
    _db.session.expire_all()
    assert _db.session.get(User, officer.id).unit_id == other.id
    [event] = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "user",
                                                              AuditEvent.action == "update")).all()
    assert event.unit_id == other.id
    # The officer's pages follow: the new area's commune, no longer the old one's.
    forget_signed_in_user()
    theirs = client.application.test_client()
    theirs.post("/auth/login", data={"username": "can-bo-khu-vuc", "password": "mat-khau-dai-du-1"})
    assert theirs.get(f"/coverage/{nga_bay.id}?month=2025-09").status_code == 200
    assert theirs.get(f"/coverage/{vi_thanh.id}?month=2025-09").status_code == 404
    # The old area, with no account bound now, can go.
    assert client.post(f"/areas/area/{area.id}/remove").status_code == 303


def test_an_area_officer_sees_the_communes_of_the_area_and_no_other(db, client, login_as):
    world = TwoLevels()
    vi_thanh, vi_thuy, nga_bay = world.communes
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    from app.areas.operations import set_area_communes
    set_area_communes(area, {vi_thanh.id, vi_thuy.id})
    _db.session.commit()
    login_as("district", area)
    page = client.get(f"/coverage/{area.id}?month=2025-09")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Phường Vị Thanh" in text and "Xã Vị Thủy" in text and "Phường Ngã Bảy" not in text
    assert client.get(f"/coverage/{vi_thanh.id}?month=2025-09").status_code == 200
    assert client.get(f"/coverage/{nga_bay.id}?month=2025-09").status_code == 404
    # Areas are the province's to make: the area officer may not open the areas page, nor change
    # the communes of their own area.
    assert client.get(f"/areas/{world.province.id}").status_code == 404
    assert client.get(f"/areas/area/{area.id}").status_code == 403
    assert post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực khác"}).status_code == 403


def test_an_area_name_taken_or_a_commune_of_another_province_is_refused_beside_the_field(db, client, login_as):
    world = TwoLevels()
    elsewhere = create_unit("Tỉnh Vĩnh Long", "province", None, "86")
    stranger = create_unit("Phường 1", "commune", elsewhere, "29500")
    _db.session.commit()
    login_as("province", world.province)
    client.post(f"/areas/{world.province.id}", data={"name": "Khu vực Vị Thanh"})
    resp = client.post(f"/areas/{world.province.id}", data={"name": "khu vuc vi thanh"})
    assert resp.status_code == 400
    assert "Tỉnh đã có một cụm với tên này." in resp.get_data(as_text=True)
    assert 'value="khu vuc vi thanh"' in resp.get_data(as_text=True)
    area = _db.session.scalar(sa.select(AdminUnit).where(AdminUnit.level == "area"))
    resp = post_opened(client, f"/areas/area/{area.id}", {"name": "Khu vực Vị Thanh", "communes": [stranger.id]})
    assert resp.status_code == 400
    # One message beside the field, ours: not WTForms' own "not a valid choice" as well.
    error = re.search(r'<p id="communes-error" class="error" role="alert">([^<]*)</p>', resp.get_data(as_text=True))
    assert error and error.group(1) == "Chỉ chọn xã, phường của tỉnh này."
    _db.session.expire_all()
    assert _db.session.get(AdminUnit, stranger.id).parent_id == elsewhere.id


def test_a_district_officer_account_may_be_bound_to_an_area(db):
    from app.auth.cli import create_user
    world = TwoLevels()
    area = create_unit("Khu vực Vị Thanh", "area", world.province)
    user = create_user("can-bo-khu-vuc", "district", area, "mat-khau-dai-du-1")
    _db.session.flush()
    assert user.unit_id == area.id
    import pytest
    with pytest.raises(ValueError, match="district or area"):
        create_user("can-bo-xa", "district", world.communes[0], "mat-khau-dai-du-1")


def test_areas_are_made_under_a_province_only_even_by_an_administrator(db, client, login_as):
    world = TwoLevels()
    commune = world.communes[0]
    login_as("admin", world.province)
    assert client.get(f"/areas/{world.province.id}").status_code == 200
    assert client.get(f"/areas/{commune.id}").status_code == 403
    assert client.post(f"/areas/{commune.id}", data={"name": "Khu vực lạ"}).status_code == 403
    assert _db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(AdminUnit.level == "area")) == 0


def test_an_areas_communes_and_the_provinces_areas_come_in_the_vietnamese_order_of_their_names(db, client, login_as):
    """Đ after D, not among the Ds as a search key folds it; whatever order the communes were loaded in."""
    world = TwoLevels()
    for name, code in (("Phường Đại Thành", "31501"), ("Phường Dương Kinh", "31502")):
        create_unit(name, "commune", world.province, code)
    _db.session.commit()
    login_as("province", world.province)
    area, _other = _add_areas(client, world, "Khu vực Đông", "Khu vực Dương")
    html = client.get(f"/areas/area/{area.id}").get_data(as_text=True)
    names = {str(c.id): c.name for c in _db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "commune"))}
    assert [names[i] for i in re.findall(r'id="commune-(\d+)"', html)] == [
        "Phường Dương Kinh", "Phường Đại Thành", "Phường Ngã Bảy", "Phường Vị Thanh", "Xã Vị Thủy"]
    index = client.get(f"/areas/{world.province.id}").get_data(as_text=True)
    assert index.index("Khu vực Dương") < index.index("Khu vực Đông")


def test_a_provinces_report_with_an_area_adds_up_on_every_sheet_the_csv_and_the_printable_page(
        db, client, login_as):
    import csv
    import io

    from openpyxl import load_workbook
    world = TwoLevels()
    login_as("province", world.province)
    _area_of_vi_thanh(client, world)
    base = f"/reports/{world.province.id}/monthly"
    wb = load_workbook(io.BytesIO(client.get(f"{base}.xlsx?month=2025-09").data))
    # A sheet per level: the areas, then every commune, those of the area and those in none.
    assert wb.sheetnames[:2] == ["Các cụm xã", "Cấp xã"]

    def body(ws):
        header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
        heads = [c.value for c in ws[header]]
        rows = [dict(zip(heads, (c.value for c in row))) for row in ws.iter_rows(min_row=header + 1)]
        return rows[:-1], rows[-1]

    areas, total = body(wb["Các cụm xã"])
    assert [r["Đơn vị"] for r in areas] == ["Khu vực Vị Thanh", "Các xã không thuộc cụm xã nào (1)"]
    assert [r["Số hộ"] for r in areas] == [500, 500]
    communes, commune_total = body(wb["Cấp xã"])
    assert [r["Đơn vị"] for r in communes] == ["Phường Vị Thanh", "Xã Vị Thủy", "Phường Ngã Bảy"]
    assert [r["Thuộc"] for r in communes] == ["Khu vực Vị Thanh", "Khu vực Vị Thanh", "Thành phố Cần Thơ"]
    for rows, last in ((areas, total), (communes, commune_total)):
        assert last["Đơn vị"] == "Tổng cộng" and last["Số hộ"] == 1000 == sum(r["Số hộ"] for r in rows)
        wallet = next(h for h in last if h and h.endswith(": số hộ sử dụng"))
        assert last[wallet] == 4 == sum(r[wallet] for r in rows)
    # The adult indicators the same way, a sheet per level, the communes in no area a row of their own.
    assert wb.sheetnames[2:] == ["Người trưởng thành · Các cụm xã", "Người trưởng thành · Cấp xã"]
    adult_areas, adult_total = body(wb["Người trưởng thành · Các cụm xã"])
    assert [r["Đơn vị"] for r in adult_areas] == ["Khu vực Vị Thanh", "Các xã không thuộc cụm xã nào (1)"]
    for sheet in wb.sheetnames[2:]:
        rows, last = body(wb[sheet])
        for head in ("Người trưởng thành", "Lượt người học trong tháng", "Học viên có tên (lũy kế)"):
            assert sum(r[head] for r in rows) == last[head] == adult_total[head], (sheet, head)
    # The CSV: the province, then each level's rows; its communes add up to it.
    lines = list(csv.DictReader(io.StringIO(client.get(f"{base}.csv?month=2025-09").data.decode("utf-8-sig"))))
    province = lines[0]
    assert province["Đơn vị"] == "Thành phố Cần Thơ"
    assert sum(int(r["Số hộ"]) for r in lines if r["Cấp"] == "Xã") == int(province["Số hộ"]) == 1000
    # The printable page: the province's own children (the area and the commune in none), then their total.
    page = client.get(f"{base}/print?month=2025-09").get_data(as_text=True)
    part = page[page.index('id="part-coverage"'):]
    cells = re.findall(r'<tr(?: class="total")? data-unit="[^"]*">\s*<th scope="row">(.*?)</th>\s*'
                       r'<td class="num" data-label="Số hộ" data-key="households">([\d.]+)</td>', part)
    assert [(re.sub(r"<[^>]+>", "", n), h) for n, h in cells] == [
        ("Khu vực Vị Thanh", "500"), ("Phường Ngã Bảy", "500"), ("Tổng cộng", "1.000")]
