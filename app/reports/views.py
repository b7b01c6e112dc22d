"""Monthly and quarterly summary pages, their exports, and month closing."""
import dataclasses

import sqlalchemy as sa
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.activities.models import CentreShift, Class
from app.audit.models import done_by
from app.auth.guard import require_sign_in
from app.dates import month_end, month_label, month_start, parse_month, today_vn
from app.downloads import file_name, send_download, unit_slug
from app.extensions import db
from app.paging import RowPage
from app.reports import closing, exports
from app.reports.forms import CloseMonthForm, MonthForm, QuarterForm, ReopenMonthForm
from app.reports.message import summary_message
from app.reports.models import MonthClosure
from app.reports.periods import Period
from app.reports.summary import summary_of
from app.scope import (
    can_see_in_time,
    found_or_abort,
    get_unit_in_time_or_404,
    get_unit_or_404,
    is_staff,
    roles_required,
)
from app.units.history import last_counted_month, predecessors_on
from app.units.models import AdminUnit
from app.visits.models import Visit

bp = Blueprint("reports", __name__, url_prefix="/reports")
require_sign_in(bp, allow=is_staff)


def previous_month() -> str:
    today = today_vn()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def previous_quarter() -> str:
    today = today_vn()
    year, quarter = today.year, (today.month + 2) // 3 - 1
    return Period.quarter(*((year, quarter) if quarter else (year - 1, 4))).label


# A summary covers a month or a quarter: each has its page, printable page and downloads, and the
# address names it by `month=YYYY-MM` or `quarter=YYYY-Qn`.
PERIODS = {
    "month": {"param": "month", "form": MonthForm, "default": previous_month, "page": "reports.monthly",
              "print": "reports.monthly_print", "xlsx": "reports.monthly_xlsx", "csv": "reports.monthly_csv"},
    "quarter": {"param": "quarter", "form": QuarterForm, "default": previous_quarter, "page": "reports.quarterly",
                "print": "reports.quarterly_print", "xlsx": "reports.quarterly_xlsx", "csv": "reports.quarterly_csv"},
}


def _period_form(kind: str):
    p = PERIODS[kind]
    if p["param"] in request.args:
        return p["form"](request.args)
    return p["form"](data={p["param"]: p["default"]()})


def _asked_period(kind: str, form) -> Period:
    if kind == "month":
        return Period.month(*form.month.parsed)
    return Period.quarter(*form.quarter.parsed)


@bp.get("/")
def index():
    return redirect(url_for("reports.monthly", unit_id=current_user.unit_id, month=previous_month()))


MAPS = ("today", "then")


def _map_mode(unit: AdminUnit) -> str:
    """Today's units, or the map as it was in the month; unasked, the old map for a unit that ended."""
    asked = request.args.get("map")
    if asked in MAPS:
        return asked
    return "today" if unit.retired_on is None else "then"


def _summary_or_error(unit_id: int, kind: str):
    unit = get_unit_in_time_or_404(unit_id)
    form = _period_form(kind)
    if not form.validate():
        return unit, form, None
    period = _asked_period(kind, form)
    as_then = _map_mode(unit) == "then"
    if as_then and not unit.valid_on(period.end):
        return unit, form, None  # the page names the units that stood for it then
    return unit, form, summary_of(unit, period, as_then=as_then)


def _context(unit: AdminUnit, kind: str, summary, form):
    ancestors = [a for a in unit.ancestors() if can_see_in_time(a)]
    param = PERIODS[kind]["param"]
    mode, stand_ins, period, ended = _map_mode(unit), [], None, None
    if not form.errors and form[param].parsed:
        period = _asked_period(kind, form)
        if summary is None:
            stand_ins = [u for u, _split in predecessors_on(unit, period.end)]
            if unit.retired_on is not None and month_start(period.year, period.first) < unit.retired_on <= period.end:
                # It ended during the period: counted at the period's end, it was last counted earlier.
                last = last_counted_month(unit)
                ended = {"day": unit.last_day, "month": Period.month(*last)}

    def period_url(endpoint: str, unit_id: int, value: str, **args) -> str:
        """A link to a summary of the period: `month=` or `quarter=` first, as people read an address."""
        return url_for(endpoint, unit_id=unit_id, **{param: value}, **args)
    map_param = request.args.get("map") if request.args.get("map") in MAPS else None
    return {"unit": unit, "ancestors": ancestors, "period_url": period_url, "summary": summary, "map_mode": mode,
            "stand_ins": stand_ins, "map_param": map_param, "ended": ended,
            "service_name": exports.service_name, "may_close": closing.can_close(unit, current_user),
            "form": form, "kind": kind, "routes": PERIODS[kind], "param": param,
            "period_field": form[param], "period": period, "words": Period.words_of(kind),
            "period_over": period is not None and period.end < today_vn(), "summary_title": exports.title,
            "switch_to": _switch_to(kind, period, unit, map_param),
            "message": summary_message(summary, exports.service_name) if summary else None,
            # Each unit's name in the tables links to its own summary of the same period.
            "unit_url": (lambda uid: period_url(PERIODS[kind]["page"], uid, summary.month_label)) if summary else None}


def _switch_to(kind: str, period: Period | None, unit: AdminUnit, map_param: str | None) -> dict[str, str]:
    """The links between a unit's two summaries, keeping the time asked: a month's quarter, a quarter's
    last month (or this month, for the quarter under way)."""
    other_kind = "quarter" if kind == "month" else "month"
    asked = {}
    if period is not None and kind == "month":
        asked = {"quarter": Period.quarter(period.year, period.quarter_number).label}
    elif period is not None:
        today = today_vn()
        asked = {"month": Period.month(*min((period.year, period.last), (today.year, today.month))).label}
    return {kind: url_for(PERIODS[kind]["page"], unit_id=unit.id, map=map_param),
            other_kind: url_for(PERIODS[other_kind]["page"], unit_id=unit.id, **asked, map=map_param)}


def _page(unit_id: int, kind: str):
    """A period's summary on screen, 20 units below at a time with the total (a province of 103
    communes was ~260,000 px tall on a phone); the printable page and the downloads hold every unit."""
    unit, form, summary = _summary_or_error(unit_id, kind)
    status = 200 if summary is not None or not form.errors else 400
    rows = None
    if summary is not None:
        rows = RowPage.asked(len(summary.children), request.args.get("page"))
        summary = dataclasses.replace(summary, children=rows.of(summary.children))
    context = _context(unit, kind, summary, form)

    def page_url(n: int) -> str:
        return context["period_url"](PERIODS[kind]["page"], unit.id, context["period_field"].data,
                                     map=context["map_param"], page=n if n > 1 else None)
    return render_template("reports/summary.html", rows=rows, page_url=page_url, **context), status


def _print(unit_id: int, kind: str):
    unit, form, summary = _summary_or_error(unit_id, kind)
    if summary is None:
        return render_template("reports/summary.html", **_context(unit, kind, None, form)), 400
    return render_template("reports/print.html", **_context(unit, kind, summary, form))


def _download(unit_id: int, kind: str, ext: str):
    unit, form, summary = _summary_or_error(unit_id, kind)
    if summary is None:
        return render_template("reports/summary.html", **_context(unit, kind, None, form)), 400
    name = file_name("bao-cao", unit_slug(unit), summary.month_label, ext=ext)
    if ext == "xlsx":
        body, mimetype = exports.write_xlsx(summary), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = exports.write_csv(summary), "text/csv; charset=utf-8"
    return send_download(body, name, mimetype)


@bp.get("/<int:unit_id>/monthly")
def monthly(unit_id: int):
    return _page(unit_id, "month")


@bp.get("/<int:unit_id>/monthly/print")
def monthly_print(unit_id: int):
    return _print(unit_id, "month")


@bp.get("/<int:unit_id>/monthly.xlsx")
def monthly_xlsx(unit_id: int):
    return _download(unit_id, "month", "xlsx")


@bp.get("/<int:unit_id>/monthly.csv")
def monthly_csv(unit_id: int):
    return _download(unit_id, "month", "csv")


@bp.get("/<int:unit_id>/quarterly")
def quarterly(unit_id: int):
    """A quarter's summary: its three months' activity, coverage at its end (app/reports/periods.py)."""
    return _page(unit_id, "quarter")


@bp.get("/<int:unit_id>/quarterly/print")
def quarterly_print(unit_id: int):
    return _print(unit_id, "quarter")


@bp.get("/<int:unit_id>/quarterly.xlsx")
def quarterly_xlsx(unit_id: int):
    return _download(unit_id, "quarter", "xlsx")


@bp.get("/<int:unit_id>/quarterly.csv")
def quarterly_csv(unit_id: int):
    return _download(unit_id, "quarter", "csv")


@bp.route("/closing", methods=["GET", "POST"])
@roles_required("province", "admin")
def closing_page():
    province = get_unit_or_404(current_user.unit.province_id, need=closing.can_close)
    form = CloseMonthForm(prefix="close")
    status = 200
    asking = None
    if form.validate_on_submit():
        year, month = form.month.parsed
        refusal = closing.closing_refusal(province, year, month, current_user)
        if refusal:
            form.month.errors.append(refusal)
        elif form.confirm.data != form.month.data:
            # Every team's visits, classes and shifts of the month are locked by it: what it holds is shown, then a
            # second tap.
            form.confirm.data = form.month.data
            asking = {"month": month_label(year, month), **_held_in(province, year, month)}
        else:
            closing.close_month(province, year, month, current_user)
            db.session.commit()
            flash(_("Month %(month)s closed. Its figures are now fixed.", month=month_label(year, month)), "success")
            return redirect(url_for("reports.closing_page"))
    if form.is_submitted() and asking is None:
        status = 400
    elif not form.month.data:
        form.month.data = previous_month()
    return render_template("reports/closing.html", province=province, form=form, asking=asking,
                           closures=closing.closures_of(province)), status


def _held_in(province: AdminUnit, year: int, month: int) -> dict[str, int]:
    """What closing the month locks in the province: its visits (by hamlet), classes and one-stop-centre shifts
    (by commune) dated in it."""
    first, last, units = month_start(year, month), month_end(year, month), AdminUnit.subtree_ids(province)

    def count(model, day, unit) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(
            day.between(first, last), unit.in_(units))) or 0
    return {"visits": count(Visit, Visit.visited_on, Visit.hamlet_id),
            "classes": count(Class, Class.held_on, Class.commune_id),
            "shifts": count(CentreShift, CentreShift.held_on, CentreShift.commune_id)}


@bp.route("/closing/<int:closure_id>/reopen", methods=["GET", "POST"])
@roles_required("province", "admin")
def reopen(closure_id: int):
    """Reopen a closed month (closed by mistake, or for late visits): the reason goes to the audit trail."""
    province = get_unit_or_404(current_user.unit.province_id, need=closing.can_close)
    closure = db.session.scalar(sa.select(MonthClosure).where(
        MonthClosure.id == closure_id, MonthClosure.province_id == province.id))
    if closure is None and request.method == "POST":
        done = done_by(current_user, "month_closure", closure_id, action="reopen_month")
        if done is not None and done.unit_id == province.id:
            # The form sent again (double tap, back button): the month is open already.
            month = parse_month(next((b for key, b, _a in done.change_items if key == "month"), None))
            flash(_("Month %(month)s was already reopened.", month=month_label(*month) if month else ""), "info")
            return redirect(url_for("reports.closing_page"), 303)
    closure = found_or_abort(closure)
    form = ReopenMonthForm()
    label = month_label(closure.year, closure.month)
    if form.validate_on_submit():
        try:
            closing.reopen_month(closure, current_user, form.reason.data)
        except closing.ClosingError as exc:
            form.reason.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Month %(month)s reopened. Its figures will change with the visits again.", month=label),
                  "success")
            return redirect(url_for("reports.closing_page"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("reports/reopen.html", province=province, closure=closure, form=form,
                           month_label=label), status
