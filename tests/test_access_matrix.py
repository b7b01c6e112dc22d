"""The access matrix: every route × role × (inside / outside the user's area) → allowed or refused.

The table below is the declared policy. `test_every_route_is_declared` walks `app.url_map`, so a
new route without an entry fails the suite, and so does a second URL rule on an endpoint that its
entry does not declare. For each entry and each of its URL rules, one signed-in user of each role
asks for a record inside their own area and for the nearest records outside it (a team's sibling
team of the same commune, the next district, the next province: tests/access_world.py):
  - a refused request answers 403 or 404 and leaves every row of every table as it was;
  - an allowed request gets through the access checks (no 401/403/404, no 500), and its answer
    shows no name, address or phone of any area outside the user's (lists and details alike);
  - a route that lists records ("filtered") may answer an outside request, but shows nothing of it;
  - anonymous visitors are sent to the sign-in page (401 on the API), except on public routes.
An allowed state-changing request is sent against fresh records of its own, since it may change
or delete the record the next role would ask for.
"""
from dataclasses import dataclass, field

import pytest
from flask import url_for

from tests.access_world import ROLES, World, fingerprint

ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "province", "district", "commune"})
FIELD = frozenset({"team_leader", "team_member"})
PROVINCE = frozenset({"admin", "province"})
OFFICER = frozenset({"admin", "commune"})
PUBLIC = "public"


@dataclass(frozen=True)
class Entry:
    allowed: frozenset | str          # roles that may use the route inside their area, or PUBLIC
    path: dict = field(default_factory=dict)   # URL argument → kind of record (see Area.ids)
    query: dict = field(default_factory=dict)  # query argument → kind of record, or a literal
    # "refused": a record outside the area is 403/404. "filtered": the route lists records; it may
    # answer but must show nothing of the outside area. "none": the route takes no record.
    outside: str = "refused"
    token: bool = False               # the API: a bearer token of the role's user, not the session
    signs_out: bool = False
    rules: tuple = ()                 # every URL rule of the endpoint, when it has more than one


KINDS = {"commune", "hamlet", "team", "member", "household", "visit", "closure", "token", "commune_code",
         "account", "class", "shift", "province", "area", "target", "adult_target"}
Q = {"q": "Lê Văn Hùng"}

MATRIX: dict[tuple[str, str], Entry] = {
    # Public: sign-in, language, static files, the API's description.
    ("auth.login", "GET"): Entry(PUBLIC, outside="none"),
    ("auth.login", "POST"): Entry(PUBLIC, outside="none"),
    ("main.set_language", "POST"): Entry(PUBLIC, outside="none"),
    ("static", "GET"): Entry(PUBLIC, query={"filename": "css/app.css"}, outside="none"),
    ("api.openapi", "GET"): Entry(PUBLIC, outside="none"),
    ("main.service_worker", "GET"): Entry(PUBLIC, outside="none"),
    # Everyone signed in.
    ("main.index", "GET"): Entry(ALL, outside="none"),
    ("auth.logout", "POST"): Entry(ALL, outside="none", signs_out=True),
    ("auth.change_password", "GET"): Entry(ALL, outside="none"),
    ("auth.change_password", "POST"): Entry(ALL, outside="none"),
    # The administrative tree: everyone reads their area; commune officers shape their hamlets;
    # staff set household counts in their subtree.
    ("units.show", "GET"): Entry(ALL, {"unit_id": "commune"}),
    ("units.add_hamlet", "POST"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.import_hamlets", "GET"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.import_hamlets", "POST"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.confirm_import", "POST"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.rename", "GET"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.rename", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.retire", "GET"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.retire", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.restore", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.delete", "GET"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.delete", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.merge", "GET"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.merge", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.split", "GET"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.split", "POST"): Entry(OFFICER, {"unit_id": "hamlet"}),
    ("units.set_households", "POST"): Entry(STAFF, {"unit_id": "hamlet"}),
    ("units.set_adults", "POST"): Entry(STAFF, {"unit_id": "hamlet"}),
    ("units.import_adults", "GET"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.import_adults", "POST"): Entry(OFFICER, {"unit_id": "commune"}),
    ("units.confirm_adults", "POST"): Entry(OFFICER, {"unit_id": "commune"}),
    # Province staff reorganize their own province (a plan, previewed, then confirmed).
    ("units.reorganize_upload", "GET"): Entry(PROVINCE, outside="none"),
    ("units.reorganize_upload", "POST"): Entry(PROVINCE, outside="none"),
    ("units.reorganize_confirm", "POST"): Entry(PROVINCE, outside="none"),
    ("units.reorganize_draft", "GET"): Entry(PROVINCE, query={"on": "2025-07-01"}, outside="none"),
    ("units.reorganization_done", "GET"): Entry(PROVINCE, outside="none"),
    # Teams: staff read their subtree, a team reads itself; commune officers manage; the leader
    # keeps the member list.
    ("teams.index", "GET"): Entry(ALL, outside="none"),
    ("teams.listing", "GET"): Entry(ALL, {"unit_id": "commune"}),
    ("teams.show", "GET"): Entry(ALL, {"team_id": "team"}),
    ("teams.member", "GET"): Entry(ALL, {"member_id": "member"}),
    ("teams.member_row", "GET"): Entry(ALL, {"member_id": "member"}),
    ("teams.new_team", "GET"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.new_team", "POST"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.edit_team", "GET"): Entry(OFFICER, {"team_id": "team"}),
    ("teams.edit_team", "POST"): Entry(OFFICER, {"team_id": "team"}),
    ("teams.dissolve", "GET"): Entry(OFFICER, {"team_id": "team"}),
    ("teams.dissolve", "POST"): Entry(OFFICER, {"team_id": "team"}),
    ("teams.reactivate", "POST"): Entry(OFFICER, {"team_id": "team"}),
    ("teams.import_members", "GET"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.import_members", "POST"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.confirm_import", "POST"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.import_template", "GET"): Entry(OFFICER, {"commune_id": "commune"}),
    ("teams.add_member", "POST"): Entry(OFFICER | {"team_leader"}, {"team_id": "team"}),
    ("teams.check_phone", "GET"): Entry(OFFICER | {"team_leader"}, {"team_id": "team"},
                                        {"phone": "0912 345 678"}),
    ("teams.edit_member", "GET"): Entry(OFFICER | {"team_leader"}, {"member_id": "member"}),
    ("teams.edit_member", "POST"): Entry(OFFICER | {"team_leader"}, {"member_id": "member"}),
    ("teams.leave", "GET"): Entry(OFFICER | {"team_leader"}, {"member_id": "member"}),
    ("teams.leave", "POST"): Entry(OFFICER | {"team_leader"}, {"member_id": "member"}),
    ("teams.move", "GET"): Entry(OFFICER, {"member_id": "member"}),
    ("teams.move", "POST"): Entry(OFFICER, {"member_id": "member"}),
    ("teams.make_leader", "POST"): Entry(OFFICER, {"member_id": "member"}),
    ("teams.account", "POST"): Entry(OFFICER, {"member_id": "member"}),
    ("teams.reset_password", "POST"): Entry(OFFICER, {"member_id": "member"}),
    # Households: everyone reads their area; the team and the commune officer edit; merging
    # duplicates and moving one to another hamlet is the officer's.
    ("households.index", "GET"): Entry(ALL, query=Q, outside="filtered"),
    ("households.show", "GET"): Entry(ALL, {"household_id": "household"}),
    ("households.edit", "GET"): Entry(OFFICER | FIELD, {"household_id": "household"}),
    ("households.edit", "POST"): Entry(OFFICER | FIELD, {"household_id": "household"}),
    ("households.merge", "POST"): Entry(OFFICER, {"household_id": "household"}),
    # Moving a household to another hamlet changes the hamlets' figures: the officer's too.
    ("households.move", "GET"): Entry(OFFICER, {"household_id": "household"}),
    ("households.move", "POST"): Entry(OFFICER, {"household_id": "household"}),
    # Personal data (Decree 13/2023): export and erasure on request, by the commune's officer.
    ("households.export", "GET"): Entry(OFFICER, {"household_id": "household"}),
    ("households.erase", "GET"): Entry(OFFICER, {"household_id": "household"}),
    ("households.erase", "POST"): Entry(OFFICER, {"household_id": "household"}),
    # Visits: the team logs; the author, the leader and the officer correct; province staff add to
    # and correct closed months only (the world's visits are in an open month: refused here).
    ("visits.index", "GET"): Entry(ALL, outside="filtered"),
    ("visits.new", "GET"): Entry(PROVINCE | FIELD, query={"team": "team"}, outside="filtered"),
    ("visits.new", "POST"): Entry(PROVINCE | FIELD, query={"team": "team"}, outside="filtered"),
    ("visits.household_options", "GET"): Entry(ALL, query={"visit": "visit", **Q}, outside="filtered"),
    ("visits.team_data", "GET"): Entry(FIELD, outside="none"),
    ("visits.show", "GET"): Entry(ALL, {"visit_id": "visit"}),
    ("visits.edit", "GET"): Entry(OFFICER | {"team_leader"}, {"visit_id": "visit"}),
    ("visits.edit", "POST"): Entry(OFFICER | {"team_leader"}, {"visit_id": "visit"}),
    ("visits.delete", "GET"): Entry(OFFICER | {"team_leader"}, {"visit_id": "visit"}),
    ("visits.delete", "POST"): Entry(OFFICER | {"team_leader"}, {"visit_id": "visit"}),
    # Classes and one-stop-centre shifts: the team logs its own; correct and delete as visits;
    # the commune officer enters the commune's dossiers of a month.
    ("activities.index", "GET"): Entry(ALL, outside="filtered"),
    ("activities.new_class", "GET"): Entry(FIELD, outside="none"),
    ("activities.new_class", "POST"): Entry(FIELD, outside="none"),
    ("activities.show_class", "GET"): Entry(ALL, {"class_id": "class"}),
    ("activities.edit_class", "GET"): Entry(OFFICER | {"team_leader"}, {"class_id": "class"}),
    ("activities.edit_class", "POST"): Entry(OFFICER | {"team_leader"}, {"class_id": "class"}),
    ("activities.delete_class", "GET"): Entry(OFFICER | {"team_leader"}, {"class_id": "class"}),
    ("activities.delete_class", "POST"): Entry(OFFICER | {"team_leader"}, {"class_id": "class"}),
    ("activities.new_shift", "GET"): Entry(FIELD, outside="none"),
    ("activities.new_shift", "POST"): Entry(FIELD, outside="none"),
    ("activities.show_shift", "GET"): Entry(ALL, {"shift_id": "shift"}),
    ("activities.edit_shift", "GET"): Entry(OFFICER | {"team_leader"}, {"shift_id": "shift"}),
    ("activities.edit_shift", "POST"): Entry(OFFICER | {"team_leader"}, {"shift_id": "shift"}),
    ("activities.delete_shift", "GET"): Entry(OFFICER | {"team_leader"}, {"shift_id": "shift"}),
    ("activities.delete_shift", "POST"): Entry(OFFICER | {"team_leader"}, {"shift_id": "shift"}),
    ("activities.dossiers", "GET"): Entry(OFFICER, query={"commune": "commune"}),
    ("activities.dossiers", "POST"): Entry(OFFICER, query={"commune": "commune"}),
    ("activities.topics", "GET"): Entry(PROVINCE, outside="none"),
    ("activities.topics", "POST"): Entry(PROVINCE, outside="none"),
    # The service catalogue is the province's; everyone reads it.
    ("services.index", "GET"): Entry(ALL, outside="none"),
    ("services.add", "POST"): Entry(PROVINCE, outside="none"),
    ("services.edit", "GET"): Entry(PROVINCE, query={"service_id": "service"}, outside="none"),
    ("services.edit", "POST"): Entry(PROVINCE, query={"service_id": "service"}, outside="none"),
    ("services.move", "POST"): Entry(PROVINCE, query={"service_id": "service"}, outside="none"),
    ("services.remove_target", "POST"): Entry(PROVINCE, query={"service_id": "service", "target_id": "target"}),
    ("coverage.remove_adult_target", "POST"): Entry(PROVINCE, query={"target_id": "adult_target"}),
    # Coverage and reports: staff, for their subtree; month closing is the province's.
    ("coverage.indicators", "GET"): Entry(ALL, outside="none"),
    ("coverage.adult_targets", "GET"): Entry(PROVINCE, outside="none"),
    ("coverage.adult_targets", "POST"): Entry(PROVINCE, outside="none"),
    ("coverage.index", "GET"): Entry(STAFF, outside="none"),
    ("coverage.show", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("coverage.trend", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("coverage.adult_section", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    # Team leaders and members: their own team's hamlets only (tests/test_team_progress.py checks the leaks).
    ("coverage.team", "GET"): Entry(FIELD, outside="filtered"),
    ("reports.index", "GET"): Entry(STAFF, outside="none"),
    ("reports.monthly", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.monthly_print", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.monthly_xlsx", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.monthly_csv", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.quarterly", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.quarterly_print", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.quarterly_xlsx", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.quarterly_csv", "GET"): Entry(STAFF, {"unit_id": "commune"}),
    ("reports.closing_page", "GET"): Entry(PROVINCE, outside="none"),
    ("reports.closing_page", "POST"): Entry(PROVINCE, outside="none"),
    ("reports.reopen", "GET"): Entry(PROVINCE, {"closure_id": "closure"}),
    ("reports.reopen", "POST"): Entry(PROVINCE, {"closure_id": "closure"}),
    # The audit trail: district and province staff, for their subtree.
    ("audit.index", "GET"): Entry(STAFF - {"commune"}, outside="filtered"),
    # API tokens: province staff; the API itself answers any token, scoped like its user.
    ("api_tokens.index", "GET"): Entry(PROVINCE, outside="filtered"),
    ("api_tokens.create", "POST"): Entry(PROVINCE, outside="none"),
    ("api_tokens.revoke", "POST"): Entry(PROVINCE, {"token_id": "token"}),
    ("api_tokens.revoke", "GET"): Entry(PROVINCE, {"token_id": "token"}),
    ("api.coverage", "GET"): Entry(ALL, query={"unit": "commune_code", "month": "2024-10"}, token=True),
    # Accounts: admins and province staff manage those below them in their area.
    ("users.index", "GET"): Entry(PROVINCE, outside="filtered"),
    ("users.new", "GET"): Entry(PROVINCE, outside="none"),
    ("users.new", "POST"): Entry(PROVINCE, outside="none"),
    ("users.show", "GET"): Entry(PROVINCE, {"account_id": "account"}),
    ("users.disable", "POST"): Entry(PROVINCE, {"account_id": "account"}),
    ("users.enable", "POST"): Entry(PROVINCE, {"account_id": "account"}),
    ("users.reset_password", "POST"): Entry(PROVINCE, {"account_id": "account"}),
    ("users.bind", "POST"): Entry(PROVINCE, {"account_id": "account"}),
    # Areas (groups of communes): the province's staff make them and choose their communes.
    ("areas.index", "GET"): Entry(PROVINCE, {"unit_id": "province"}),
    ("areas.create", "POST"): Entry(PROVINCE, {"unit_id": "province"}),
    ("areas.edit", "GET"): Entry(PROVINCE, {"area_id": "area"}),
    ("areas.edit", "POST"): Entry(PROVINCE, {"area_id": "area"}),
    ("areas.remove", "GET"): Entry(PROVINCE, {"area_id": "area"}),
    ("areas.remove", "POST"): Entry(PROVINCE, {"area_id": "area"}),
}

REFUSED = (403, 404)
# SQLite reuses the id of a row a request deleted; the test's own session still remembers the old
# object under that id when the next fresh record takes it. Harmless here, and only here.
pytestmark = pytest.mark.filterwarnings("ignore:Identity map already had an identity")


def _routes(app):
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def _rules(app, endpoint, method):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint and method in rule.methods]


def test_every_route_is_declared(app):
    routes = _routes(app)
    assert sorted(routes - MATRIX.keys()) == [], "routes without an access-matrix entry"
    assert sorted(MATRIX.keys() - routes) == [], "entries for routes that no longer exist"


def test_every_url_rule_of_an_endpoint_is_declared(app):
    """A second URL rule on an endpoint is another way in (other arguments, other defaults): its
    entry lists every rule, and test_access asks through each."""
    undeclared = {}
    for (endpoint, method), entry in MATRIX.items():
        rules = sorted(rule.rule for rule in _rules(app, endpoint, method))
        if (sorted(entry.rules) if entry.rules else rules[:1]) != rules:
            undeclared[(endpoint, method)] = rules
    assert undeclared == {}, "endpoints whose URL rules are not all declared in `rules`"


def _url(app, world, endpoint, entry, area, rule=None) -> str:
    values = {}
    for name, kind in {**entry.path, **entry.query}.items():
        if kind == "service":
            values[name] = world.service.id
        elif kind in KINDS:
            values[name] = area.ids()[kind]
        else:
            values[name] = kind
    if rule is not None:
        # This rule, not the one url_for would pick; a value the rule fixes itself is left to it.
        built = rule.build({k: v for k, v in values.items()
                            if k in rule.arguments or k not in (rule.defaults or {})})
        assert built is not None, f"{rule.rule} cannot be built from {values}"
        return built[1]
    with app.test_request_context():
        return url_for(endpoint, **values)


def _client(app, world, role):
    client = app.test_client()
    if role is not None:
        with client.session_transaction() as session:
            session["_user_id"] = world.users[role].get_id()
            session["_fresh"] = True
    return client


def _ask(app, world, role, endpoint, method, entry, area, rule=None):
    from app.api.models import issue_token
    from app.extensions import db
    url = _url(app, world, endpoint, entry, area, rule)
    headers = {}
    if entry.token and role is not None:
        _token, secret = issue_token(world.users[role], f"ma-{role}")
        db.session.commit()
        headers["Authorization"] = f"Bearer {secret}"
        client = app.test_client()
    else:
        client = _client(app, world, None if entry.token else role)
    with app.app_context():
        resp = client.open(url, method=method, headers=headers)
    resp.get_data()  # read and close (static files are streamed)
    resp.close()
    return resp


def _text(resp) -> str:
    """What the user is shown: the page, the CSV, the JSON, or every cell of a workbook."""
    if resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        import io

        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(resp.get_data()), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return resp.get_data().decode("utf-8", errors="replace")


def _leaks(world, role, resp) -> list[str]:
    body = _text(resp)
    return [name for name in world.names_outside(role) if name in body]


def _to_sign_in(resp) -> bool:
    return resp.status_code in (302, 303) and "/auth/login" in resp.headers.get("Location", "")


def _allowed(resp, entry) -> bool:
    if resp.status_code >= 500 or resp.status_code in (401, *REFUSED):
        return False
    return entry.signs_out or not _to_sign_in(resp)


@pytest.mark.parametrize("endpoint,method", sorted(MATRIX), ids=[f"{e}:{m}" for e, m in sorted(MATRIX)])
def test_access(app, db, tree, endpoint, method):
    world = World(tree)
    fresh = iter(range(100))
    for rule in _rules(app, endpoint, method):
        _check_rule(app, db, world, endpoint, method, rule, fresh)


def _check_rule(app, db, world, endpoint, method, rule, fresh):
    entry = MATRIX[(endpoint, method)]
    post = method != "GET"

    def ask(role, area):
        return _ask(app, world, role, endpoint, method, entry, area, rule)

    def refused(role, area, why):
        before = fingerprint() if post else None
        resp = ask(role, area)
        assert resp.status_code in REFUSED, f"{rule.rule} {why}: {resp.status_code}"
        if post:
            db.session.expire_all()
            assert fingerprint() == before, f"{rule.rule} {why}: a refused request changed the data"

    # Anonymous visitors.
    resp = ask(None, world.inside)
    if entry.allowed == PUBLIC:
        assert resp.status_code < 500 and resp.status_code not in (401, 403)
        return
    if entry.token:
        assert resp.status_code == 401
    else:
        assert _to_sign_in(resp), f"anonymous {method} {rule.rule}: {resp.status_code}"

    inside_url = _url(app, world, endpoint, entry, world.inside, rule)
    for role in ROLES:
        # Inside the user's area. An allowed state change (an empty submission: it passes the
        # access checks, then fails validation or does what it asks) gets records of its own.
        if role not in entry.allowed:
            refused(role, world.inside, f"{role} inside")
        else:
            area = world.fresh_inside(next(fresh)) if post else world.inside
            resp = ask(role, area)
            assert _allowed(resp, entry), f"{rule.rule} {role} inside: {resp.status_code}"
            shown = _leaks(world, role, resp)
            assert not shown, f"{role} sees records outside their area: {shown}"
        # Outside it: the nearest areas (for a team, its sibling team first).
        if entry.outside == "none":
            continue
        for outside in world.areas_outside(role):
            if _url(app, world, endpoint, entry, outside, rule) == inside_url:
                continue  # the same record (a team's own commune): answered above
            if entry.outside == "refused" or role not in entry.allowed:
                refused(role, outside, f"{role} outside")
                continue
            before = fingerprint() if post else None
            resp = ask(role, outside)
            assert resp.status_code < 500 and resp.status_code != 401
            shown = _leaks(world, role, resp)
            assert not shown, f"{role} sees records outside their area: {shown}"
            if post:
                db.session.expire_all()
                assert fingerprint() == before


def test_lists_do_show_what_is_inside(app, db, tree):
    """The "filtered" checks above could pass on an empty page; these lists do show the inside."""
    world = World(tree)
    name = world.inside.household.head_name
    for role, endpoint, entry in (("district", "households.index", MATRIX[("households.index", "GET")]),
                                  ("commune", "visits.index", MATRIX[("visits.index", "GET")]),
                                  ("team_member", "visits.household_options",
                                   MATRIX[("visits.household_options", "GET")]),
                                  ("district", "audit.index", MATRIX[("audit.index", "GET")])):
        resp = _ask(app, world, role, endpoint, "GET", entry, world.inside)
        assert resp.status_code == 200 and name in resp.get_data(as_text=True), (role, endpoint)
    resp = _ask(app, world, "province", "api_tokens.index", "GET", MATRIX[("api_tokens.index", "GET")],
                world.inside)
    assert "Trung tâm điều hành" in resp.get_data(as_text=True)
