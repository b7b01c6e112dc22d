"""One visit per visit: parallel reposts with fresh keys, a deleted visit's form replayed, and a
form key reused for other content (a 409 that keeps what the user entered)."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import requests
import sqlalchemy as sa

from app.households.models import Household
from app.visits.models import DeletedVisitKey, Visit
from tests.test_concurrency import _fresh_form, _seed, _sign_in, server  # noqa: F401 (a fixture)
from tests.visits_helpers import form, household, service_id, sign_in_as, visit_count

ON = date(2024, 6, 14)
KEY_IN_PAGE = re.compile(r'name="key"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="key"')


def _page_key(html: str) -> str:
    m = KEY_IN_PAGE.search(html)
    return m.group(1) or m.group(2)


def _send_at_once(base, session, posts):
    start = threading.Barrier(len(posts))

    def send(data):
        s = requests.Session()
        s.cookies.update(session.cookies.get_dict())
        start.wait()
        return s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(pool.map(send, posts))


def test_five_parallel_posts_of_one_visit_with_five_fresh_keys_record_one_visit(app, db, tree, server):  # noqa: F811
    """A back button re-fetched the form five times and each copy was sent at once, through three
    gunicorn workers: the replay rule gives one visit, every post lands on it; the same for a visit
    that adds a new household (one household, one visit)."""
    base, log_path = server
    users, households = _seed(tree)
    username, member_id = users[0]
    s = _sign_in(base, username)
    content = {"household_id": str(households[0]), "visited_on": ON.isoformat(), "members": [str(member_id)],
               "note": "Cài VNeID", "svc-vneid": "adopted", "save": "1"}
    posts = []
    for _ in range(5):
        csrf, key = _fresh_form(s, base)
        posts.append({**content, "csrf_token": csrf, "key": key})
    results = _send_at_once(base, s, posts)
    assert [r.status_code for r in results] == [303] * 5, [r.text[:300] for r in results]
    assert len({r.headers["Location"] for r in results}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1

    new = {"household_id": "new", "new_name": "Đoàn Văn Mới", "new_phone": "0903123456",
           "visited_on": ON.isoformat(), "members": [str(member_id)], "svc-dvc": "guided", "save": "1"}
    posts = []
    for _ in range(5):
        csrf, key = _fresh_form(s, base)
        posts.append({**new, "csrf_token": csrf, "key": key})
    results = _send_at_once(base, s, posts)
    assert [r.status_code for r in results] == [303] * 5, [r.text[:300] for r in results]
    assert len({r.headers["Location"] for r in results}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Household.id)).where(
        Household.head_name == "Đoàn Văn Mới")) == 1
    assert "Traceback" not in log_path.read_text()


@pytest.mark.parametrize("new_household", [False, True], ids=["registered household", "new household"])
def test_replaying_the_form_of_a_deleted_visit_says_so_and_records_nothing(app, db, tree, team, new_household):
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    chosen = {"household_id": "new", "new_name": "Phan Văn Hậu"} if new_household else \
        {"household_id": household(tree.hamlet, "Phan Văn Hậu").id}
    data = form(on=ON, members=[members[0].id], services={"vneid": "guided"}, note="lần đầu", **chosen)
    resp = leader.post("/visits/new", data=data)
    assert resp.status_code == 303
    visit_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    h = db.session.get(Visit, visit_id).household
    assert leader.post(f"/visits/{visit_id}/delete", data={}).status_code == 303
    assert visit_count() == 0

    resp = leader.post("/visits/new", data=data)  # the same form, sent again (a back button, a resend)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "đã bị xóa sau đó" in html and f"/households/{h.id}" in html
    assert visit_count() == 0
    # The input is kept, under a fresh key: saving it again is the user's decision.
    assert "lần đầu</textarea>" in html
    fresh = _page_key(html)
    assert fresh != data["key"]
    assert leader.post("/visits/new", data={**data, "key": fresh}).status_code == 303
    assert visit_count() == 1


def test_the_same_key_with_other_content_answers_409_and_keeps_the_new_input(app, db, tree, team):
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    h = household(tree.hamlet, "Võ Thị Sáu")
    data = form(h.id, on=ON, members=[members[0].id], services={"vneid": "guided"})
    first = leader.post("/visits/new", data=data)
    assert first.status_code == 303
    changed = {**data, "svc-vneid": "adopted", "note": "Chị Sáu đã tự cài được"}
    resp = leader.post("/visits/new", data=changed)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "Biểu mẫu này đã được lưu thành một lượt khác" in html
    assert first.headers["Location"].split("localhost")[-1] in html  # a link to the visit saved first
    assert "Chị Sáu đã tự cài được" in html
    assert re.search(r'name="svc-vneid"[^>]*value="adopted"[^>]*checked'
                     r'|value="adopted"[^>]*name="svc-vneid"[^>]*checked', html)
    db.session.expire_all()
    only = db.session.scalar(sa.select(Visit))
    assert visit_count() == 1 and only.note == ""
    assert {vs.service_id: vs.result for vs in only.services} == {service_id("vneid"): "guided"}
    # The same content again is still the replay it was: the first visit, no message.
    assert leader.post("/visits/new", data=data).status_code == 303
    # Saved under the fresh key the page gives, it is a second visit.
    assert leader.post("/visits/new", data={**changed, "key": _page_key(html)}).status_code == 303
    assert visit_count() == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeletedVisitKey)) == 0


@pytest.mark.parametrize("change", ["household", "date", "members", "service", "result", "note"])
def test_the_same_key_with_any_one_field_changed_answers_409_and_records_nothing(app, db, tree, team, change):
    """Each thing a visit records decides alone whether a form sent again under its key is the same visit."""
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    h, other = household(tree.hamlet, "Võ Thị Sáu"), household(tree.hamlet, "Lê Văn Tám")
    data = form(h.id, on=ON, members=[members[0].id], services={"vneid": "guided"})
    assert leader.post("/visits/new", data=data).status_code == 303
    changed = dict(data)
    if change == "household":
        changed["household_id"] = str(other.id)
    elif change == "date":
        changed["visited_on"] = date(2024, 6, 13).isoformat()
    elif change == "members":
        changed["members"] = [str(members[0].id), str(members[1].id)]
    elif change == "service":
        changed["svc-dvc"] = "guided"
    elif change == "result":
        changed["svc-vneid"] = "adopted"
    else:
        changed["note"] = "Hẹn quay lại"
    assert leader.post("/visits/new", data=changed).status_code == 409, change
    assert visit_count() == 1


def test_the_same_visit_logged_by_two_members_on_their_own_phones_is_two_visits(app, db, tree, team):
    """A repost with a fresh key is a replay only when the same person sent it: a teammate who logs the same
    household, day and services a minute later logs a visit of their own."""
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    member, _member_user = sign_in_as(app, "team_member", tree.commune, t, members[1])
    h = household(tree.hamlet, "Võ Thị Sáu")
    same = {"on": ON, "members": [members[0].id, members[1].id], "services": {"vneid": "guided"}}
    assert leader.post("/visits/new", data=form(h.id, **same)).status_code == 303
    assert member.post("/visits/new", data=form(h.id, **same)).status_code == 303
    assert visit_count() == 2
    assert leader.post("/visits/new", data=form(h.id, **same)).status_code == 303  # the leader's back button
    assert visit_count() == 2


def test_the_same_key_with_another_new_household_answers_409_and_adds_no_household(app, db, tree, team):
    # The first post added "Đặng Văn Tám" with its visit; the same form key now names another new household.
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    data = form(on=ON, members=[members[0].id], services={"vneid": "guided"}, household_id="new",
                new_name="Đặng Văn Tám")
    assert leader.post("/visits/new", data=data).status_code == 303
    resp = leader.post("/visits/new", data={**data, "new_name": "Đặng Thị Chín"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "Biểu mẫu này đã được lưu thành một lượt khác" in html
    assert 'value="Đặng Thị Chín"' in html
    db.session.expire_all()
    assert visit_count() == 1
    assert db.session.scalars(sa.select(Household.head_name)).all() == ["Đặng Văn Tám"]



def test_a_saved_form_sent_again_with_its_household_cleared_is_told_its_key_was_used(app, db, tree, team):
    """Back on a saved form, the household taken off and sent again: nothing saved, a 409 with the input and
    the key-used notice, never a 500."""
    t, members = team
    leader, _user = sign_in_as(app, "team_leader", tree.commune, t, members[0])
    h = household(tree.hamlet, "Võ Thị Sáu")
    data = form(h.id, on=ON, members=[members[0].id], services={"vneid": "guided"})
    assert leader.post("/visits/new", data=data).status_code == 303
    resp = leader.post("/visits/new", data={**data, "household_id": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409, html[:2000]
    assert "Biểu mẫu này đã được lưu thành một lượt khác" in html
    assert visit_count() == 1
