"""Report-specific SQL: teams, members, visits, households reached and new adoptions in a month or quarter.

Cumulative coverage (households, reach, adopting households) is not here: it comes from
app.coverage.queries, the one place that computes it.

Everything is grouped at the lowest level it belongs to (hamlet, or commune for teams) in one
query each, and rolled up the tree in Python, so a parent is always the sum of its children.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.activities.models import Class, ClassLearner
from app.coverage.activity_months import ATTENDANCES
from app.coverage.models import ActivityMonth, CoverageTally, HouseholdMonth, ReachMonth, VisitMonth
from app.extensions import db
from app.households.models import Household
from app.id_lists import chunks
from app.reports.periods import Period
from app.teams.models import Membership, Team, team_commune_on, team_hamlets
from app.units.history import commune_heirs
from app.units.models import AdminUnit, HamletChange, HouseholdMove
from app.visits.models import Adoption


def subtree_ids(root) -> sa.Select:
    """The ids of the units below a root, or of the units a list names (the map as it was in a
    month: the units that stood under a root then, some of which hang elsewhere now)."""
    if isinstance(root, (list, tuple, set, frozenset)):
        return sa.select(AdminUnit.id).where(AdminUnit.id.in_(list(root)))
    return AdminUnit.subtree_ids(root)


def subtree_units(root: AdminUnit) -> list[AdminUnit]:
    return list(db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.within(root))
        .order_by(AdminUnit.depth, AdminUnit.code, AdminUnit.name)))


def report_services(province_id: int | None, on: date | None = None) -> list[dict]:
    """Active services in catalogue order, each with the province's target milestone in force on `on`
    (the period's end; today if not given)."""
    from app.catalogue.operations import active_services, targets_for
    targets = targets_for(province_id, on) if province_id is not None else {}
    out = []
    for s in active_services():
        t = targets.get(s.id)
        out.append({"id": s.id, "code": s.code, "name_vi": s.name_vi, "name_en": s.name_en,
                    "target_share": float(t.share) if t is not None else None,
                    "target_date": t.due_on.isoformat() if t is not None else None})
    return out


def _hamlets(root):
    """The hamlets of a subtree (or of a list of units: the map as it was in a month)."""
    return sa.select(AdminUnit.id).where(AdminUnit.id.in_(subtree_ids(root)), AdminUnit.level == "hamlet")


def period_activity(root: AdminUnit, period: Period):
    """A period's visits from the month tables the visit triggers keep (app/coverage/visit_months.py):
    ({hamlet: visits}, {hamlet: distinct households visited, those merged into another left out},
    {hamlet: {team ids}}, {team ids}). A quarter's households are counted once however many of its
    months they were visited in: its months' household rows, not their monthly counts, are counted."""
    first, last = period.keys
    visits: dict[int, int] = defaultdict(int)
    teams_in_hamlet: dict[int, set[int]] = defaultdict(set)
    active_teams: set[int] = set()
    vm, rm, hm = VisitMonth, ReachMonth, HouseholdMonth
    for h, t, n in db.session.execute(
            sa.select(vm.hamlet_id, vm.team_id, vm.visits)
            .where(vm.month.between(first, last), vm.visits != 0, vm.hamlet_id.in_(_hamlets(root)))):
        visits[h] += int(n)
        if t:  # 0: visits logged without a team
            teams_in_hamlet[h].add(t)
            active_teams.add(t)
    if first == last:
        counted = (sa.select(rm.hamlet_id, rm.households)
                   .where(rm.month == first, rm.households != 0, rm.hamlet_id.in_(_hamlets(root))))
    else:
        counted = (sa.select(hm.hamlet_id, sa.func.count(sa.distinct(hm.household_id)))
                   .join(Household, sa.and_(Household.id == hm.household_id, Household.merged_into_id.is_(None)))
                   .where(hm.month.between(first, last), hm.hamlet_id.in_(_hamlets(root)))
                   .group_by(hm.hamlet_id))
    reached = {h: int(n) for h, n in db.session.execute(counted)}
    return visits, reached, teams_in_hamlet, active_teams


def hamlets_ended_during(communes, period: Period) -> dict[int, int]:
    """{hamlet: its commune} of the hamlets a merge or a split ended during the period, in the communes given (a
    root's subtree or a list of ids): they stood on its first days, so their visits of those days are the
    period's, counted under the commune where they were logged (app/units/hamlet_changes.py moves only the
    later ones)."""
    start = date(period.year, period.first, 1)
    return dict(db.session.execute(
        sa.select(HamletChange.from_unit_id, HamletChange.commune_id).distinct()
        .join(AdminUnit, AdminUnit.id == HamletChange.from_unit_id)
        .where(HamletChange.kind.in_(("merge", "split")), HamletChange.commune_id.in_(subtree_ids(communes)),
               AdminUnit.retired_on > start, AdminUnit.retired_on <= period.end)).all())


@dataclass
class Mover:
    """A household that moved to another hamlet during a period and was visited in it."""
    visited_in: set[int]  # the hamlets its visits of the period were recorded in
    at_end: int  # the hamlet it was in at the period's end


def movers_visited(root, period: Period) -> dict[int, Mover]:
    """{household: Mover} of the households that moved to another hamlet during the period (by themselves, by a merge
    or by a split) and were visited in it in the root's hamlets: only a move puts one household's visits of a period
    in two hamlets (app/units/hamlet_changes.py). Merged households are left out, as the month tables leave them out."""
    first, last = period.keys
    hm, moves = HouseholdMonth, HouseholdMove
    moved = sa.select(moves.household_id).where(moves.moved_on.between(date(period.year, period.first, 1), period.end))
    visited: dict[int, set[int]] = defaultdict(set)
    for household_id, hamlet_id in db.session.execute(
            sa.select(hm.household_id, hm.hamlet_id)
            .join(Household, sa.and_(Household.id == hm.household_id, Household.merged_into_id.is_(None)))
            .where(hm.household_id.in_(moved), hm.month.between(first, last), hm.hamlet_id.in_(_hamlets(root)))):
        visited[household_id].add(hamlet_id)
    at_end: dict[int, int] = {}
    for chunk in chunks(sorted(visited)):
        # Each one's moves up to the period's end in order: the last one says where it was then.
        for household_id, hamlet_id in db.session.execute(
                sa.select(moves.household_id, moves.to_hamlet_id)
                .where(moves.household_id.in_(chunk), moves.moved_on <= period.end)
                .order_by(moves.household_id, moves.moved_on, moves.id)):
            at_end[household_id] = hamlet_id
    return {h: Mover(hamlets, at_end[h]) for h, hamlets in visited.items()}


def hamlets_beyond_commune(hamlet_commune: dict[int, int], period: Period, heirs: bool = False) -> dict[int, dict]:
    """What the adult figures of a commune's hamlet rows count beyond the commune's own total, per commune
    ({commune: {"named": n, "attendances": n, "working": {service_id: n}}}), given each hamlet row's commune
    (where it stands in the report). A named learner counts in each hamlet recorded as their home, or where
    they came to a class with no home given, and once in the commune: k hamlets are k - 1 too many. A class
    another commune recorded in a hamlet (before a reorganization moved it here) counts in the hamlet's row,
    not in this commune's total, unless `heirs` (today's map) and this commune carries the other's figures
    (app.units.history.commune_heirs: an old commune's classes count in its heir's total too). So the commune's
    figures in no hamlet are its total, less its hamlet rows, plus these."""
    out: dict[int, dict] = {c: {"named": 0, "attendances": 0, "working": {}} for c in set(hamlet_commune.values())}
    if not out:
        return out
    home = sa.func.coalesce(ClassLearner.hamlet_id, Class.place_hamlet_id)
    learners = (sa.select(Class.commune_id, ClassLearner.person_key, home.label("home"))
                .select_from(ClassLearner).join(Class, Class.id == ClassLearner.class_id)
                .where(home.isnot(None), Class.held_on <= period.end))
    homes: dict[tuple[int, str], set[int]] = defaultdict(set)
    for chunk in chunks(sorted(out)):
        # Only the learners of the commune recorded with more than one home hamlet (a few), then their homes.
        several = (learners.with_only_columns(Class.commune_id.label("c"), ClassLearner.person_key.label("p"))
                   .where(Class.commune_id.in_(chunk)).group_by(Class.commune_id, ClassLearner.person_key)
                   .having(sa.func.count(sa.distinct(home)) > 1).subquery())
        for commune_id, person, hamlet_id in db.session.execute(
                learners.join(several, sa.and_(several.c.c == Class.commune_id, several.c.p == ClassLearner.person_key))
                .distinct()):
            if hamlet_commune.get(hamlet_id) == commune_id:
                homes[(commune_id, person)].add(hamlet_id)
    for (commune_id, _person), hamlets in homes.items():
        out[commune_id]["named"] += len(hamlets) - 1
    carried_by = commune_heirs() if heirs else {}
    first, last = period.keys
    a = ActivityMonth
    for chunk in chunks(sorted(hamlet_commune)):
        for hamlet_id, commune_id, measure, n in db.session.execute(
                sa.select(a.unit_id, a.commune_id, a.measure, sa.func.sum(a.n))
                .where(a.unit_id.in_(chunk), a.commune_id != a.unit_id, a.month.between(first, last))
                .group_by(a.unit_id, a.commune_id, a.measure)):
            here = hamlet_commune[hamlet_id]
            if commune_id == here or here in carried_by.get(commune_id, ()) or not n:
                continue
            if measure == ATTENDANCES:
                out[here]["attendances"] += int(n)
            else:
                out[here]["working"][measure] = out[here]["working"].get(measure, 0) + int(n)
    return out


def _carried(period: Period, before):
    """(hamlet left, hamlet reached, service, households) of the period's moves (household_moves) and the adoptions
    each carried, as the coverage triggers carry them: those recorded in the hamlet the move's events were recorded
    in, dated before `before` (a day, or a column of the move), of households not merged into another."""
    m, a = HouseholdMove, Adoption
    return (sa.select(m.from_hamlet_id, m.to_hamlet_id, a.service_id, sa.func.count())
            .join(a, sa.and_(a.household_id == m.household_id, a.hamlet_id == m.recorded_in_id, a.adopted_on < before))
            .join(Household, sa.and_(Household.id == m.household_id, Household.merged_into_id.is_(None)))
            .where(m.moved_on.between(date(period.year, period.first, 1), period.end))
            .group_by(m.from_hamlet_id, m.to_hamlet_id, a.service_id))


def new_adoptions_in(root: AdminUnit, period: Period) -> dict[int, dict[int, int]]:
    """{hamlet_id: {service_id: households that first adopted the service in the period}}, each in the hamlet it
    belonged to at the period's end: each hamlet's own coverage tallies of its months (app/coverage/store.py), less
    what a move (the household's own, a merge's or a split's) carried in or out during the period of adoptions made
    before it. The tallies carry those in the month of the move, so that coverage counts them where the household
    went, but they are no new adoption of the period; the period's own go with the household, to where it is at the
    end. A household adopts a service once, so a quarter's months add up, and no hamlet comes out below zero."""
    first, last = period.keys
    counted: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    t = CoverageTally
    hamlets = _hamlets(root)
    for h, s, n in db.session.execute(
            sa.select(t.unit_id, t.service_id, sa.func.sum(t.households))
            .where(t.month.between(first, last), t.service_id != 0, t.households != 0, t.unit_id.in_(hamlets))
            .group_by(t.unit_id, t.service_id)):
        counted[h][s] += int(n)
    carried = _carried(period, date(period.year, period.first, 1)).where(
        sa.or_(HouseholdMove.from_hamlet_id.in_(hamlets), HouseholdMove.to_hamlet_id.in_(hamlets)))
    for left, reached, s, n in db.session.execute(carried):
        counted[left][s] += n
        counted[reached][s] -= n
    return {h: {s: n for s, n in by.items() if n} for h, by in counted.items() if any(by.values())}


def hamlets_adopters_moved_into(root, period: Period) -> set[int]:
    """The hamlets of the root that a household reached by a move during the period carrying an adoption (made
    before the move): their commune's report says where such a household's new adoptions count."""
    hamlets = _hamlets(root)
    carried = _carried(period, HouseholdMove.moved_on).where(HouseholdMove.to_hamlet_id.in_(hamlets))
    return {reached for _left, reached, _s, _n in db.session.execute(carried)}


def _teams_existing(end: date):
    """Teams that existed at the end of the month (set up by then and not yet dissolved)."""
    return sa.and_(sa.or_(Team.decision_date.is_(None), Team.decision_date <= end),
                   sa.or_(Team.dissolved_on.is_(None), Team.dissolved_on > end))


def _open_membership(end: date):
    return sa.and_(Membership.joined_on <= end,
                   sa.or_(Membership.left_on.is_(None), Membership.left_on > end))


def teams_by_commune(root: AdminUnit, end: date, active_teams: set[int],
                     in_time: bool = False) -> dict[int, tuple[int, int, int]]:
    """{commune_id: (teams, teams with a visit in the month, members at the end of the month)};
    `in_time`: each team under the commune it was in at the month's end (the map as it was: a
    reorganization moved teams with their hamlets), else under its commune today. The teams are those
    that existed at the month's end and those that logged a visit in it (one dissolved after its
    visits worked that month): a commune never has more active teams than teams."""
    commune = team_commune_on(end) if in_time else Team.commune_id
    in_tree = commune.in_(subtree_ids(root))
    totals: dict[int, int] = defaultdict(int)
    active: dict[int, int] = defaultdict(int)
    for team_id, commune_id, existing in db.session.execute(
            sa.select(Team.id, commune, sa.case((_teams_existing(end), True), else_=False)).where(in_tree)):
        worked = team_id in active_teams
        if existing or worked:
            totals[commune_id] += 1
        if worked:
            active[commune_id] += 1
    members = dict(db.session.execute(
        sa.select(commune, sa.func.count(sa.distinct(Membership.member_id)))
        .join(Membership, Membership.team_id == Team.id)
        .where(in_tree, _teams_existing(end), _open_membership(end)).group_by(commune)).all())
    return {c: (totals.get(c, 0), active.get(c, 0), int(members.get(c, 0))) for c in set(totals) | set(members)}


def teams_by_hamlet(root: AdminUnit, end: date,
                    teams_in_hamlet: dict[int, set[int]]) -> dict[int, tuple[int, int, int]]:
    """Like teams_by_commune, for the teams serving each hamlet (a team may serve several) at the
    month's end and those that logged a visit in it; active = teams that logged a visit in the hamlet
    in the month."""
    th = team_hamlets
    in_tree = th.c.hamlet_id.in_(subtree_ids(root))
    teams: dict[int, set[int]] = defaultdict(set)
    for hamlet_id, team_id in db.session.execute(
            sa.select(th.c.hamlet_id, Team.id).join(Team, Team.id == th.c.team_id)
            .where(in_tree, _teams_existing(end))):
        teams[hamlet_id].add(team_id)
    members = dict(db.session.execute(
        sa.select(th.c.hamlet_id, sa.func.count(sa.distinct(Membership.member_id)))
        .join(Team, Team.id == th.c.team_id).join(Membership, Membership.team_id == Team.id)
        .where(in_tree, _teams_existing(end), _open_membership(end)).group_by(th.c.hamlet_id)).all())
    return {h: (len(teams.get(h, set()) | teams_in_hamlet.get(h, set())), len(teams_in_hamlet.get(h, ())),
                int(members.get(h, 0)))
            for h in set(teams) | set(teams_in_hamlet) | set(members)}
