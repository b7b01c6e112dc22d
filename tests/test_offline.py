"""What the phone keeps for the visit form without signal: the team's data, the worker, the manifest."""
import json

from app.households import privacy
from tests.html_tree import parse
from tests.visits_helpers import household, sign_in_as


def test_the_team_data_lists_its_households_by_name_and_hamlet_only(app, db, tree, team):
    browser, leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])
    kept = household(tree.hamlet, "Nguyễn Văn Đạt", "12 Lê Lợi")
    erased = household(tree.hamlet, "Trần Thị Mai", "3 Hùng Vương")
    privacy.erase(erased, "Hộ yêu cầu", user=leader)
    db.session.commit()
    household(tree.hamlet2, "Lê Văn Tám")  # the commune's other hamlet, not the team's
    household(tree.other_hamlet, "Phạm Văn Đồng")  # another commune

    resp = browser.get("/visits/team.json")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["households"] == [{"id": kept.id, "name": "Nguyễn Văn Đạt", "folded": "nguyen van dat",
                                   "hamlet": "Khu vực 1"}]
    assert [h["name"] for h in data["hamlets"]] == ["Khu vực 1"]
    assert {m["name"] for m in data["members"]} == {"Nguyễn Thị Lan", "Trần Văn Bình", "Lê Minh Khang"}
    assert "12 Lê Lợi" not in resp.get_data(as_text=True)  # no address, no phone
    assert data["csrf_token"]


def test_staff_have_no_team_data_to_keep(app, db, tree):
    browser, _user = sign_in_as(app, "commune", tree.commune)
    assert browser.get("/visits/team.json").status_code == 403


def test_the_service_worker_is_served_for_the_whole_site_and_named_after_the_files_it_keeps(app, client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.mimetype == "text/javascript"
    script = resp.get_data(as_text=True)
    assert "__VERSION__" not in script
    from app.http_caching import static_version
    assert static_version(app, "css/app.css") in script  # a new stylesheet: a new worker, a new cache


def test_field_users_get_the_manifest_and_the_offline_script_and_staff_do_not(app, db, tree, team):
    browser, _leader = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])
    page = parse(browser.get("/visits/new").get_data(as_text=True))
    manifest = next(page.find_all("link", rel="manifest"), None).attrs["href"]
    assert any("js/offline.js" in (s.attrs.get("src") or "") for s in page.find_all("script"))
    assert page.find(id="outbox") is not None
    data = json.loads(browser.get(manifest).get_data(as_text=True))
    assert data["start_url"] == "/visits/new"
    for icon in data["icons"]:
        assert browser.get(icon["src"]).status_code == 200

    staff, _user = sign_in_as(app, "commune", tree.commune)
    page = parse(staff.get("/visits/").get_data(as_text=True))
    assert next(page.find_all("link", rel="manifest"), None) is None
    assert not any("js/offline.js" in (s.attrs.get("src") or "") for s in page.find_all("script"))
