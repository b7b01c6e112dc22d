"""JSON API v1 for the provincial operations centre: coverage of a unit and its children for a month."""
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from app.api.auth import api_error, token_required
from app.api.openapi import openapi_document
from app.dates import month_end, month_start
from app.extensions import db
from app.reports.summary import MonthError, build_summary, check_month
from app.scope import can_see_in_time
from app.text import clean
from app.units.models import AdminUnit

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def unit_object(row: dict, services: list[dict], month: str) -> dict:
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
    }


def unit_for_month(code: str, year: int, month: int, today: bool = False) -> AdminUnit | None:
    """The unit that bore the code in the month (codes are reused: a code names a unit only with a
    date), or with `today` the one bearing it now; through the token user's scope, old units as
    the map was included (scope.can_see_in_time), so units elsewhere are "not found"."""
    start, end = month_start(year, month), month_end(year, month)
    q = sa.select(AdminUnit).where(AdminUnit.code == code)
    if today:
        q = q.where(AdminUnit.retired_on.is_(None))
    else:
        q = q.where(sa.or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= end),
                    sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > start))
    # The bearer at the month's end first (a code handed over mid-month), then the latest.
    found = sorted(db.session.scalars(q), reverse=True,
                   key=lambda u: (u.valid_on(end), u.valid_from or date.min, u.id))
    return next((u for u in found if can_see_in_time(u)), None)


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
    summary = build_summary(unit, year, month, as_then=map_mode == "then")
    body = unit_object(summary.total, summary.services, summary.month_label)
    body["children"] = [unit_object(r, summary.services, summary.month_label) for r in summary.children]
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
