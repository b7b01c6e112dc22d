"""What a visit's page lists of the visit (the page every saved visit opens): its services with their
results and its members, as plain rows."""
from typing import NamedTuple

import sqlalchemy as sa

from app.extensions import db
from app.teams.models import Member
from app.visits.models import Service, VisitService, page_language, service_name, visit_members

_RECORDED = VisitService.__table__
_SERVICES = Service.__table__
_MEMBERS = Member.__table__

# The visit's services (kind 0, in catalogue order) and members (kind 1, by name) in one statement of
# plain columns. Loaded as ORM collections (two selectin loads, each with its statement and cache key
# made on every request) they were ~35% of the page's Python (bench/README.md, "Fast paths").
_LISTED = sa.union_all(
    sa.select(sa.literal(0).label("kind"), _RECORDED.c.result, _SERVICES.c.name_vi, _SERVICES.c.name_en,
              _SERVICES.c.position.label("position"), _SERVICES.c.name_vi.label("sort"))
    .join(_SERVICES, _SERVICES.c.id == _RECORDED.c.service_id)
    .where(_RECORDED.c.visit_id == sa.bindparam("visit_id")),
    sa.select(sa.literal(1).label("kind"), sa.literal(""), _MEMBERS.c.full_name, _MEMBERS.c.full_name,
              sa.literal(0), _MEMBERS.c.name_folded)
    .join(visit_members, visit_members.c.member_id == _MEMBERS.c.id)
    .where(visit_members.c.visit_id == sa.bindparam("visit_id")),
).order_by(*(sa.literal_column(c) for c in ("kind", "position", "sort")))


class RecordedService(NamedTuple):
    result: str  # a key of app.visits.models.RESULTS
    name: str


def listed_with(visit_id: int) -> tuple[list[RecordedService], list[str]]:
    """The visit's services (result and name in the page's language) and its members' names. Reads by id
    alone: the caller has found the visit through the user's scope (`get_visit_or_404`)."""
    language = page_language()
    services, members = [], []
    for kind, result, name_vi, name_en, _position, _sort in db.session.connection().execute(
            _LISTED, {"visit_id": visit_id}):
        if kind == 0:
            services.append(RecordedService(result, service_name(name_vi, name_en, language)))
        else:
            members.append(name_vi)
    return services, members
