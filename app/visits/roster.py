"""A team as the visit form sees it: its hamlets in service, its current members and the households
it may visit, read once per request and handed to the form, its checks and its page."""
from functools import cached_property

import sqlalchemy as sa

from app.extensions import db
from app.households.models import Household
from app.scope import households_query
from app.teams.models import Member, Membership, Team, team_hamlets
from app.units.models import AdminUnit

_UNITS = AdminUnit.__table__
_MEMBERSHIPS = Membership.__table__
# The ids of the team's hamlets in service (0) and of its current members (1) in one statement:
# faster than loading them as objects, and all that checking a posted visit needs.
_TEAM_IDS = sa.union_all(
    sa.select(sa.literal_column("0"), team_hamlets.c.hamlet_id)
    .join(_UNITS, _UNITS.c.id == team_hamlets.c.hamlet_id)
    .where(team_hamlets.c.team_id == sa.bindparam("team_id"), _UNITS.c.retired_on.is_(None)),
    sa.select(sa.literal_column("1"), _MEMBERSHIPS.c.member_id)
    .where(_MEMBERSHIPS.c.team_id == sa.bindparam("team_id"), _MEMBERSHIPS.c.left_on.is_(None)))


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
    def hamlets(self) -> list[AdminUnit]:
        if self.team is None:
            return []
        return [h for h in self.team.hamlets if h.retired_on is None]

    @cached_property
    def _members(self) -> list[Member]:
        if self.team is None:
            return []
        return list(db.session.scalars(
            sa.select(Member).join(Membership, Membership.member_id == Member.id)
            .where(Membership.team_id == self.team.id, Membership.left_on.is_(None))
            .order_by(Member.name_folded)))

    @property
    def members(self) -> list[Member]:
        """The current members by name; a new list each time, so a page may add a visit's former ones."""
        return list(self._members)

    @cached_property
    def _ids(self) -> tuple[list[int], set[int]]:
        hamlet_ids, member_ids = [], set()
        for kind, record in db.session.connection().execute(_TEAM_IDS, {"team_id": self.team.id}):
            if kind == 0:
                hamlet_ids.append(record)
            else:
                member_ids.add(record)
        return hamlet_ids, member_ids

    @property
    def hamlet_ids(self) -> list[int]:
        """The team's hamlets in service: from the hamlets when they are loaded already, else by id."""
        if self.team is None:
            return []
        if "hamlets" in self.__dict__ or "hamlets" not in sa.inspect(self.team).unloaded:
            return [h.id for h in self.hamlets]
        return list(self._ids[0])

    @property
    def member_ids(self) -> set[int]:
        """The team's current members: from the members when they are loaded already, else by id."""
        if self.team is None:
            return set()
        if "_members" in self.__dict__:
            return {m.id for m in self._members}
        return set(self._ids[1])

    def households(self) -> tuple[sa.Select, list[int]]:
        """The households of the team's hamlets the user may see, and those hamlets' ids."""
        ids = self.hamlet_ids
        return households_query().where(Household.hamlet_id.in_(ids)), ids
