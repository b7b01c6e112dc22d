"""JSON API v1 for the provincial operations centre: coverage of a unit and its children for a month."""
from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from app.api.auth import api_error, token_required
from app.api.openapi import openapi_document
from app.extensions import db
from app.reports.summary import MonthError, build_summary, check_month
from app.scope import units_query
from app.text import clean
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
    # Through the token user's scope: units elsewhere are "not found", as on the web pages.
    unit = db.session.scalar(units_query().where(AdminUnit.code == code[:20]))
    if unit is None:
        return api_error(404, "not_found", _("No unit with this code in your area."))
    summary = build_summary(unit, year, month)
    targets = summary.adult_targets
    body = unit_object(summary.total, summary.services, summary.month_label, targets)
    body["children"] = [unit_object(r, summary.services, summary.month_label, targets) for r in summary.children]
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
