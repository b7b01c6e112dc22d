"""What a visit's page shows of the visit (the page every saved visit opens): the visit with its household,
hamlet, team and author, its services with their results and its members, as plain rows."""
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort

from app.auth.models import User
from app.extensions import db
from app.households.models import Household, shown_name
from app.scope import hamlet_scope, in_hamlets
from app.teams.models import Member, Team
from app.teams.names import telling_apart
from app.units.models import AdminUnit, UnitPlace
from app.visits.models import Service, Visit, VisitService, page_language, service_name, visit_members

_VISITS, _HOUSEHOLDS, _UNITS = Visit.__table__, Household.__table__, AdminUnit.__table__
_TEAMS, _USERS = Team.__table__, User.__table__


class Author(NamedTuple):
    id: int
    full_name: str | None
    username: str


class ShownVisit(NamedTuple):
    """The visit as its page shows it and as the rules that page asks read it (`can_edit_visit`,
    `closing.can_correct_visit`): its hamlet is the hamlet's place in the tree."""
    id: int
    household_id: int
    hamlet: UnitPlace
    team_id: int | None
    team_name: str | None
    author_id: int | None
    author: Author | None
    visited_on: date
    note: str | None
    created_at: datetime
    household_name: str
    household_address: str


# Fast path: the page every saved visit opens loaded the visit with its household and hamlet as ORM
# objects (three entities: ~0.65 ms of CPU a page in the saturation mix, bench/README.md round 26); one
# statement of plain columns, kept per scope with the visit's id a parameter, reads all that the page
# shows, through the same scope as `app.scope.get_visit_or_404` (tests/test_scope.py holds the two alike).
@lru_cache(maxsize=1024)
def _shown(scope: tuple) -> sa.Select:
    return (sa.select(_VISITS.c.id, _VISITS.c.household_id, _UNITS.c.id, _UNITS.c.path, _UNITS.c.name,
                      _VISITS.c.team_id, _TEAMS.c.name, _VISITS.c.author_id, _USERS.c.full_name, _USERS.c.username,
                      _VISITS.c.visited_on, _VISITS.c.note, _VISITS.c.created_at,
                      _HOUSEHOLDS.c.head_name, _HOUSEHOLDS.c.erased_at, _HOUSEHOLDS.c.address)
            .select_from(_VISITS)
            .join(_UNITS, _UNITS.c.id == _VISITS.c.hamlet_id)
            .join(_HOUSEHOLDS, _HOUSEHOLDS.c.id == _VISITS.c.household_id)
            .outerjoin(_TEAMS, _TEAMS.c.id == _VISITS.c.team_id)
            .outerjoin(_USERS, _USERS.c.id == _VISITS.c.author_id)
            .where(_VISITS.c.id == sa.bindparam("visit_id"), in_hamlets(_VISITS.c.hamlet_id, scope)))


def get_shown_visit_or_404(visit_id: int, user=None) -> ShownVisit:
    """The visit as its page shows it, if the user may read it (404 otherwise), as `get_visit_or_404`."""
    row = db.session.connection().execute(_shown(hamlet_scope(user)), {"visit_id": visit_id}).one_or_none()
    if row is None:
        abort(404)
    (visit_id, household_id, hamlet_id, hamlet_path, hamlet_name, team_id, team_name, author_id, author_name,
     author_username, visited_on, note, created_at, head_name, erased_at, address) = row
    author = Author(author_id, author_name, author_username) if author_username is not None else None
    return ShownVisit(visit_id, household_id, UnitPlace(hamlet_id, hamlet_path, hamlet_name), team_id, team_name,
                      author_id, author,
                      visited_on, note, created_at, shown_name(household_id, head_name, erased_at), address or "")


_RECORDED = VisitService.__table__
_SERVICES = Service.__table__
_MEMBERS = Member.__table__

# The visit's services (kind 0, in catalogue order) and members (kind 1, by name; its id as text in the
# English name's column) in one statement of
# plain columns. Loaded as ORM collections (two selectin loads, each with its statement and cache key
# made on every request) they were ~35% of the page's Python (bench/README.md, "Fast paths").
_LISTED = sa.union_all(
    sa.select(sa.literal(0).label("kind"), _RECORDED.c.result, _SERVICES.c.name_vi, _SERVICES.c.name_en,
              _SERVICES.c.position.label("position"), _SERVICES.c.name_vi.label("sort"))
    .join(_SERVICES, _SERVICES.c.id == _RECORDED.c.service_id)
    .where(_RECORDED.c.visit_id == sa.bindparam("visit_id")),
    sa.select(sa.literal(1).label("kind"), sa.literal(""), _MEMBERS.c.full_name, sa.cast(_MEMBERS.c.id, sa.String),
              sa.literal(0), _MEMBERS.c.name_folded)
    .join(visit_members, visit_members.c.member_id == _MEMBERS.c.id)
    .where(visit_members.c.visit_id == sa.bindparam("visit_id")),
).order_by(*(sa.literal_column(c) for c in ("kind", "position", "sort")))


class NamedMember(NamedTuple):
    id: int
    full_name: str


class RecordedService(NamedTuple):
    result: str  # a key of app.visits.models.RESULTS
    name: str


def listed_with(visit_id: int) -> tuple[list[RecordedService], list[str]]:
    """The visit's services (result and name in the page's language) and its members' names, two of one name
    told apart. Reads by id alone: the caller has found the visit through the user's scope (`get_visit_or_404`)."""
    language = page_language()
    services, members = [], []
    for kind, result, name_vi, name_en, _position, _sort in db.session.connection().execute(
            _LISTED, {"visit_id": visit_id}):
        if kind == 0:
            services.append(RecordedService(result, service_name(name_vi, name_en, language)))
        else:
            members.append(NamedMember(int(name_en), name_vi))
    labels = telling_apart(members)
    return services, [labels.get(m.id, m.full_name) for m in members]
