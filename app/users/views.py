"""Account administration: admins and province staff manage the accounts below them in their area."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import orm

from app import versions
from app.audit.models import AuditEvent
from app.audit.words import describe
from app.auth.guard import require_sign_in
from app.auth.models import User
from app.extensions import account_form_limit, db
from app.fragments import wants_fragment
from app.scope import (
    accounts_query,
    assignable_units,
    can_manage_accounts,
    get_account_or_404,
    manageable_roles,
)
from app.text import fold, sort_key
from app.units.models import AdminUnit
from app.users import operations
from app.users.forms import WEB_ROLES, AccountFilterForm, BindForm, NewAccountForm

bp = Blueprint("users", __name__, url_prefix="/users")
require_sign_in(bp, allow=can_manage_accounts)
LIST_LIMIT = 200


def _units_for(role: str) -> list[tuple[AdminUnit, str]]:
    """The units offered for a role in the Vietnamese order of their names, each labelled with the unit above
    it (two communes may share a name: the one above tells them apart, in the same order; a province has none)."""
    units = db.session.scalars(assignable_units(role).options(orm.joinedload(AdminUnit.parent))).all()
    units = sorted(units, key=lambda u: (sort_key(u.name), sort_key(u.parent.name if u.parent else ""), u.id))
    return [(u, f"{u.name} — {u.parent.name}" if u.parent is not None else u.name) for u in units]


def _web_roles() -> tuple[str, ...]:
    return tuple(r for r in manageable_roles() if r in WEB_ROLES)


@bp.get("/")
def index():
    form = AccountFilterForm(request.args, roles=manageable_roles())
    query = accounts_query().options(orm.joinedload(User.unit))
    status = 200
    if request.args and not form.validate():
        status = 400
    else:
        if form.q.data:
            # With or without accents, in any case, as every other list searches names ('dat' finds 'Đạt').
            key = fold(form.q.data)
            query = query.where(sa.or_(User.username.contains(form.q.data.lower(), autoescape=True),
                                       User.username.contains(key, autoescape=True),
                                       User.full_name_folded.contains(key, autoescape=True)))
        if form.role.data:
            query = query.where(User.role == form.role.data)
        if form.state.data:
            query = query.where(User.is_enabled == (form.state.data == "enabled"))
    accounts = db.session.scalars(query.order_by(User.username).limit(LIST_LIMIT + 1)).all()
    return render_template("users/index.html", form=form, accounts=accounts[:LIST_LIMIT],
                           more=len(accounts) > LIST_LIMIT, may_create=bool(_web_roles())), status


@bp.route("/new", methods=["GET", "POST"])
@account_form_limit
def new():
    roles = _web_roles()
    form = NewAccountForm(role=request.args.get("role"), roles=roles, units_for=_units_for)
    if form.validate_on_submit():
        account, password = operations.create_account(form.username.data, form.role.data, form.chosen_unit(),
                                                      form.full_name.data, actor=current_user)
        db.session.commit()
        return render_template("users/password.html", account=account, password=password, created=True)
    status = 400 if form.is_submitted() else 200
    if wants_fragment("unit-field"):
        return render_template("users/_unit_field.html", form=form), status
    return render_template("users/new.html", form=form), status


def _bind_form(account, formdata=None):
    """The form moving a staff account to another unit, or None: not for one's own account, nor for a team
    account (it follows its member's team)."""
    if account.id == current_user.id or account.role not in _web_roles():
        return None
    # Opened, the form carries the version of the unit; sent, the version it was opened on.
    opened = {} if formdata is not None else {
        "version": versions.version_of(_bind_values(account), "user", account.id, UNIT_EDITS)}
    return BindForm(formdata, units=_units_for(account.role), unit=account.unit_id, prefix="bind", **opened)


# The audit events of a change to an account's unit (operations.bind_account).
UNIT_EDITS = ("create", "update")


def _bind_values(account) -> dict:
    """What the bind form is about, by its field's name (its version, app/versions.py)."""
    return {"unit": account.unit_id}


def _render_show(account, bind_form=None, status=200):
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "user",
                                                            AuditEvent.record_id == account.id)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(50)).all()
    return render_template("users/show.html", account=account, entries=describe(events),
                           bind_form=_bind_form(account) if bind_form is None else bind_form), status


@bp.get("/<int:account_id>")
def show(account_id: int):
    return _render_show(get_account_or_404(account_id, own_too=True))


@bp.post("/<int:account_id>/unit")
def bind(account_id: int):
    account = get_account_or_404(account_id)
    form = _bind_form(account, request.form)
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        return _render_show(account, form, 400)
    if versions.overtaken(form, account, lambda: _bind_values(account), "user", UNIT_EDITS):
        return _render_show(account, form, 409)
    unit = form.chosen_unit()
    if operations.bind_account(account, unit, actor=current_user):
        db.session.commit()
        flash(_("The account %(name)s is now bound to %(unit)s.", name=account.shown_name, unit=unit.name),
              "success")
    return redirect(url_for("users.show", account_id=account.id), 303)


@bp.post("/<int:account_id>/disable")
def disable(account_id: int):
    account = get_account_or_404(account_id)
    if operations.disable_account(account, actor=current_user):
        db.session.commit()
        flash(_("The account %(name)s is disabled; it has been signed out everywhere.", name=account.shown_name),
              "success")
    return redirect(url_for("users.show", account_id=account.id), 303)


@bp.post("/<int:account_id>/enable")
def enable(account_id: int):
    account = get_account_or_404(account_id)
    if operations.enable_account(account, actor=current_user):
        db.session.commit()
        flash(_("The account %(name)s can sign in again.", name=account.shown_name), "success")
    return redirect(url_for("users.show", account_id=account.id), 303)


@bp.post("/<int:account_id>/password")
def reset_password(account_id: int):
    account = get_account_or_404(account_id)
    password = operations.reset_password(account, actor=current_user)
    db.session.commit()
    return render_template("users/password.html", account=account, password=password, created=False)
