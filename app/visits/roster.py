"""A team as the visit form sees it: its hamlets in service, its current members and the households
it may visit, read once per request and handed to the form, its checks and its page."""
from functools import cached_property
from typing import NamedTuple

import sqlalchemy as sa

from app.coverage.models import HOUSEHOLD_COUNTS, TEAMS
from app.coverage.rollup import tables_token_ddl, token
from app.extensions import db
from app.households.models import Household
from app.scope import households_query
from app.teams.models import Member, Membership, Team, team_hamlets
from app.units.models import AdminUnit
from app.worker_memo import kept_under_tokens

_UNITS = AdminUnit.__table__
_MEMBERS = Member.__table__
_MEMBERSHIPS = Membership.__table__


class RosterHamlet(NamedTuple):
    id: int
    name: str


class RosterMember(NamedTuple):
    id: int
    full_name: str


# The team's hamlets in service (kind 0, by name, as Team.hamlets orders them) and its current members
# (kind 1, by folded name) in one statement of plain columns: all the form shows of them (its choices)
# and all that checking a posted visit needs (their ids). Loading them as ORM objects, the hamlets
# through Team.hamlets, cost ~800 Python calls a form (bench/README.md, "Fast paths").
_TEAM = sa.union_all(
    sa.select(sa.literal(0).label("kind"), _UNITS.c.id, _UNITS.c.name, _UNITS.c.name.label("sort"))
    .join(team_hamlets, team_hamlets.c.hamlet_id == _UNITS.c.id)
    .where(team_hamlets.c.team_id == sa.bindparam("team_id"), _UNITS.c.retired_on.is_(None)),
    sa.select(sa.literal(1).label("kind"), _MEMBERS.c.id, _MEMBERS.c.full_name, _MEMBERS.c.name_folded.label("sort"))
    .join(_MEMBERSHIPS, _MEMBERSHIPS.c.member_id == _MEMBERS.c.id)
    .where(_MEMBERSHIPS.c.team_id == sa.bindparam("team_id"), _MEMBERSHIPS.c.left_on.is_(None)),
).order_by(*(sa.literal_column(c) for c in ("kind", "sort", "id")))


# Fast path: every visit form and every visit POST reads its team; kept per worker under the units' token
# (a hamlet renamed or retired) and the teams' token, which triggers replace whenever a team's hamlets,
# memberships or members change (migration b7e4d2a9c1f5): a statement less on each (bench/README.md,
# round 23). tests/test_visits.py holds the form to the team after each kind of change.
@kept_under_tokens(maxsize=4096)
def _team_rows(team_id: int) -> tuple[tuple[RosterHamlet, ...], tuple[RosterMember, ...]]:
    hamlets, members = [], []
    for kind, record_id, name, _sort in db.session.connection().execute(_TEAM, {"team_id": team_id}):
        if kind == 0:
            hamlets.append(RosterHamlet(record_id, name))
        else:
            members.append(RosterMember(record_id, name))
    return tuple(hamlets), tuple(members)


def teams_token_ddl(dialect: str) -> list[str]:
    """The teams token's triggers as this module builds them (the migration carries a frozen copy)."""
    return tables_token_ddl(TEAMS, "teams_token", {"team_hamlets": "hamlets", "memberships": "memberships",
                                                   "members": "members"}, dialect)


class TeamRoster:
    """The team's hamlets and members: as ids for the checks of a posted visit, as objects for a page.

    No team (an account not in one) is an empty roster."""

    def __init__(self, team: Team | None):
        self.team = team

    @property
    def earliest(self):
        """A visit cannot predate its team: the day it was founded (see Team.visits_from)."""
        return self.team.visits_from if self.team is not None else None

    @cached_property
    def _read(self) -> tuple[list[RosterHamlet], list[RosterMember]]:
        if self.team is None:
            return [], []
        hamlets, members = _team_rows((token(HOUSEHOLD_COUNTS), token(TEAMS)), self.team.id)
        return list(hamlets), list(members)

    @property
    def hamlets(self) -> list[RosterHamlet]:
        """The team's hamlets in service (id, name), by name."""
        return self._read[0]

    @property
    def members(self) -> list[RosterMember]:
        """The current members (id, full_name) by name; a new list each time, so a page may add a
        visit's former ones."""
        return list(self._read[1])

    @property
    def hamlet_ids(self) -> list[int]:
        return [h.id for h in self._read[0]]

    @property
    def member_ids(self) -> set[int]:
        return {m.id for m in self._read[1]}

    def households(self) -> tuple[sa.Select, list[int]]:
        """The households of the team's hamlets the user may see, and those hamlets' ids."""
        ids = self.hamlet_ids
        return households_query().where(Household.hamlet_id.in_(ids)), ids
