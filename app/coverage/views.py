"""Coverage pages: a unit's children against their targets as of a month, and its trend."""
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app import versions
from app.audit.models import removed_milestone_by
from app.auth.guard import require_sign_in
from app.catalogue.milestones import NEW, edited_milestone, milestone_problem
from app.catalogue.operations import in_force
from app.coverage import adults, charts, maps, queries
from app.coverage.ancestors import get_unit_and_ancestors_or_404
from app.coverage.cells import CellWriter
from app.coverage.forms import AdultTargetForm
from app.coverage.models import AdultTarget
from app.coverage.team_month import team_message, team_month
from app.dates import MONTH_MESSAGE, month_end, parse_month, today_vn
from app.extensions import db
from app.fragments import render_page, wants_fragment
from app.paging import RowPage
from app.scope import (
    FIELD_ROLES,
    STAFF_ROLES,
    can_manage_services,
    found_or_abort,
    get_unit_in_time_or_404,
    roles_required,
    team_hamlets_query,
)
from app.templating import locale_date, target_percent
from app.text import by_name, sort_key
from app.units import hamlet_changes
from app.units.history import before_note, carried_on_by, commune_figures_note, successors

bp = Blueprint("coverage", __name__, url_prefix="/coverage")
require_sign_in(bp)
TREND_MONTHS = 12
# Today's units (a new commune's earlier months are its hamlets' figures), or the map as it was in
# the month shown (the units valid then, under their parents then).
MAPS = ("today", "then")


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    return redirect(url_for("coverage.show", unit_id=current_user.unit_id))


def _month_label(year: int, month: int, locale: str | None = None) -> str:
    return locale_date(month_end(year, month), "MM/yyyy", locale)


def _map_mode(unit) -> str:
    """The map asked for; unasked, today's for a unit valid today, the old map for one that ended."""
    asked = request.args.get("map")
    if asked in MAPS:
        return asked
    return "today" if unit.retired_on is None else "then"


def _map_param() -> str | None:
    """The map asked for in the query string, to carry in links (None when not asked)."""
    asked = request.args.get("map")
    return asked if asked in MAPS else None


def _last_month(unit) -> tuple[int, int] | None:
    """The month a page opens on for a unit that ended: its last one (today's month otherwise)."""
    if unit is None or unit.retired_on is None:
        return None
    last = unit.last_day
    return last.year, last.month


def _chosen_month(unit=None) -> tuple[tuple[int, int] | None, str | None]:
    """The month asked for, or an error message saying why it cannot be shown."""
    raw = request.args.get("month", "").strip()
    current = queries.default_month()
    if not raw:
        return _last_month(unit) or current, None
    chosen = parse_month(raw)
    if chosen is None:
        return None, str(MONTH_MESSAGE)
    if chosen > current:  # a month to come: the current one is shown, figures as of today
        return None, _("This month has not begun yet; choose the current or an earlier month.")
    first = queries.first_data_month() or current
    if chosen < first:
        return None, _("There are no records before %(month)s: choose %(month)s or a later month.",
                       month=_month_label(*first))
    return chosen, None


def _figure_key(sort: str, services):
    """The key that orders rows by the figure asked for, or None for name order (an unknown column too)."""
    if sort.startswith("s-") and sort[2:] not in {s.code for s in services}:
        return None
    return _sort_key(sort)


def _sort_key(sort: str):
    if sort in ("households", "reached"):
        return lambda r: getattr(r, sort)
    if sort == "reach":
        return lambda r: (r.reach_share is not None, r.reach_share or 0)
    if sort.startswith("s-"):
        code = sort[2:]
        return lambda r: (r.services[code].share is not None, r.services[code].share or 0)
    return None


@bp.get("/<int:unit_id>")
@roles_required(*STAFF_ROLES)
def show(unit_id: int):
    unit, ancestors = get_unit_and_ancestors_or_404(unit_id)
    mode = _map_mode(unit)
    chosen, error = _chosen_month(unit)
    sort = request.args.get("sort", "name")
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    if sort == "share":  # the phone form's "lowest share first": the chosen service's column
        sort, direction = f"s-{request.args.get('service', '')}", "asc"
    context = dict(unit=unit, ancestors=ancestors, error=error, sort=sort, dir=direction,
                   month_value=request.args.get("month", "")[:20], table=None, series=None, charts=None,
                   map_mode=mode, map_param=_map_param(),
                   map_links={m: coverage_url(unit.id, map=m) for m in MAPS},
                   before=before_note(unit), stand_ins=[], absent=False,
                   # An ended unit: where its hamlets are now, and where they went first when a later plan moved
                   # them on again (said, not linked).
                   successors=carried_on_by(unit) if unit.retired_on else [],
                   went_first=successors(unit) if unit.retired_on else [],
                   # A hamlet a merge or a split ended: where its households went (their figures carry on there).
                   ending=hamlet_changes.endings([unit]).get(unit.id) if unit.level == "hamlet" else None)
    table = rows = None
    key = _figure_key(sort, queries.services_and_targets(unit)[0])  # None: name order
    if chosen is not None:
        year, month = chosen
        # The month in progress is counted up to today, not to its end still to come.
        context.update(month_value=f"{year}-{month:02d}", month_label=_month_label(year, month),
                       in_progress=(year, month) == queries.default_month())
        if mode == "then":
            then = maps.coverage_then(unit, month_end(year, month))
            table, context["stand_ins"], context["absent"] = then.table, then.stand_ins, then.table is None
        elif key is None:
            # In name order only the page's rows are built (a province of 168 communes costs a page).
            table, rows = queries.coverage_by_name(unit, month_end(year, month), request.args.get("page"),
                                                   descending=direction == "desc")
        else:
            table = queries.coverage(unit, month_end(year, month))
    if table is not None:
        if rows is None:
            # Names in Vietnamese order first, so rows tied on a figure stay in that order.
            table.rows.sort(key=lambda r: sort_key(r.name), reverse=key is None and direction == "desc")
            if key is not None:
                table.rows.sort(key=key, reverse=direction == "desc")
            # Sorted whole, written out a page at a time (app/paging.py).
            rows = RowPage.asked(len(table.rows), request.args.get("page"))
            table.rows = rows.of(table.rows)
        if key is None:
            sort = "name"
        chosen_service = _chosen_service(table.services)
        writer = CellWriter(table.services)
        link = _unit_link()
        keys = ["name", "households", "reached", "reach"] + [f"s-{s.code}" for s in table.services]
        code = chosen_service.code if chosen_service else None
        urls = [link(row.unit.id) if row.unit else None for row in table.rows]
        table_rows, cards = writer.body(table.rows, urls, code)
        # Joined here, each followed by the template's line break, rather than looped over in the template,
        # whose every item went through its nested blocks' generators (~16 calls a row; the same bytes).
        context.update(table=table, table_rows=_lines(table_rows, "\n    "), cards=_lines(cards, "\n  "),
                       total_cells=writer.cells(table.total),
                       sort=sort, rows=rows,
                       page_url=lambda n: coverage_url(unit.id, sort=sort, page=n if n > 1 else None),
                       total_card=code and writer.card(table.total, code),
                       sort_links=_sort_links(unit.id, keys, sort, direction),
                       services=table.services, trend_first=_first_trend_month(year, month),
                       service=chosen_service, counts_from=_counts_from(unit, table, mode))
        if request.args.get("adults"):  # the page without JavaScript, asked for with its adult section
            children = _adult_children(unit, year, month, mode)
            context.update(_adult_section(unit, children, year, month, table.services, mode, writer))
        if request.args.get("trend"):  # the page without JavaScript, asked for with its trend
            context.update(_trend(unit, year, month, table.services, mode))
    status = 400 if error else 200
    return render_page("coverage/show.html", "coverage/_content.html", **context), status


def _lines(items: list[Markup], after: str) -> Markup:
    """Markup items (written and escaped by CellWriter) each followed by `after`, as one Markup."""
    return Markup(after.join(items) + after) if items else Markup("")


def _chosen_service(services):
    """The service a phone shows per unit (GET ?service=CODE): the first one unless a known code is asked for."""
    code = request.args.get("service", "")
    return next((s for s in services if s.code == code), services[0] if services else None)


def _first_trend_month(year: int, month: int) -> str:
    return _month_label(*queries.last_months(year, month, TREND_MONTHS)[0])


def _counts_from(unit, table, mode: str) -> str:
    """Which household count the figure uses, said in words under the title."""
    if table.rows and unit.level != "hamlet":
        if mode == "then":
            return _("Households: the sum of the counts in effect then of the hamlets it held at the end of the "
                     "month.")
        return _("Households: the sum of the counts in effect then of the hamlets it holds today (each "
                 "hamlet's counts went with it).")
    return _("Households: its own count in effect at the end of the month.")


def _trend(unit, year: int, month: int, services, mode: str = "today") -> dict:
    months = queries.last_months(year, month, TREND_MONTHS)
    if mode == "then":
        series = [m for m in maps.series_then(unit, months) if m is not None]
    else:
        series = queries.monthly_series(unit, months)
    writer = CellWriter(services)
    # Each month's label made once, in the writer's language: the table, every chart and the adults'
    # rows show the same twelve.
    labels = {m: _month_label(*m, writer.locale) for m in months}
    rows = [(labels[m.year, m.month], writer.shares(m.row)) for m in series]
    adult_series = (adults.adult_months_then if mode == "then" else adults.adult_months)([unit], months)[unit.id]
    return dict(series=series, trend_rows=rows,
                charts=[charts.service_chart(s, series, lambda y, m: labels[y, m]) for s in services],
                adult_trend=[(labels[m], adult_series[m]) for m in months])


def _adult_section(unit, children, year: int, month: int, services, mode: str, writer: CellWriter) -> dict:
    """The adult section's table and its rows' cells: the unit and its children, which come by name in the
    household table's order (Vietnamese: "Dương" before "Đa"), so a page of each lists the same units."""
    rows = RowPage.asked(len(children), request.args.get("apage"))  # its own page of units, by name
    adult = adults.adult_table(unit, rows.of(children), year, month, services, then=mode == "then")
    named, online = (float(t.share) if t else None for t in (adult.named_target, adult.online_target))
    month_value = f"{year}-{month:02d}"
    figure_rows, working_rows = writer.adult_body(adult.rows, adult.total, _("Total: %(name)s", name=unit.name),
                                                  named, online, adult.services)
    return dict(adult=adult, adult_rows=rows, adult_figure_rows=figure_rows, adult_working_rows=working_rows,
                figures_note=commune_figures_note(unit) if mode == "today" else None,
        adult_href=lambda n: coverage_url(unit.id, month=month_value, page=request.args.get("page"), adults=1,
                                          apage=n if n > 1 else None) + "#adults",
        adult_hx=lambda n: url_for("coverage.adult_section", unit_id=unit.id, month=month_value, map=_map_param(),
                                   apage=n if n > 1 else None))


def _section_month(unit, section: str):
    """The month of a section the page loads when it is scrolled to, or the answer instead: the error for a bad
    month (400), or for a plain request (a bookmark) the whole page with that section included."""
    chosen, error = _chosen_month(unit)
    if error:
        return None, (render_template("coverage/_section_error.html", section=section, error=error), 400)
    if not wants_fragment():
        month = f"{chosen[0]}-{chosen[1]:02d}"
        return None, redirect(coverage_url(unit.id, month=month, apage=request.args.get("apage"), **{section: 1})
                              + f"#{section}")
    return chosen, None


def _adult_children(unit, year: int, month: int, mode: str):
    """The units of the adult section: those of the coverage table, all of them, by name in its order
    (None: the unit did not exist)."""
    if mode == "then":
        table = maps.coverage_then(unit, month_end(year, month)).table
        return None if table is None else by_name([r.unit for r in table.rows if r.unit is not None])
    return queries.child_units(unit, month_end(year, month))


@bp.get("/<int:unit_id>/adults")
@roles_required(*STAFF_ROLES)
def adult_section(unit_id: int):
    """The adult section alone, which the page loads when it is scrolled to (htmx), as the trend."""
    unit = get_unit_in_time_or_404(unit_id)
    chosen, answer = _section_month(unit, "adults")
    if answer is not None:
        return answer
    year, month = chosen
    mode = _map_mode(unit)
    children = _adult_children(unit, year, month, mode)
    if children is None:  # the unit did not exist that month: its page shows no section either
        abort(404)
    services, _targets = queries.services_and_targets(unit)
    return render_template("coverage/_adults.html", unit=unit, month_label=_month_label(year, month),
                           **_adult_section(unit, children, year, month, services, mode, CellWriter(services)))


@bp.get("/<int:unit_id>/trend")
@roles_required(*STAFF_ROLES)
def trend(unit_id: int):
    """The month-by-month section alone, which the page loads when it is scrolled to (htmx)."""
    unit = get_unit_in_time_or_404(unit_id)
    chosen, answer = _section_month(unit, "trend")
    if answer is not None:
        return answer
    year, month = chosen
    services, _targets = queries.services_and_targets(unit)
    return render_template("coverage/_trend.html", unit=unit, services=services, month_label=_month_label(year, month),
                           trend_first=_first_trend_month(year, month),
                           **_trend(unit, year, month, services, _map_mode(unit)))


@bp.get("/team")
@roles_required(*FIELD_ROLES)
def team():
    """A team leader's or member's progress: their team's hamlets against the province's targets.

    Only the hamlets the team serves (scope.team_hamlets_query), each as a whole (all its households,
    whichever team visited them), and their sum; never another team's rows or another commune."""
    chosen, error = _chosen_month()
    hamlets = sorted(db.session.scalars(team_hamlets_query()), key=lambda h: sort_key(h.name))
    context = dict(team=current_user.team, error=error, month_value=request.args.get("month", "")[:20],
                   hamlets=[], total=None, services=[])
    if chosen is not None and hamlets:
        year, month = chosen
        on = month_end(year, month)
        tables = [queries.coverage(h, on) for h in hamlets]
        # A hamlet ended by then holds no households: a merge or a split took them into hamlets the team serves
        # too (which count them), one retired by hand left the figures. It is named with how it ended, no figures,
        # unless it never had a count (one entered by mistake).
        standing = [t for t in tables if t.unit.retired_on is None or t.unit.retired_on > on]
        ended = [t.unit for t in tables if t not in standing and t.total.households]
        label = _month_label(year, month)
        # The month in progress counts up to today, not to its end still to come.
        as_of = today_vn() if (year, month) == queries.default_month() else None
        context.update(ended=ended, endings=hamlet_changes.endings(ended), month_value=f"{year}-{month:02d}",
                       month_label=label, as_of=as_of)
        if standing:
            total = queries.sum_rows([t.total for t in standing])
            done = team_month(current_user.team_id, year, month)
            context.update(hamlets=[(t.unit, t.total) for t in standing], total=total, services=standing[0].services,
                           message=team_message(current_user.team.name, label, done, standing[0].services, total,
                                                as_of=locale_date(as_of) if as_of else None))
    return render_template("coverage/team.html", **context), 400 if error else 200


def _sort_links(unit_id: int, keys: list[str], sort: str, direction: str) -> dict[str, str]:
    """Each column header's link: the month kept, that column, the other direction if it is the
    sorted one. One url_for for the table instead of one per header."""
    base = url_for("coverage.show", unit_id=unit_id)
    month = {k: request.args[k] for k in ("month", "service", "map") if request.args.get(k)}
    return {key: f"{base}?" + urlencode(month | {"sort": key,
                                                 "dir": "desc" if key == sort and direction == "asc" else "asc"})
            for key in keys}


def _unit_link():
    """coverage_url(unit_id) for every row of a table: one url_for, the unit's id put in its place."""
    head, marker, tail = coverage_url(0).partition("/coverage/0")
    return lambda unit_id: f"{head}/coverage/{unit_id}{tail}"


@bp.app_template_global()
def coverage_url(unit_id: int, **params):
    """A coverage link that keeps the month, sort and direction unless told otherwise."""
    asked = request.args
    args = {k: asked[k] for k in ("month", "sort", "dir", "service", "map") if asked.get(k)}
    args.update({k: v for k, v in params.items() if v is not None})
    return url_for("coverage.show", unit_id=unit_id, **args)



@bp.get("/indicators")
def indicators():
    """How each adult indicator is counted (the same definitions as docs/indicators.md)."""
    return render_template("coverage/indicators.html")


def _province_of_user():
    return found_or_abort(current_user.unit, need=_may_set_adult_targets, status=403)


def _may_set_adult_targets(unit, user) -> bool:
    return unit.level == "province" and can_manage_services(user)


@bp.route("/adult-targets", methods=["GET", "POST"])
@roles_required("admin", "province")
def adult_targets():
    """The province's targets for the adult indicators, next to the service targets. Each indicator's share and
    date change one milestone in place, as a service's target does (app/catalogue/milestones.py): by default the
    one in force today; a milestone of the list by its Edit link (?named_milestone=id); a new one by "Add a
    milestone" (?named_milestone=new). An empty share removes it."""
    province = _province_of_user()
    milestones = adults.adult_milestones(province.id)
    today = today_vn()
    form = AdultTargetForm()
    edited = {}
    for indicator, share, due_on, milestone, _confirm in form.indicators():
        own = milestones.get(indicator, [])
        if request.method == "GET":
            edited[indicator] = edited_milestone(own, request.args.get(milestone.name), today)
            milestone.data = str(edited[indicator].id) if edited[indicator] is not None else NEW
            if edited[indicator] is not None:
                share.data, due_on.data = edited[indicator].share, edited[indicator].due_on
        else:
            edited[indicator] = edited_milestone(own, milestone.data, today) if milestone.data else None
    status = 200
    if not form.is_submitted():
        form.version.data = versions.version_of(_adult_target_values(form, edited), "unit", province.id,
                                                ADULT_TARGET_EDITS)
    valid = form.validate_on_submit()
    if valid and versions.overtaken(form, province, lambda: _adult_target_values(form, _opened_on(form, province)),
                                    "unit", ADULT_TARGET_EDITS):
        milestones = adults.adult_milestones(province.id)
        edited = {indicator: edited_milestone(milestones.get(indicator, []), milestone.data, today)
                  if milestone.data else None for indicator, _s, _d, milestone, _c in form.indicators()}
        status = 409
    elif valid:
        problems = {}
        for indicator, share, due_on, milestone, confirm in form.indicators():
            problem = milestone_problem(share.data, due_on.data, milestone.data, confirm.data,
                                        milestones.get(indicator, []), edited[indicator], today)
            if problem is not None:
                problems[indicator] = problem
                due_on.errors = list(due_on.errors) + [problem[0]]
                if problem[1] == 409:
                    confirm.data = due_on.data.isoformat()
        rows = list(form.indicators())
        if not problems and all(share.data is None and due_on.data is None and edited[indicator] is None
                                for indicator, share, due_on, _milestone, _confirm in rows):
            # Nothing typed: said beside the first share, not "saved".
            rows[0][1].errors = list(rows[0][1].errors) + [_("Enter a share and its date for at least one "
                                                              "indicator.")]
            problems["nothing"] = (None, 400)
        if not problems:
            for indicator, share, due_on, _milestone, _confirm in form.indicators():
                if edited[indicator] is not None and due_on.data is not None:
                    adults.change_adult_target(edited[indicator], share.data, due_on.data, user=current_user)
                else:
                    adults.set_adult_target(province, indicator, share.data, due_on.data, user=current_user)
            db.session.commit()
            flash(_("Adult indicator targets saved."), "success")
            return redirect(url_for("coverage.adult_targets"), 303)
        # A refusal is said before a question: the question comes again once the refusal is put right.
        status = min(s for _message, s in problems.values())
    elif form.is_submitted():
        status = 400
    return render_template("coverage/adult_targets.html", province=province, form=form,
                           current=in_force(milestones, today), milestones=milestones, edited=edited), status


# The audit events of a change to the province's adult targets.
ADULT_TARGET_EDITS = ("set_adult_target",)


def _adult_target_values(form, edited: dict) -> dict:
    """What the adult targets' form holds, by its fields' names (its version, app/versions.py): the share and date of
    the milestone each indicator's fields change (none for a new one)."""
    values = {}
    for indicator, share, due_on, _milestone, _confirm in form.indicators():
        milestone = edited.get(indicator)
        values[share.name] = milestone.share if milestone is not None else None
        values[due_on.name] = milestone.due_on if milestone is not None else None
    return values


def _opened_on(form, province) -> dict:
    """The milestone each indicator's fields were opened on, as it is now: the one its hidden field names, else (a
    form without it) the one in force today, which the form opens on."""
    milestones = adults.adult_milestones(province.id)
    return {indicator: edited_milestone(milestones.get(indicator, []), milestone.data, today_vn())
            for indicator, _share, _due_on, milestone, _confirm in form.indicators()}


@bp.post("/adult-targets/<int:target_id>/remove")
@roles_required("admin", "province")
def remove_adult_target(target_id: int):
    """Remove one milestone of an adult target: only one of the staff's own province."""
    province = _province_of_user()
    target = db.session.get(AdultTarget, target_id)
    if target is None and removed_milestone_by(current_user, "unit", province.id, "set_adult_target"):
        # The remove button sent again (double tap, back button): the milestone is gone already.
        flash(_("This milestone was already removed."), "info")
        return redirect(url_for("coverage.adult_targets"), 303)
    if target is None or target.province_id != province.id:
        abort(404)
    adults.remove_adult_target(target, user=current_user)
    db.session.commit()
    flash(_("Target of %(share)s by %(date)s removed.", share=target_percent(target.share),
            date=locale_date(target.due_on)), "success")
    return redirect(url_for("coverage.adult_targets"), 303)
