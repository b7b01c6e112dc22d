"""The audit trail of the user's area, for province and district staff."""
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, request
from sqlalchemy import orm

from app.audit.forms import RECORD_TYPES, AuditFilterForm
from app.audit.models import AuditEvent
from app.audit.words import describe
from app.auth.models import User
from app.auth.usernames import normalise_username
from app.dates import VN
from app.extensions import db
from app.fragments import render_page
from app.scope import in_scope, roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50


@bp.get("/")
@roles_required("admin", "province", "district")
def index():
    form = AuditFilterForm(request.args)
    query = sa.select(AuditEvent).where(in_scope(AuditEvent.unit_id)).order_by(AuditEvent.at.desc(),
                                                                                AuditEvent.id.desc())
    status = 200
    if request.args and not form.validate():
        status = 400
    else:
        if form.user.data:
            query = query.join(User, User.id == AuditEvent.user_id).where(
                User.username == normalise_username(form.user.data))
        if form.record_type.data:
            query = query.where(AuditEvent.record_type == form.record_type.data)
        # The dates a person picks are Vietnamese calendar days.
        if form.date_from.data:
            query = query.where(AuditEvent.at >= datetime.combine(form.date_from.data, time.min, VN))
        if form.date_to.data:
            query = query.where(AuditEvent.at < datetime.combine(form.date_to.data + timedelta(days=1), time.min, VN))
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    events = db.session.scalars(query.options(orm.selectinload(AuditEvent.user))
                                .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    has_next = len(events) > PAGE_SIZE
    base_args = {k: v for k, v in request.args.items() if k != "page"}
    return render_page("audit/index.html", "audit/_events.html", target="events", form=form,
                       entries=describe(events[:PAGE_SIZE]), page=page, has_next=has_next,
                       record_types=RECORD_TYPES, base_args=base_args), status
