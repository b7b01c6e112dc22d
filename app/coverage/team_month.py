"""What one team did in one month, and the message a leader posts about it in the commune's Zalo group.

Teams coordinate in Zalo groups (DOMAIN.md): at the month's end a leader writes there what the team did.
The team's progress page offers that message ready to copy or share, from the same records the reports
count: the team's visits and the households they reached, the households that first adopted a service
through the team's visits (a household counts once per service: app.visits.models.Adoption), the
classes the team held with their learners, and its shifts at the one-stop centre.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from app.activities.models import CentreShift, Class, ShiftDossier, class_teams
from app.dates import month_end, month_start
from app.extensions import db
from app.households.models import Household
from app.templating import locale_number, locale_percent
from app.visits.models import Adoption, Visit


@dataclass
class TeamMonth:
    visits: int = 0
    households: int = 0
    # {service id: households that first adopted it through the team's visits in the month}
    adopted: dict[int, int] = field(default_factory=dict)
    classes: int = 0
    learners: int = 0
    shifts: int = 0
    people_helped: int = 0
    dossiers_online: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.visits or self.classes or self.shifts)


def team_month(team_id: int, year: int, month: int) -> TeamMonth:
    first, last = month_start(year, month), month_end(year, month)
    live = Household.merged_into_id.is_(None)
    out = TeamMonth()
    out.visits, out.households = db.session.execute(
        sa.select(sa.func.count(Visit.id), sa.func.count(sa.distinct(Visit.household_id)))
        .join(Household, Household.id == Visit.household_id)
        .where(live, Visit.team_id == team_id, Visit.visited_on.between(first, last))).one()
    out.adopted = {service_id: n for service_id, n in db.session.execute(
        sa.select(Adoption.service_id, sa.func.count())
        .join(Visit, Visit.id == Adoption.visit_id)
        .join(Household, Household.id == Adoption.household_id)
        .where(live, Visit.team_id == team_id, Adoption.adopted_on.between(first, last))
        .group_by(Adoption.service_id))}
    out.classes, out.learners = db.session.execute(
        sa.select(sa.func.count(Class.id), sa.func.coalesce(sa.func.sum(Class.learners_total), 0))
        .join(class_teams, class_teams.c.class_id == Class.id)
        .where(class_teams.c.team_id == team_id, Class.held_on.between(first, last))).one()
    out.shifts, out.people_helped = db.session.execute(
        sa.select(sa.func.count(CentreShift.id), sa.func.coalesce(sa.func.sum(CentreShift.people_helped), 0))
        .where(CentreShift.team_id == team_id, CentreShift.held_on.between(first, last))).one()
    out.dossiers_online = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ShiftDossier.dossiers), 0))
        .join(CentreShift, CentreShift.id == ShiftDossier.shift_id)
        .where(CentreShift.team_id == team_id, CentreShift.held_on.between(first, last)))
    return out


def team_message(team_name: str, month_label: str, done: TeamMonth, services: list, total) -> str:
    """The plain text a leader pastes into the group: what the team did in the month, then where its
    hamlets stand at the month's end (`total`: their CoverageRow, or None)."""
    n = locale_number
    lines = [_("%(team)s, month %(month)s:", team=team_name, month=month_label)]
    if not done.anything:
        lines.append("- " + _("No visit, class or shift recorded."))
    if done.visits:
        lines.append("- " + _("%(visits)s visits to %(households)s households",
                              visits=n(done.visits), households=n(done.households)))
    firsts = [f"  + {s.name}: " + _("%(n)s hh", n=n(done.adopted[s.id])) for s in services if done.adopted.get(s.id)]
    if firsts:
        lines.append("- " + _("Households that began using a service:"))
        lines.extend(firsts)
    if done.classes:
        lines.append("- " + _("%(classes)s classes, %(learners)s learners",
                              classes=n(done.classes), learners=n(done.learners)))
    if done.shifts:
        shift = _("%(shifts)s shifts at the one-stop centre, %(people)s people helped",
                  shifts=n(done.shifts), people=n(done.people_helped))
        if done.dossiers_online:
            shift += ", " + _("%(dossiers)s dossiers filed online", dossiers=n(done.dossiers_online))
        lines.append("- " + shift)
    if total is not None and total.households:
        lines.append(_("The team's hamlets at the month's end: %(households)s households, %(reached)s reached "
                       "(%(share)s).", households=n(total.households), reached=n(total.reached),
                       share=locale_percent(total.reach_share)))
    return "\n".join(lines)

