"""The household registry: list and search, a household's page, edit, and merging duplicates."""
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import versions
from app.auth.guard import require_sign_in
from app.catalogue import operations as catalogue
from app.downloads import file_name, send_download
from app.extensions import db
from app.fragments import wants_fragment
from app.households import operations as household_ops
from app.households import privacy
from app.households.forms import EraseForm, HouseholdForm, MergeForm, MoveForm
from app.households.models import Household
from app.scope import (
    can_edit_household,
    can_edit_household_details,
    can_edit_visit,
    can_log_visits,
    can_manage_household_data,
    can_merge_households,
    can_move_household,
    get_household_or_404,
    households_query,
    visits_query,
)
from app.text import sort_key
from app.visits.models import RESULTS, Adoption, Visit

bp = Blueprint("households", __name__, url_prefix="/households")
require_sign_in(bp)


@bp.get("/")
def index():
    q = (request.args.get("q") or "")[:100]
    # The first hundred by folded name, shown in Vietnamese order.
    households = sorted(household_ops.search(households_query(), q, limit=100), key=lambda h: sort_key(h.head_name))
    duplicates = household_ops.duplicate_ids(households)
    if wants_fragment("households"):
        return render_template("households/_rows.html", households=households, duplicates=duplicates, q=q)
    return render_template("households/index.html", households=households, duplicates=duplicates, q=q)


def _day_arg(name: str) -> date | None:
    """A day given in a link (YYYY-MM-DD), or None when it is missing or not a day."""
    try:
        return date.fromisoformat((request.args.get(name) or "")[:10])
    except ValueError:
        return None


def _move_done(household: Household):
    """The move the page after it tells of (its link names where from and the day), while it still holds."""
    from app.forms import record_id
    from app.units import hamlet_changes
    source_id, on = record_id(request.args.get("moved_from")), _day_arg("moved_on")
    if source_id is None or on is None or not can_move_household(household):
        return None
    return hamlet_changes.move_done(household, source_id, on)


def _render_show(household: Household, merge_form=None, status=200):
    adoptions = {a.service_id: a for a in db.session.scalars(
        sa.select(Adoption).where(Adoption.household_id == household.id))}
    visits = list(db.session.scalars(visits_query().where(Visit.household_id == household.id)
                                     .order_by(Visit.visited_on.desc(), Visit.id.desc())))
    live = household.merged_into_id is None and household.erased_at is None
    duplicates = household_ops.possible_duplicates(household) if live else []
    may_merge = bool(duplicates) and can_merge_households(household)
    return render_template(
        "households/show.html", household=household, adoptions=adoptions, visits=visits, results=RESULTS,
        services=catalogue.all_services(), duplicates=duplicates, may_merge=may_merge,
        merge_form=merge_form or (MergeForm(formdata=None) if may_merge else None),
        may_edit=can_edit_household(household) and household.erased_at is None,
        may_move=can_move_household(household), move_done=_move_done(household),
        may_log=can_log_visits() and household.erased_at is None, can_edit_visit=can_edit_visit,
        may_manage_data=can_manage_household_data(household),
    ), status


@bp.get("/<int:household_id>")
def show(household_id: int):
    return _render_show(get_household_or_404(household_id))


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
def edit(household_id: int):
    household = get_household_or_404(household_id, need=can_edit_household_details)
    form = HouseholdForm(obj=household)
    status = 200
    if not form.is_submitted():
        form.version.data = versions.version_of(household_ops.editable(household), "household", household.id)
    if form.validate_on_submit():
        if versions.overtaken(form, household, lambda: household_ops.editable(household), "household"):
            return render_template("households/edit.html", household=household, form=form), 409
        household_ops.update_household(household, user=current_user, head_name=form.head_name.data,
                                  address=form.address.data or "", phone=form.phone.data or "",
                                  size=form.size.data)
        db.session.commit()
        flash(_("Household saved."), "success")
        return redirect(url_for("households.show", household_id=household.id), 303)
    elif form.is_submitted():
        status = 400
    return render_template("households/edit.html", household=household, form=form), status


def _movable_household(household_id: int) -> Household:
    """The household the move form is about. Sent, the form is checked under the locks a merge or a split of the
    commune's hamlets takes, on what holds then: one committed meanwhile is seen, one confirmed now waits."""
    from app.units import hamlet_changes
    household = get_household_or_404(household_id, need=can_move_household)
    if request.method == "POST":
        hamlet_changes.lock_household_move(household)
    return household


@bp.route("/<int:household_id>/move", methods=["GET", "POST"])
def move(household_id: int):
    """Move the household to another hamlet of its commune from a date, with its visits from that day."""
    from app.units import hamlet_changes
    household = _movable_household(household_id)
    # The link on the page after a move prefills the form to move it back: the hamlet it left, the same day.
    prefill = {"hamlet": request.args.get("hamlet", "")[:12], "moved_on": _day_arg("moved_on")}
    form = MoveForm(household=household, **{k: v for k, v in prefill.items() if v})
    if form.validate_on_submit():
        try:
            source = hamlet_changes.move_household(household, form.target, form.moved_on.data, user=current_user)
        except hamlet_changes.HamletChangeError as refused:  # the form's checks under the same locks refuse it first
            db.session.rollback()
            form.moved_on.errors.append(str(refused))
            return render_template("households/move.html", household=household, form=form), 409
        db.session.commit()
        return redirect(url_for("households.show", household_id=household.id, moved_from=source.id,
                                moved_on=form.moved_on.data.isoformat()), 303)
    status = (409 if form.overtaken else 400) if form.is_submitted() else 200
    return render_template("households/move.html", household=household, form=form), status


@bp.post("/<int:household_id>/merge")
def merge(household_id: int):
    """Merge this household (the duplicate) into the one chosen to stay."""
    household = get_household_or_404(household_id, need=can_merge_households)
    form = MergeForm()
    if not form.validate_on_submit():
        return _render_show(household, merge_form=form, status=400)
    target = db.session.scalar(households_query().where(Household.id == form.target_id.data))
    if target is not None and household.merged_into_id == target.id:
        # A second confirmation (back button, double tap) finds the merge done.
        flash(_("This household was already merged into %(name)s.", name=target.display_name), "info")
        return redirect(url_for("households.show", household_id=target.id), 303)
    if (target is None or target.id == household.id or target.hamlet_id != household.hamlet_id
            or target.merged_into_id is not None or household.merged_into_id is not None
            or target.erased_at is not None or household.erased_at is not None):
        form.target_id.errors = list(form.target_id.errors) + [
            _("Choose another household of the same hamlet that has not been merged.")]
        return _render_show(household, merge_form=form, status=400)
    moved = household_ops.merge_households(household, target, user=current_user)
    db.session.commit()
    flash(_("Merged: %(n)s visits moved to %(name)s.", n=moved, name=target.display_name), "success")
    return redirect(url_for("households.show", household_id=target.id), 303)


@bp.get("/<int:household_id>/export.json")
def export(household_id: int):
    """Everything held about the household, for the household itself (a right under Decree 13/2023)."""
    household = get_household_or_404(household_id, need=can_manage_household_data)
    body = privacy.export_json(household, user=current_user)
    db.session.commit()  # the export is audited
    return send_download(body, file_name("household", str(household.id), ext="json"),
                         "application/json; charset=utf-8")


@bp.route("/<int:household_id>/erase", methods=["GET", "POST"])
def erase(household_id: int):
    household = get_household_or_404(household_id, need=can_manage_household_data)
    form = EraseForm(household=household)
    status = 200
    if request.method == "POST":
        if household.erased_at is not None:
            # A second confirmation (back button, double tap) finds the work done.
            flash(_("This household's personal data was already erased."), "info")
            return redirect(url_for("households.show", household_id=household.id), 303)
        if form.validate_on_submit():
            privacy.erase(household, form.reason.data, user=current_user)
            db.session.commit()
            privacy.reach_the_disk()
            flash(_("Personal data erased. The household's visits are still counted."), "success")
            return redirect(url_for("households.show", household_id=household.id), 303)
        status = 400
    visits = db.session.scalar(sa.select(sa.func.count(Visit.id)).where(Visit.household_id == household.id))
    return render_template("households/erase.html", household=household, form=form, visits=visits), status
