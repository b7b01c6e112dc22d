"""What one team did in one month, and the message a leader posts about it in the commune's Zalo group.

Teams coordinate in Zalo groups (DOMAIN.md): at the month's end a leader writes there what the team did.
The team's progress page offers that message ready to copy or share, from the same records the reports
count: the team's visits and the households they reached, the households that first adopted a service
through the team's visits (a household counts once per service: app.visits.models.Adoption), the
classes the team held with their learners, and its shifts at the one-stop centre.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.activities.models import CentreShift, Class, ShiftDossier, class_teams
from app.dates import month_end, month_start
from app.extensions import db
from app.households.models import Household
from app.templating import locale_number, locale_percent
from app.visits.models import Adoption, Visit


@dataclass(frozen=True)
class TeamMonth:
    visits: int
    households: int
    # {service id: households that first adopted it through the team's visits in the month}
    adopted: dict[int, int]
    classes: int
    learners: int
    shifts: int
    people_helped: int
    dossiers_online: int

    @property
    def anything(self) -> bool:
        return bool(self.visits or self.classes or self.shifts)


def team_month(team_id: int, year: int, month: int) -> TeamMonth:
    first, last = month_start(year, month), month_end(year, month)
    live = Household.merged_into_id.is_(None)
    visits, households = db.session.execute(
        sa.select(sa.func.count(Visit.id), sa.func.count(sa.distinct(Visit.household_id)))
        .join(Household, Household.id == Visit.household_id)
        .where(live, Visit.team_id == team_id, Visit.visited_on.between(first, last))).one()
    adopted = {service_id: n for service_id, n in db.session.execute(
        sa.select(Adoption.service_id, sa.func.count())
        .join(Visit, Visit.id == Adoption.visit_id)
        .join(Household, Household.id == Adoption.household_id)
        .where(live, Visit.team_id == team_id, Adoption.adopted_on.between(first, last))
        .group_by(Adoption.service_id))}
    classes, learners = db.session.execute(
        sa.select(sa.func.count(Class.id), sa.func.sum(Class.learners_total))
        .join(class_teams, class_teams.c.class_id == Class.id)
        .where(class_teams.c.team_id == team_id, Class.held_on.between(first, last))).one()
    shifts, people_helped = db.session.execute(
        sa.select(sa.func.count(CentreShift.id), sa.func.sum(CentreShift.people_helped))
        .where(CentreShift.team_id == team_id, CentreShift.held_on.between(first, last))).one()
    dossiers_online = db.session.scalar(
        sa.select(sa.func.sum(ShiftDossier.dossiers))
        .join(CentreShift, CentreShift.id == ShiftDossier.shift_id)
        .where(CentreShift.team_id == team_id, CentreShift.held_on.between(first, last)))
    # A sum over no rows is NULL: none.
    return TeamMonth(visits=visits, households=households, adopted=adopted, classes=classes,
                     learners=learners or 0, shifts=shifts, people_helped=people_helped or 0,
                     dossiers_online=dossiers_online or 0)


def team_message(team_name: str, month_label: str, done: TeamMonth, services: list, total,
                 as_of: str | None = None) -> str:
    """The plain text a leader pastes into the group: what the team did in the month, then where its
    hamlets stand at the month's end, or today (`as_of`, the day as written) in the month in progress
    (`total`: their CoverageRow; left out while they count no household, as before the commune has
    entered their counts)."""
    n = locale_number
    d = done
    # Each count with its noun, singular or plural as the language has them (Vietnamese has one form).
    lines = [_("%(team)s, month %(month)s:", team=team_name, month=month_label)]
    if not d.anything:
        lines.append("- " + _("No visit, class or shift recorded."))
    if d.visits:
        visits = ngettext("%(count)s visit", "%(count)s visits", d.visits, count=n(d.visits))
        households = ngettext("%(count)s household", "%(count)s households", d.households, count=n(d.households))
        lines.append("- " + _("%(visits)s to %(households)s", visits=visits, households=households))
    firsts = [f"  + {s.name}: " + _("%(n)s hh", n=n(d.adopted[s.id])) for s in services if d.adopted.get(s.id)]
    if firsts:
        lines.append("- " + _("Households that began using a service:"))
        lines.extend(firsts)
    if d.classes:
        classes = ngettext("%(count)s class", "%(count)s classes", d.classes, count=n(d.classes))
        learners = ngettext("%(count)s learner", "%(count)s learners", d.learners, count=n(d.learners))
        lines.append("- " + _("%(classes)s, %(learners)s", classes=classes, learners=learners))
    if d.shifts:
        shifts = ngettext("%(count)s shift", "%(count)s shifts", d.shifts, count=n(d.shifts))
        people = ngettext("%(count)s person helped", "%(count)s people helped", d.people_helped,
                          count=n(d.people_helped))
        shift = _("%(shifts)s at the one-stop centre, %(people)s", shifts=shifts, people=people)
        if d.dossiers_online:
            shift += ", " + ngettext("%(count)s dossier filed online", "%(count)s dossiers filed online",
                                     d.dossiers_online, count=n(d.dossiers_online))
        lines.append("- " + shift)
    if total.households and as_of:
        lines.append(_("The team's hamlets as of today (%(date)s): %(households)s households, %(reached)s reached "
                       "(%(share)s).", date=as_of, households=n(total.households), reached=n(total.reached),
                       share=locale_percent(total.reach_share)))
    elif total.households:
        lines.append(_("The team's hamlets at the month's end: %(households)s households, %(reached)s reached "
                       "(%(share)s).", households=n(total.households), reached=n(total.reached),
                       share=locale_percent(total.reach_share)))
    return "\n".join(lines)

