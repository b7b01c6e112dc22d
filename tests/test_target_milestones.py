"""A province's target as milestones (e-wallets: 50% by 2025, 80% by 2030): each month is shown against
the milestone in force at its end, and province staff add and remove milestones one by one."""
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
import time_machine

from app.api.models import issue_token
from app.audit.models import AuditEvent
from app.catalogue.operations import milestone_on
from app.coverage import queries
from app.dates import month_end
from app.reports.summary import build_summary
from app.units import operations as unit_ops
from app.visits.models import Target
from tests.form_versions import post_opened, with_version
from tests.html_tree import parse
from tests.report_data import Activity, forget_signed_in_user
from tests.visits_helpers import sign_in_as


def _save(client, url: str, data: dict):
    """The service's edit form, opened and sent as the staff typed it (with the version it was opened on)."""
    return client.post(url, data=with_version(client, url, data))


def _milestone(share, due):
    return Target(share=Decimal(share), due_on=due)


def test_the_milestone_in_force_is_the_earliest_not_yet_passed_else_the_last():
    by_2025, by_2030 = _milestone("0.5", date(2025, 12, 31)), _milestone("0.8", date(2030, 12, 31))
    both = [by_2030, by_2025]  # in any order
    assert milestone_on(both, date(2024, 10, 31)) is by_2025
    assert milestone_on(both, date(2025, 12, 31)) is by_2025  # due that day: still the bar
    assert milestone_on(both, date(2026, 1, 31)) is by_2030
    assert milestone_on(both, date(2030, 12, 31)) is by_2030
    assert milestone_on(both, date(2031, 1, 31)) is by_2030  # all passed: the last one stands
    assert milestone_on([by_2025], date(2026, 11, 30)) is by_2025
    assert milestone_on([], date(2026, 11, 30)) is None


def _two_milestones(db, tree):
    """The report world (e-wallets: 50% by 31/12/2025) with a second milestone, 80% by 31/12/2030."""
    activity = Activity(tree)
    db.session.add(Target(service_id=activity.wallet.id, province_id=tree.province.id, share=Decimal("0.8"),
                          due_on=date(2030, 12, 31)))
    db.session.commit()
    return activity


def test_each_month_is_shown_against_the_milestone_in_force_at_its_end(app, db, tree, client, login_as):
    _two_milestones(db, tree)

    def wallet_target(year, month):
        f = queries.coverage(tree.commune, month_end(year, month)).total.services["e_wallet"]
        return f.target_share, f.target_date

    assert wallet_target(2024, 10) == (0.5, date(2025, 12, 31))
    assert wallet_target(2025, 12) == (0.5, date(2025, 12, 31))
    assert wallet_target(2026, 1) == (0.8, date(2030, 12, 31))
    # The trend: each of its months against its own milestone.
    series = queries.monthly_series(tree.commune, [(2025, 11), (2025, 12), (2026, 1), (2026, 2)])
    assert [m.row.services["e_wallet"].target_share for m in series] == [0.5, 0.5, 0.8, 0.8]
    # The monthly report and its export.
    assert build_summary(tree.province, 2025, 12).services[0]["target_share"] == 0.5
    assert build_summary(tree.province, 2026, 1).services[0]["target_share"] == 0.8
    # The coverage page a district officer opens.
    login_as("district", tree.district)
    for month, shown, not_shown in (("2025-12", "31/12/2025", "31/12/2030"), ("2026-01", "31/12/2030", "31/12/2025")):
        html = client.get(f"/coverage/{tree.commune.id}?month={month}&service=e_wallet").get_data(as_text=True)
        assert shown in html and not_shown not in html, month


def test_the_api_gives_the_month_its_milestone(app, db, tree, client, login_as):
    _two_milestones(db, tree)
    user = login_as("province", tree.province, username="ttdh")
    _token, secret = issue_token(user, label="test")
    db.session.commit()

    def wallet(month):
        body = client.get(f"/api/v1/coverage?unit=93&month={month}", headers={"Authorization": f"Bearer {secret}"}).json
        return next(s["target"] for s in body["services"] if s["code"] == "e_wallet")

    assert wallet("2025-06") == {"share": 0.5, "date": "2025-12-31"}
    assert wallet("2026-06") == {"share": 0.8, "date": "2030-12-31"}


def test_province_staff_add_change_and_remove_milestones(app, db, tree):
    activity = Activity(tree)  # 50% by 31/12/2025
    wallet = activity.wallet
    staff, _user = sign_in_as(app, "province", tree.province)
    # The form opens on the milestone in force today: the only one, passed or not.
    form = parse(staff.get(f"/services/{wallet.id}/edit").get_data(as_text=True))
    assert form.find(id="due_on").attrs["value"] == "2025-12-31"
    base = {"name_vi": wallet.name_vi, "name_en": wallet.name_en, "active": "y"}
    for share, due in (("80", "2030-12-31"), ("65", "2025-12-31")):  # a new date, then the same date
        resp = _save(staff, f"/services/{wallet.id}/edit", {**base, "share": share, "due_on": due})
        assert resp.status_code == 303

    def milestones():
        db.session.expire_all()
        return [(t.share, t.due_on) for t in db.session.scalars(
            sa.select(Target).where(Target.service_id == wallet.id).order_by(Target.due_on))]

    assert milestones() == [(Decimal("0.65"), date(2025, 12, 31)), (Decimal("0.8"), date(2030, 12, 31))]
    listing = staff.get("/services/").get_data(as_text=True)
    row = parse(listing).find(**{"data-code": "e_wallet"}).text()
    assert "65% · 31/12/2025" in row and "80% · 31/12/2030" in row
    page = parse(staff.get(f"/services/{wallet.id}/edit").get_data(as_text=True))
    items = [li.text() for li in page.find(**{"class": "milestones"}).find_all("li")]
    assert len(items) == 2 and "Đang áp dụng" not in items[0] and "Đang áp dụng" in items[1]
    # Removing the 2030 one by its button leaves the 2025 one.
    later = db.session.scalar(sa.select(Target.id).where(Target.due_on == date(2030, 12, 31)))
    resp = staff.post(f"/services/{wallet.id}/targets/{later}/remove")
    assert resp.status_code == 303
    page = staff.get(resp.headers["Location"])
    assert page.status_code == 200 and "Đã xóa mốc chỉ tiêu 80% đến 31/12/2030." in page.get_data(as_text=True)
    assert milestones() == [(Decimal("0.65"), date(2025, 12, 31))]
    # The button sent again (a double tap, the back button): the page says it is gone, nothing else changes.
    again = staff.post(f"/services/{wallet.id}/targets/{later}/remove")
    assert again.status_code == 303 and again.headers["Location"] == resp.headers["Location"]
    assert "Mốc chỉ tiêu này đã được xóa." in staff.get(again.headers["Location"]).get_data(as_text=True)
    assert milestones() == [(Decimal("0.65"), date(2025, 12, 31))]
    # Another milestone of the same service is still removed by its own button.
    earlier = db.session.scalar(sa.select(Target.id).where(Target.due_on == date(2025, 12, 31)))
    page = staff.post(f"/services/{wallet.id}/targets/{earlier}/remove", follow_redirects=True)
    assert "Đã xóa mốc chỉ tiêu 65% đến 31/12/2025." in page.get_data(as_text=True)
    assert milestones() == []
    trail = [{k: (b, a) for k, b, a in e.change_items} for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "set_target").order_by(AuditEvent.id))]
    assert trail == [
        {"share": (None, "0.8000"), "due_on": (None, "2030-12-31")},  # added
        {"share": ("0.5000", "0.6500")},  # changed, same date
        {"share": ("0.8000", None), "due_on": ("2030-12-31", None)},  # removed
        {"share": ("0.6500", None), "due_on": ("2025-12-31", None)},  # removed
    ]


def _form_fields(html: str, field: str = "name_vi") -> dict:
    """What the edit page's form (the one with `field`) sends as it stands: its inputs' values, the hidden ones
    included."""
    form = next(f for f in parse(html).find_all("form") if f.find(name=field) is not None)
    fields = {}
    for e in form.find_all("input"):
        if e.attrs.get("type") == "checkbox":
            if "checked" in e.attrs:
                fields[e.attrs["name"]] = e.attrs.get("value", "y")
        elif e.attrs.get("name"):
            fields[e.attrs["name"]] = e.attrs.get("value") or ""
    return fields


def _send(staff, url, page, field="name_vi", **typed):
    """The form of `page` sent with what the staff typed over it."""
    return staff.post(url, data={**_form_fields(page.get_data(as_text=True), field), **typed})


def _wallet_milestones(db, wallet):
    db.session.expire_all()
    return [(t.share, t.due_on) for t in db.session.scalars(
        sa.select(Target).where(Target.service_id == wallet.id).order_by(Target.due_on))]


def test_a_milestone_s_new_date_moves_it_and_another_milestone_is_added_by_its_own_link(app, db, tree):
    """The form shows the milestone in force (80% by 31/12/2030) as fields to change: a new date moves it, it
    does not add a second one. Each milestone of the list opens by its Edit link; "Add a milestone" opens
    empty fields; two milestones never share a day."""
    activity = _two_milestones(db, tree)  # 50% by 31/12/2025, 80% by 31/12/2030
    wallet = activity.wallet
    url = f"/services/{wallet.id}/edit"
    with time_machine.travel(datetime(2026, 3, 1, 3, tzinfo=UTC), tick=False):
        staff, _user = sign_in_as(app, "province", tree.province)
        page = staff.get(url)
        html = " ".join(page.get_data(as_text=True).split())
        assert "Đang sửa mốc 80% đến 31/12/2030" in html
        assert _send(staff, url, page, due_on="2030-06-30").status_code == 303
        assert _wallet_milestones(db, wallet) == [(Decimal("0.5"), date(2025, 12, 31)),
                                                  (Decimal("0.8"), date(2030, 6, 30))]
        # The 2025 milestone by its own Edit link: its share changed in place.
        page = parse(staff.get(url).get_data(as_text=True))
        edit = [a for a in page.find(**{"class": "milestones"}).find_all("a") if "31/12/2025" in a.attrs["aria-label"]]
        page = staff.get(edit[0].attrs["href"])
        assert parse(page.get_data(as_text=True)).find(id="due_on").attrs["value"] == "2025-12-31"
        assert _send(staff, url, page, share="55").status_code == 303
        assert _wallet_milestones(db, wallet) == [(Decimal("0.55"), date(2025, 12, 31)),
                                                  (Decimal("0.8"), date(2030, 6, 30))]
        # Moved onto the other milestone's day: refused beside the date, the date typed kept, nothing changed.
        page = staff.get(url)
        refused = _send(staff, url, page, due_on="2025-12-31")
        assert refused.status_code == 400
        form = parse(refused.get_data(as_text=True))
        assert "Đã có mốc ngày 31/12/2025 (55%)" in form.find(id="due_on-error").text()
        assert form.find(id="due_on").attrs["value"] == "2025-12-31"
        assert len(_wallet_milestones(db, wallet)) == 2
        # A third milestone by "Add a milestone": empty fields, added beside the others.
        add = [a for a in parse(page.get_data(as_text=True)).find_all("a") if a.text() == "Thêm mốc"][0]
        page = staff.get(add.attrs["href"])
        form = parse(page.get_data(as_text=True))
        assert form.find(id="share").attrs.get("value", "") == "" and "Mốc mới" in page.get_data(as_text=True)
        refused = _send(staff, url, page, share="70", due_on="2030-06-30")  # a day that has one
        assert refused.status_code == 400 and "Đã có mốc ngày 30/06/2030" in refused.get_data(as_text=True)
        assert _send(staff, url, page, share="95", due_on="2035-12-31").status_code == 303
        assert [d for _s, d in _wallet_milestones(db, wallet)] == [date(2025, 12, 31), date(2030, 6, 30),
                                                                   date(2035, 12, 31)]
        # An empty share removes the milestone the form shows (the one in force: 30/06/2030).
        assert _send(staff, url, staff.get(url), share="").status_code == 303
        assert [d for _s, d in _wallet_milestones(db, wallet)] == [date(2025, 12, 31), date(2035, 12, 31)]


def test_a_milestone_dated_in_the_past_is_asked_about_and_saved_when_sent_again(app, db, tree):
    """A new milestone is a date to come; one already past is a slip of the year, or history (the months
    before it are shown against it): asked about first (409, beside the date), saved when sent again."""
    activity = _two_milestones(db, tree)
    wallet = activity.wallet
    url = f"/services/{wallet.id}/edit"
    with time_machine.travel(datetime(2026, 3, 1, 3, tzinfo=UTC), tick=False):
        staff, _user = sign_in_as(app, "province", tree.province)
        page = staff.get(url + "?milestone=new")
        asked = _send(staff, url, page, share="60", due_on="2026-01-31")
        assert asked.status_code == 409
        form = parse(asked.get_data(as_text=True))
        assert "Ngày 31/01/2026 đã qua" in form.find(id="due_on-error").text()
        assert form.find(id="share").attrs["value"] == "60" and form.find(id="due_on").attrs["value"] == "2026-01-31"
        assert len(_wallet_milestones(db, wallet)) == 2
        # Another past date is asked about again; the one asked about, sent again, is saved.
        again = _send(staff, url, asked, due_on="2026-02-28")
        assert again.status_code == 409 and len(_wallet_milestones(db, wallet)) == 2
        assert _send(staff, url, again).status_code == 303
        assert (Decimal("0.6"), date(2026, 2, 28)) in _wallet_milestones(db, wallet)
        # Moving a milestone to a past date is asked about too; a past milestone's share changed is not.
        assert _send(staff, url, staff.get(url), due_on="2026-02-01").status_code == 409  # 80% by 2030
        page = staff.get(url + f"?milestone={db.session.scalar(sa.select(Target.id).where(Target.share == 0.5))}")
        assert _send(staff, url, page, share="52").status_code == 303
        assert (Decimal("0.52"), date(2025, 12, 31)) in _wallet_milestones(db, wallet)
        # Today is not past.
        assert _send(staff, url, staff.get(url + "?milestone=new"), share="65", due_on="2026-03-01").status_code == 303


def test_a_target_of_80_5_percent_is_shown_as_typed_wherever_targets_are_shown(app, db, tree):
    """80,5 % typed is 80,5 %, not "80%", in the catalogue, the edit page, the coverage page, the team's
    page and the report; 80 % stays "80%", hundredths stay (44,75 %)."""
    activity = Activity(tree)  # e-wallets: 50% by 31/12/2025
    wallet = activity.wallet
    target = db.session.scalar(sa.select(Target).where(Target.service_id == wallet.id))
    target.share = Decimal("0.805")
    db.session.add(Target(service_id=activity.vneid.id, province_id=tree.province.id, share=Decimal("0.4475"),
                          due_on=date(2025, 12, 31)))
    db.session.commit()
    staff, _user = sign_in_as(app, "province", tree.province)
    row = parse(staff.get("/services/").get_data(as_text=True)).find(**{"data-code": "e_wallet"}).text()
    assert "80,5% · 31/12/2025" in row
    row = parse(staff.get("/services/").get_data(as_text=True)).find(**{"data-code": "vneid"}).text()
    assert "44,75% · 31/12/2025" in row
    page = " ".join(staff.get(f"/services/{wallet.id}/edit").get_data(as_text=True).split())
    assert "80,5% đến 31/12/2025" in page
    html = " ".join(staff.get(f"/coverage/{tree.commune.id}?month=2024-10&service=e_wallet")
                    .get_data(as_text=True).split())
    assert "Chỉ tiêu của tỉnh: 80,5% đến 31/12/2025" in html and "80%" not in html
    forget_signed_in_user()
    leader, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    html = leader.get("/coverage/team?month=2024-10").get_data(as_text=True)
    assert "chỉ tiêu 80,5%" in html and "chỉ tiêu 44,75%" in html
    target.share = Decimal("0.8")
    db.session.commit()
    html = leader.get("/coverage/team?month=2024-10").get_data(as_text=True)
    assert "chỉ tiêu 80%" in html and "chỉ tiêu 80,0%" not in html


def test_target_percent_writes_only_the_decimals_typed():
    from app.templating import target_percent
    for share, vi, en in ((Decimal("0.805"), "80,5%", "80.5%"), (Decimal("0.8000"), "80%", "80%"),
                          (0.4475, "44,75%", "44.75%"), (Decimal("0.0001"), "0,01%", "0.01%"),
                          (Decimal("1"), "100%", "100%"), (None, "–", "–")):
        assert (target_percent(share, "vi"), target_percent(share, "en")) == (vi, en), share


def test_a_milestone_is_removed_only_by_its_own_province_staff(app, db, tree):
    activity = _two_milestones(db, tree)
    later = db.session.scalar(sa.select(Target).where(Target.due_on == date(2030, 12, 31)))
    url = f"/services/{activity.wallet.id}/targets/{later.id}/remove"
    leader, _user = sign_in_as(app, "team_leader", tree.commune, activity.team)
    assert leader.post(url).status_code == 403
    forget_signed_in_user()
    district, _user = sign_in_as(app, "district", tree.district)
    assert district.post(url).status_code == 403
    forget_signed_in_user()
    staff, _user = sign_in_as(app, "province", tree.province)
    assert staff.post(f"/services/{activity.wallet.id + 1}/targets/{later.id}/remove").status_code == 404
    assert staff.post(f"/services/{activity.wallet.id}/targets/{later.id + 99}/remove").status_code == 404
    forget_signed_in_user()
    elsewhere, _user = sign_in_as(app, "province", unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, code="94"))
    assert elsewhere.post(url).status_code == 404
    assert db.session.get(Target, later.id) is not None
    # Once their own staff removed it, the others are still told nothing: not found.
    forget_signed_in_user()
    staff, _user = sign_in_as(app, "province", tree.province)
    assert staff.post(url).status_code == 303 and staff.post(url).status_code == 303
    forget_signed_in_user()
    elsewhere, _user = sign_in_as(app, "province", unit_ops.create_unit("Tỉnh Bạc Liêu", "province", None, code="95"))
    assert elsewhere.post(url).status_code == 404


# --- The adult indicators' targets: the same milestones --------------------------------------------

def test_adult_targets_are_milestones_too(app, db, tree, client, login_as):
    from app.coverage import adults
    from app.coverage.models import AdultTarget
    from tests import adult_world
    adult_world.build(tree)  # March 2026's classes
    login_as("province", tree.province)
    # Named learners: 80% by 31/12/2025, then 100% by 31/12/2026 (Hồ Chí Minh City's VNeID targets).
    # The first saved twice (unchanged: one entry in the trail), then changed at the same date.
    for share, due in (("70", "2025-12-31"), ("70", "2025-12-31"), ("80", "2025-12-31"), ("100", "2026-12-31")):
        resp = post_opened(client, "/coverage/adult-targets", {"named_share": share, "named_due_on": due,
                                                             "named_confirm_date": due,  # past: asked, confirmed
                                                             "online_share": "", "online_due_on": ""})
        assert resp.status_code == 303

    def named_target(year, month):
        t = adults.adult_table(tree.commune, [], year, month, []).named_target
        return (float(t.share), t.due_on) if t else None

    assert named_target(2025, 11) == (0.8, date(2025, 12, 31))
    assert named_target(2026, 3) == (1.0, date(2026, 12, 31))
    assert build_summary(tree.province, 2025, 12).adult_targets["named_share"]["share"] == 0.8
    assert build_summary(tree.province, 2026, 3).adult_targets["named_share"]["share"] == 1.0
    section = client.get(f"/coverage/{tree.commune.id}/adults?month=2026-03", headers={"HX-Request": "true"})
    assert "100%" in section.get_data(as_text=True) and "31/12/2026" in section.get_data(as_text=True)
    # The page lists both, the one in force today marked; removing one by its button leaves the other.
    page = parse(client.get("/coverage/adult-targets").get_data(as_text=True))
    items = [li.text() for li in page.find(**{"class": "milestones"}).find_all("li")]
    assert [" ".join(i.split()) for i in items] == ["80% đến 31/12/2025 Sửa Xóa",
                                                    "100% đến 31/12/2026 Đang áp dụng Sửa Xóa"]
    first = db.session.scalar(sa.select(AdultTarget.id).where(AdultTarget.due_on == date(2025, 12, 31)))
    resp = client.post(f"/coverage/adult-targets/{first}/remove")
    assert resp.status_code == 303
    assert "Đã xóa mốc chỉ tiêu 80% đến 31/12/2025." in client.get(resp.headers["Location"]).get_data(as_text=True)
    again = client.post(f"/coverage/adult-targets/{first}/remove")  # sent again: gone, and said so
    assert again.status_code == 303 and again.headers["Location"] == resp.headers["Location"]
    assert "Mốc chỉ tiêu này đã được xóa." in client.get(again.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert [(float(t.share), t.due_on) for t in db.session.scalars(sa.select(AdultTarget))] == [
        (1.0, date(2026, 12, 31))]
    # An empty share with a milestone's date removes it, as the page says.
    resp = post_opened(client, "/coverage/adult-targets", {"named_share": "", "named_due_on": "2026-12-31",
                                                         "online_share": "", "online_due_on": ""})
    assert resp.status_code == 303 and db.session.scalar(sa.select(sa.func.count()).select_from(AdultTarget)) == 0
    trail = [{k: (b, a) for k, b, a in e.change_items} for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "set_adult_target").order_by(AuditEvent.id))]
    assert [t["share"] for t in trail] == [(None, 0.7), (0.7, 0.8), (None, 1.0), (0.8, None), (1.0, None)]


def _adult_milestones(db, province):
    """Named learners' 50% by 31/12/2025 and 80% by 31/12/2030, online dossiers' 60% by 30/06/2027."""
    from app.coverage.models import AdultTarget
    for indicator, share, due in (("named_share", "0.5", date(2025, 12, 31)),
                                  ("named_share", "0.8", date(2030, 12, 31)),
                                  ("online_share", "0.6", date(2027, 6, 30))):
        db.session.add(AdultTarget(province_id=province.id, indicator=indicator, share=Decimal(share), due_on=due))
    db.session.commit()


def _adult_targets_now(db):
    from app.coverage.models import AdultTarget
    db.session.expire_all()
    out = {}
    for t in db.session.scalars(sa.select(AdultTarget).order_by(AdultTarget.due_on)):
        out.setdefault(t.indicator, []).append((t.share, t.due_on))
    return out


def _send_targets(staff, page, **typed):
    return _send(staff, "/coverage/adult-targets", page, field="named_share", **typed)


def test_an_adult_milestone_s_new_date_moves_it_and_another_is_added_by_its_own_link(app, db, tree):
    """As a service's target: each indicator's fields show the milestone in force (named learners: 80% by
    31/12/2030), a new date moves it; a milestone of the list opens by its Edit link, "Add a milestone" opens
    empty fields, two milestones of an indicator never share a day; the other indicator's stays as it was."""
    _adult_milestones(db, tree.province)
    url = "/coverage/adult-targets"
    online = [(Decimal("0.6"), date(2027, 6, 30))]
    with time_machine.travel(datetime(2026, 3, 1, 3, tzinfo=UTC), tick=False):
        staff, _user = sign_in_as(app, "province", tree.province)
        page = staff.get(url)
        html = " ".join(page.get_data(as_text=True).split())
        assert "Đang sửa mốc 80% đến 31/12/2030" in html and "Đang sửa mốc 60% đến 30/06/2027" in html
        assert _send_targets(staff, page, named_due_on="2030-06-30").status_code == 303
        assert _adult_targets_now(db) == {"named_share": [(Decimal("0.5"), date(2025, 12, 31)),
                                                          (Decimal("0.8"), date(2030, 6, 30))], "online_share": online}
        # The 2025 milestone by its own Edit link: its share changed in place.
        page = parse(staff.get(url).get_data(as_text=True))
        edit = [a for a in page.find(**{"class": "milestones"}).find_all("a") if "31/12/2025" in a.attrs["aria-label"]]
        assert edit[0].attrs["href"].endswith("#named_share-target")
        page = staff.get(edit[0].attrs["href"])
        form = parse(page.get_data(as_text=True))
        assert form.find(id="named_due_on").attrs["value"] == "2025-12-31"
        assert form.find(id="online_due_on").attrs["value"] == "2027-06-30"
        assert _send_targets(staff, page, named_share="55").status_code == 303
        assert _adult_targets_now(db) == {"named_share": [(Decimal("0.55"), date(2025, 12, 31)),
                                                          (Decimal("0.8"), date(2030, 6, 30))], "online_share": online}
        # Moved onto the other milestone's day: refused beside the date, the date typed kept, nothing changed.
        page = staff.get(url)
        refused = _send_targets(staff, page, named_due_on="2025-12-31")
        assert refused.status_code == 400
        form = parse(refused.get_data(as_text=True))
        assert "Đã có mốc ngày 31/12/2025 (55%)" in form.find(id="named_due_on-error").text()
        assert form.find(id="named_due_on").attrs["value"] == "2025-12-31"
        assert len(_adult_targets_now(db)["named_share"]) == 2
        # A third milestone by the named learners' "Add a milestone": empty fields, added beside the others.
        adds = [a for a in parse(page.get_data(as_text=True)).find_all("a") if a.text() == "Thêm mốc"]
        assert [a.attrs["aria-describedby"] for a in adds] == ["named_share-milestones", "online_share-milestones"]
        page = staff.get(adds[0].attrs["href"])
        form = parse(page.get_data(as_text=True))
        assert form.find(id="named_share").attrs.get("value", "") == "" and "Mốc mới" in page.get_data(as_text=True)
        refused = _send_targets(staff, page, named_share="70", named_due_on="2030-06-30")  # a day that has one
        assert refused.status_code == 400 and "Đã có mốc ngày 30/06/2030" in refused.get_data(as_text=True)
        assert _send_targets(staff, page, named_share="95", named_due_on="2035-12-31").status_code == 303
        assert [d for _s, d in _adult_targets_now(db)["named_share"]] == [date(2025, 12, 31), date(2030, 6, 30),
                                                                          date(2035, 12, 31)]
        # An empty share removes the milestone the fields show (the one in force: 30/06/2030).
        assert _send_targets(staff, staff.get(url), named_share="").status_code == 303
        assert [d for _s, d in _adult_targets_now(db)["named_share"]] == [date(2025, 12, 31), date(2035, 12, 31)]
        assert _adult_targets_now(db)["online_share"] == online
        # A form of before (no milestone fields): the date names the milestone, another date adds one.
        old = {"online_share": "", "online_due_on": ""}
        assert post_opened(staff, url, {**old, "named_share": "96", "named_due_on": "2035-12-31"}).status_code == 303
        assert post_opened(staff, url, {**old, "named_share": "99", "named_due_on": "2040-12-31"}).status_code == 303
        assert _adult_targets_now(db)["named_share"] == [(Decimal("0.55"), date(2025, 12, 31)),
                                                         (Decimal("0.96"), date(2035, 12, 31)),
                                                         (Decimal("0.99"), date(2040, 12, 31))]


def test_an_adult_milestone_dated_in_the_past_is_asked_about_and_saved_when_sent_again(app, db, tree):
    """A new milestone of an adult target dated already past is asked about first (409, beside its date, what
    was typed kept), and saved when sent again; moving one to a past date too; a past one's share is not."""
    _adult_milestones(db, tree.province)
    url = "/coverage/adult-targets"
    with time_machine.travel(datetime(2026, 3, 1, 3, tzinfo=UTC), tick=False):
        staff, _user = sign_in_as(app, "province", tree.province)
        page = staff.get(url + "?online_milestone=new")
        asked = _send_targets(staff, page, online_share="40", online_due_on="2026-01-31")
        assert asked.status_code == 409
        form = parse(asked.get_data(as_text=True))
        assert "Ngày 31/01/2026 đã qua" in form.find(id="online_due_on-error").text()
        assert form.find(id="named_due_on-error") is None
        assert form.find(id="online_share").attrs["value"] == "40"
        assert form.find(id="online_due_on").attrs["value"] == "2026-01-31"
        assert len(_adult_targets_now(db)["online_share"]) == 1
        # Another past date is asked about again; the one asked about, sent again, is saved.
        again = _send_targets(staff, asked, online_due_on="2026-02-28")
        assert again.status_code == 409 and len(_adult_targets_now(db)["online_share"]) == 1
        assert _send_targets(staff, again).status_code == 303
        assert _adult_targets_now(db)["online_share"] == [(Decimal("0.4"), date(2026, 2, 28)),
                                                          (Decimal("0.6"), date(2027, 6, 30))]
        # Moving a milestone to a past date is asked about too; a past milestone's share changed is not.
        assert _send_targets(staff, staff.get(url), named_due_on="2026-02-01").status_code == 409
        page = staff.get(url + "?named_milestone=" + str(_adult_target_id(db, date(2025, 12, 31))))
        assert _send_targets(staff, page, named_share="52").status_code == 303
        assert (Decimal("0.52"), date(2025, 12, 31)) in _adult_targets_now(db)["named_share"]


def _adult_target_id(db, due):
    from app.coverage.models import AdultTarget
    return db.session.scalar(sa.select(AdultTarget.id).where(AdultTarget.due_on == due))


def test_the_adult_section_shows_each_target_under_its_own_share(app, db, tree, client, login_as):
    """The adult table's "Province target" row: the named learners' target under their share of adults,
    the online dossiers' under their share of dossiers, nothing under the month's dossiers (no target)."""
    from tests import adult_world
    adult_world.build(tree)
    login_as("province", tree.province)
    resp = post_opened(client, "/coverage/adult-targets", {"named_share": "80", "named_due_on": "2026-12-31",
                                                         "online_share": "60", "online_due_on": "2027-06-30"})
    assert resp.status_code == 303
    section = client.get(f"/coverage/{tree.commune.id}/adults?month=2026-03", headers={"HX-Request": "true"})
    row = parse(section.get_data(as_text=True)).find(**{"class": "targets"})
    cells = {td.attrs["data-label"]: " ".join(td.text().split()) for td in row.find_all("td")}
    assert cells == {"Tỷ lệ trên người trưởng thành": "80% đến 31/12/2026", "Hồ sơ trực tuyến (tháng)": "",
                     "Tỷ lệ trên tổng hồ sơ": "60% đến 30/06/2027"}


def test_an_adult_milestone_is_removed_only_by_its_own_province_staff(app, db, tree):
    from app.coverage.models import AdultTarget
    target = AdultTarget(province_id=tree.province.id, indicator="online_share", share=Decimal("0.8"),
                         due_on=date(2026, 12, 31))
    db.session.add(target)
    db.session.commit()
    url = f"/coverage/adult-targets/{target.id}/remove"
    district, _user = sign_in_as(app, "district", tree.district)
    assert district.post(url).status_code == 403
    forget_signed_in_user()
    elsewhere, _user = sign_in_as(app, "province", unit_ops.create_unit("Tỉnh Sóc Trăng", "province", None, code="94"))
    assert elsewhere.post(url).status_code == 404
    assert elsewhere.post(f"/coverage/adult-targets/{target.id + 99}/remove").status_code == 404
    assert db.session.get(AdultTarget, target.id) is not None


def test_the_coverage_pages_follow_the_targets_and_services_after_every_change(app, db, tree):
    # Workers keep the province's milestones and the active services between pages (under the targets
    # and catalogue tokens): each change below, through the app or by hand in SQL, shows on the next page.
    activity = Activity(tree)  # e-wallets: 50% by 31/12/2025
    wallet = activity.wallet
    officer, _user = sign_in_as(app, "district", tree.district)
    staff, _staff = sign_in_as(app, "province", tree.province)

    def page(month="2026-01"):
        return officer.get(f"/coverage/{tree.commune.id}?month={month}&service=e_wallet").get_data(as_text=True)

    def trend():
        return officer.get(f"/coverage/{tree.commune.id}/trend?month=2026-01",
                           headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "31/12/2025" in page()
    base = {"name_vi": wallet.name_vi, "name_en": wallet.name_en, "active": "y"}
    resp = _save(staff, f"/services/{wallet.id}/edit", {**base, "share": "80", "due_on": "2030-12-31"})
    assert resp.status_code == 303
    assert "31/12/2030" in page() and "31/12/2025" in page("2025-12")
    db.session.execute(sa.text("UPDATE targets SET due_on = :d WHERE due_on = :was"),
                       {"d": date(2029, 6, 30), "was": date(2030, 12, 31)})
    db.session.commit()
    assert "30/06/2029" in page() and "31/12/2030" not in page()
    # Another province's milestone is not this one's.
    other = unit_ops.create_unit("Tỉnh Khác", "province", None, code="96")
    db.session.add(Target(service_id=wallet.id, province_id=other.id, share=Decimal("0.9"), due_on=date(2027, 3, 31)))
    db.session.commit()
    assert "31/03/2027" not in page() and "30/06/2029" in page()
    db.session.execute(sa.text("DELETE FROM targets WHERE province_id = :p"), {"p": tree.province.id})
    db.session.commit()
    assert "30/06/2029" not in page() and "31/12/2025" not in page()
    # The services: renamed by hand, then switched off through the app.
    db.session.execute(sa.text("UPDATE services SET name_vi = 'Ví điện tử VNPT Money' WHERE code = 'e_wallet'"))
    db.session.commit()
    assert "Ví điện tử VNPT Money" in page() and "Ví điện tử VNPT Money" in trend()
    assert _save(staff, f"/services/{wallet.id}/edit",
                 {"name_vi": "Ví điện tử VNPT Money", "name_en": wallet.name_en}).status_code == 303
    assert "Ví điện tử VNPT Money" not in page() and "Ví điện tử VNPT Money" not in trend()
