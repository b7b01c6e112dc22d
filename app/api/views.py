"""JSON API v1 for the provincial operations centre: coverage of a unit and its children for a month."""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from app.api.auth import api_error, token_required
from app.api.openapi import openapi_document
from app.dates import month_end
from app.reports.summary import MonthError, build_summary, check_month
from app.scope import can_see_in_time
from app.templating import locale_date
from app.text import clean
from app.units.history import bearers_in_month, last_counted_month
from app.units.models import AdminUnit

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def adult_object(row: dict, services: list[dict], targets: dict | None) -> dict | None:
    """The adult indicators of a unit (app/coverage/adults.py); None for a month closed before they existed."""
    a = row.get("adults")
    if a is None or targets is None:
        return None
    return {
        "adults": a["adults"],
        "attendances": a["attendances"],
        "named": {"learners": a["named"], "share": a["named_share"],
                  "target": targets.get("named_share")},
        "working": [{"code": s["code"], "learners": a["working"].get(s["code"], 0)} for s in services],
        "online_dossiers": {"dossiers": a["online"], "counted": a["online_counted"],
                            "commune_dossiers": a["commune_dossiers"], "share": a["online_share"],
                            "target": targets.get("online_share")},
    }


def unit_object(row: dict, services: list[dict], month: str, adult_targets: dict | None = None) -> dict:
    return {
        "unit": {"code": row["code"], "name": row["name"], "level": row["level"]},
        "month": month,
        "households": row["households"],
        "reach": {"households": row["reached"], "share": row["reach_share"]},
        "services": [{
            "code": s["code"],
            "name": {"vi": s["name_vi"], "en": s["name_en"]},
            "adopted": figures["adopted"],
            "coverage": figures["coverage"],
            "target": ({"share": s["target_share"], "date": s["target_date"]}
                       if s["target_share"] is not None else None),
        } for s, figures in zip(services, row["services"])],
        "adults": adult_object(row, services, adult_targets),
    }


def unit_for_month(code: str, year: int, month: int, today: bool = False) -> AdminUnit | None:
    """The unit that bore the code in the month (codes are reused: a code names a unit only with a
    date), or with `today` the one bearing it now; through the token user's scope, old units as
    the map was included (scope.can_see_in_time), so units elsewhere are "not found"."""
    return next((u for u in bearers_in_month(code, year, month, today) if can_see_in_time(u)), None)


@bp.get("/coverage")
@token_required
def coverage():
    # Cleaned like every typed value: a NUL byte would make PostgreSQL refuse the query.
    code = clean(request.args.get("unit"))
    if not code:
        return api_error(400, "bad_request", _("Give the unit's code, e.g. unit=93."))
    try:
        year, month = check_month(request.args.get("month"))
    except MonthError as exc:
        return api_error(400, "bad_month", str(exc))
    map_mode = request.args.get("map", "then")
    if map_mode not in ("then", "today"):
        return api_error(400, "bad_request", _("map is then (the units of that month) or today (today's units)."))
    unit = unit_for_month(code[:20], year, month, today=map_mode == "today")
    if unit is None:
        return api_error(404, "not_found", _("No unit with this code in your area in that month."))
    if map_mode == "then" and not unit.valid_on(month_end(year, month)):
        # It bore the code during the month, ended before the month's end, and nothing bore it then.
        last = last_counted_month(unit)
        return api_error(404, "not_found", _(
            "%(name)s ended on %(day)s. A month is counted at its end, so its last month is %(month)s.",
            name=unit.name, day=locale_date(unit.last_day), month=f"{last[0]}-{last[1]:02d}"))
    summary = build_summary(unit, year, month, as_then=map_mode == "then")
    targets = summary.adult_targets
    body = unit_object(summary.total, summary.services, summary.month_label, targets)
    body["children"] = [unit_object(r, summary.services, summary.month_label, targets) for r in summary.children]
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
