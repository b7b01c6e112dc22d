"""Unit pages: the tree below the user's unit, hamlets and household counts."""
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import orm
from werkzeug.exceptions import NotFound

from app import versions
from app.audit.models import done_by, record
from app.auth.guard import require_sign_in
from app.coverage.adults import adult_warning, adults_by_unit
from app.coverage.queries import households_by_unit
from app.dates import today_vn
from app.extensions import db
from app.fragments import wants_fragment
from app.households.models import Household
from app.imports import ConfirmImportForm, SheetImport
from app.scope import (
    can_edit_hamlet,
    can_edit_hamlets_of,
    can_edit_structure,
    can_manage_areas,
    can_set_households,
    get_unit_or_404,
    units_query,
    visible_ancestors,
)
from app.spreadsheets import SheetRow
from app.templating import locale_date
from app.text import fold, sort_key
from app.units import hamlet_changes
from app.units import operations as unit_ops
from app.units.adult_import import apply_adults, check_adults, parse_adults
from app.units.forms import (
    AdultCountForm,
    HamletForm,
    HouseholdCountForm,
    MergeForm,
    RenameForm,
    hamlet_name_problem,
    split_form,
)
from app.units.importer import apply_hamlets, check_hamlets, parse_hamlets
from app.units.models import AdminUnit, AdultCount, HouseholdCount
from app.users.checklist import first_run_checklist

bp = Blueprint("units", __name__, url_prefix="/units")
require_sign_in(bp)


def _children(unit: AdminUnit, q: str = ""):
    """The units below, ended ones last, with their household counts today as coverage counts them (none for an ended
    one) and how the ended hamlets ended."""
    query = units_query().where(AdminUnit.parent_id == unit.id)
    if q:
        query = query.where(AdminUnit.name_folded.contains(fold(q), autoescape=True))
    children = sorted(db.session.scalars(query), key=lambda c: (c.retired_on is not None, sort_key(c.name)))
    # Each child's households as coverage counts them (the sum of its units below, if it has any); None for one
    # ended by today, which holds none now (a merge or a split took them elsewhere; one retired by hand left the
    # figures): its own page gives its last count, with its last day.
    today = today_vn()
    counts = households_by_unit(children, today)
    counts = {c.id: None if c.retired_on is not None and c.retired_on <= today else counts[c.id] for c in children}
    return children, counts, hamlet_changes.endings(children)


def _render_unit(unit: AdminUnit, hamlet_form=None, count_form=None, adult_form=None, restore_refused=False,
                 status=200):
    """The unit's page; `restore_refused`: its "Make active again" was just refused, and the reason, shown in its
    place, is said as an error."""
    q = request.args.get("q", "")[:100]
    children, counts, endings = _children(unit, q)
    if wants_fragment("children"):
        return render_template("units/_children.html", unit=unit, children=children, counts=counts, q=q,
                               endings=endings)
    history = db.session.scalars(sa.select(HouseholdCount).where(HouseholdCount.unit_id == unit.id)
                                 .options(orm.selectinload(HouseholdCount.recorded_by))
                                 .order_by(HouseholdCount.effective_on.desc()).limit(20)).all()
    may_structure = can_edit_structure(unit)
    may_edit_self = can_edit_hamlet(unit)
    # One rule, coverage's own: a unit with active units below it counts their sum, so its own
    # count is neither asked for nor shown as its figure (DOMAIN.md: ratio of sums).
    summed = has_active_children(unit)
    may_count = can_set_households(unit) and not summed
    # Only units without units of their own below take a count: below an area or a province those are the
    # hamlets, whose counts commune officers enter; the page says so rather than asking for them.
    may_count_below = summed and can_set_households(unit) and has_counted_leaf_children(unit)
    ancestors = visible_ancestors(unit)
    # An ended unit's count corrects its history: the figure shown is the one in effect on its last day,
    # and the form offers that day, not today (a unit retired from a later day counts until then).
    ended_on = unit.last_day if unit.retired_on is not None and unit.retired_on <= today_vn() else None
    day = ended_on or today_vn()
    dated = {"effective_on": day} if unit.retired_on is not None else {}
    adult_history = db.session.scalars(sa.select(AdultCount).where(AdultCount.unit_id == unit.id)
                                       .options(orm.selectinload(AdultCount.recorded_by))
                                       .order_by(AdultCount.effective_on.desc()).limit(20)).all()
    return render_template(
        "units/show.html", unit=unit, ancestors=ancestors, children=children, counts=counts, q=q, endings=endings,
        ending=hamlet_changes.endings([unit]).get(unit.id),
        history=history, current=history_current(history, day), summed=summed, ended_on=ended_on,
        households=households_by_unit([unit], today_vn())[unit.id],
        may_structure=may_structure, may_count=may_count, may_count_below=may_count_below,
        may_areas=can_manage_areas(unit),
        checklist=first_run_checklist(current_user, unit),
        changes=hamlet_changes.history(unit) if unit.level == "hamlet" else [],
        may_edit_self=may_edit_self, ended_by_change=unit_ops.ended_by_change(unit),
        restore_refusal=unit_ops.ended_commune_refusal(unit) if may_edit_self else None,
        restore_refused=restore_refused,
        # A hamlet entered by mistake, nothing recorded in it yet.
        may_delete=may_edit_self and not unit.has_records(),
        hamlet_form=hamlet_form or (HamletForm(prefix="hamlet") if may_structure else None),
        count_form=count_form or (HouseholdCountForm(formdata=None, prefix="count", **dated,
                                                     version=_count_version(unit, "households"))
                                  if may_count else None),
        adults=adults_by_unit([unit], today_vn())[unit.id], adult_history=adult_history,
        adult_current=history_current(adult_history, day), adult_warning=adult_warning(unit),
        adult_form=adult_form or (AdultCountForm(formdata=None, prefix="adults", **dated,
                                                 version=_count_version(unit, "adults")) if may_count else None),
    ), status


# The audit events of a unit's household count and of its adult population.
COUNT_EDITS = {"households": ("set_households",), "adults": ("set_adults",)}


def _count_values(unit: AdminUnit, figure: str) -> dict:
    """What a count's form is about (its version, app/versions.py): the figure in effect on the day the page
    shows, by the form's field name."""
    ended = unit.retired_on is not None and unit.retired_on <= today_vn()
    return {figure: unit_ops.figure_on(unit.id, unit.last_day if ended else today_vn(), figure)}


def _count_version(unit: AdminUnit, figure: str) -> str:
    return versions.version_of(_count_values(unit, figure), "unit", unit.id, COUNT_EDITS[figure])


def has_active_children(unit: AdminUnit) -> bool:
    """Whether units below count today (coverage's rule: a unit retired later still counts)."""
    counted = sa.or_(AdminUnit.retired_on.is_(None), AdminUnit.retired_on > today_vn())
    return db.session.scalar(sa.select(sa.exists().where(AdminUnit.parent_id == unit.id, counted)))


def has_counted_leaf_children(unit: AdminUnit) -> bool:
    """Whether a unit below counts today with a count of its own (no units counting below it)."""
    day = today_vn()
    child, grandchild = sa.orm.aliased(AdminUnit), sa.orm.aliased(AdminUnit)
    leaf = ~sa.exists().where(grandchild.parent_id == child.id,
                              sa.or_(grandchild.retired_on.is_(None), grandchild.retired_on > day))
    return db.session.scalar(sa.select(sa.exists().where(
        child.parent_id == unit.id, sa.or_(child.retired_on.is_(None), child.retired_on > day), leaf)))


def history_current(history: list[HouseholdCount], day):
    """The count in effect on `day`, from a unit's counts newest first."""
    return next((c for c in history if c.effective_on <= day), None)


@bp.get("/<int:unit_id>")
def show(unit_id: int):
    return _render_unit(get_unit_or_404(unit_id))


@bp.post("/<int:unit_id>/hamlets")
def add_hamlet(unit_id: int):
    commune = get_unit_or_404(unit_id, need=can_edit_hamlets_of)
    form = HamletForm(prefix="hamlet")
    if form.validate_on_submit():
        unit_ops.lock_unit(commune.id)  # the form sent twice at once adds the hamlet once
        problem = hamlet_name_problem(commune, form.name.data)
        typed, day = form.households.data, form.effective_on.data or today_vn()
        # A number far from the other hamlets' is asked about as a count is (_save_count): the form comes back with
        # the question beside the number, and the same number sent again is saved.
        question = typed is not None and form.confirm.data != str(typed) and _unlikely_new_hamlet(commune, typed, day)
        if question:  # beside a taken name too: both are said at once
            form.households.errors.append(question)
            form.confirm.data = str(typed)
        if problem:
            form.name.errors.append(problem)
        elif question:
            return _render_unit(commune, hamlet_form=form, status=409)
        else:
            hamlet = unit_ops.create_unit(form.name.data, "hamlet", commune, user=current_user)
            if typed is not None:
                unit_ops.set_household_count(hamlet, typed, day, user=current_user)
            db.session.commit()
            flash(_("Hamlet %(name)s added.", name=hamlet.name), "success")
            # With a fragment of its own, the page opens at its message, not at the form's (#add-hamlet, which a
            # redirect without one would keep).
            return redirect(url_for("units.show", unit_id=commune.id, _anchor="main"))
    return _render_unit(commune, hamlet_form=form, status=400)


@bp.route("/<int:unit_id>/rename", methods=["GET", "POST"])
def rename(unit_id: int):
    hamlet = get_unit_or_404(unit_id, need=can_edit_hamlet)
    form = RenameForm(obj=hamlet, hamlet=hamlet)
    if not form.is_submitted():
        form.version.data = versions.version_of(_name_values(hamlet), "unit", hamlet.id, NAME_EDITS)
    if form.validate_on_submit():
        if versions.overtaken(form, hamlet, lambda: _name_values(hamlet), "unit", NAME_EDITS):
            return render_template("units/rename.html", unit=hamlet, form=form), 409
        if form.effective_on.data is not None:
            hamlet_changes.rename_hamlet(hamlet, form.name.data, form.effective_on.data, user=current_user)
        elif form.name.data != hamlet.name:
            unit_ops.rename_unit(hamlet, form.name.data, user=current_user)
        else:
            return redirect(url_for("units.show", unit_id=hamlet.id))
        db.session.commit()
        flash(_("Renamed to %(name)s.", name=hamlet.name), "success")
        return redirect(url_for("units.show", unit_id=hamlet.id))
    status = 400 if form.is_submitted() else 200
    return render_template("units/rename.html", unit=hamlet, form=form), status


# The audit events of a change to a unit's name (a correction, a dated renaming).
NAME_EDITS = ("create", "update")


def _name_values(unit: AdminUnit) -> dict:
    """What the rename form is about, by its field's name (its version, app/versions.py)."""
    return {"name": unit.name}


def _changeable_hamlet(unit_id: int) -> AdminUnit:
    """The active hamlet a merge or a split is about. Its confirmation locks the commune first: sent twice at once
    (a double tap on a weak signal), it is done once, and the second finds the hamlet ended by it and says so."""
    hamlet = get_unit_or_404(unit_id, need=can_edit_hamlet)
    confirming = request.method == "POST" and bool(request.form.get("confirm")) and not _going_back()
    if confirming:
        unit_ops.lock_unit(hamlet.parent_id)
        db.session.refresh(hamlet)
    if hamlet.retired_on is not None:
        if unit_ops.ended_by_change(hamlet):
            message = _("%(name)s was already merged or split from %(date)s: see its history.", name=hamlet.name,
                        date=locale_date(hamlet.retired_on))
            if confirming:
                flash(message, "info")
                abort(redirect(url_for("units.show", unit_id=hamlet.id), 303))
        else:
            message = _("%(name)s is retired from %(date)s: only an active hamlet can be merged or split.",
                        name=hamlet.name, date=locale_date(hamlet.retired_on))
        # An old link, the back button, "Go back and change" after another officer's change: refused on the
        # hamlet's page, which shows why.
        flash(message, "error")
        abort(make_response(_render_unit(hamlet, status=409)))
    return hamlet


def _going_back() -> bool:
    """The summary's "Go back and change": the form again, as it was filled in."""
    return request.form.get("back") is not None


def _asked_then_done(form, page: str, summary, apply, **values):
    """A merge or a split asked before it is done: a valid form comes back as the summary of what it will do
    (`summary()`), its choices in hidden fields; only that summary's confirmation runs `apply()`, which answers,
    and only while the summary still holds (the commune is locked from the check to the commit).
    A refused form comes back with its errors beside the fields (400)."""
    if form.is_submitted() and _going_back():
        form.confirm.data = ""
        return render_template(page, form=form, **values)
    if form.validate_on_submit():
        said = summary()
        key = form.confirmation_key(said)
        if form.confirm.data == key:
            return apply()
        # Confirmed, but the change would now do something else than its summary said: asked again (409).
        overtaken = form.overtaken(key)
        form.confirm.data = key
        return render_template(page, form=form, summary=said, overtaken=overtaken, **values), 409 if overtaken else 200
    form.confirm.data = ""  # the form sent again, corrected, is summed up again
    return render_template(page, form=form, **values), 400 if form.is_submitted() else 200


@bp.route("/<int:unit_id>/merge", methods=["GET", "POST"])
def merge(unit_id: int):
    hamlet = _changeable_hamlet(unit_id)
    form = MergeForm(hamlet=hamlet, effective_on=today_vn())

    def arguments():
        return (hamlet, form.target_unit, form.effective_on.data, form.merged_count() or 0,
                form.new_name.data or None)

    def apply():
        target = form.target_unit
        hamlet_changes.merge_hamlets(*arguments(), user=current_user)
        db.session.commit()
        flash(_("%(name)s is merged into %(target)s from %(date)s.", name=hamlet.name, target=target.name,
                date=locale_date(form.effective_on.data)), "success")
        return redirect(url_for("units.show", unit_id=target.id), 303)

    return _asked_then_done(form, "units/merge.html", lambda: hamlet_changes.merge_summary(*arguments()), apply,
                            unit=hamlet, current=hamlet.households_on(today_vn()))


@bp.route("/<int:unit_id>/split", methods=["GET", "POST"])
def split(unit_id: int):
    hamlet = _changeable_hamlet(unit_id)
    form = split_form(hamlet, hamlet_changes.households_of(hamlet))(effective_on=today_vn())

    def apply():
        made = hamlet_changes.split_hamlet(hamlet, form.effective_on.data, *form.parts(), user=current_user)
        db.session.commit()
        flash(_("%(name)s is split into %(parts)s from %(date)s.", name=hamlet.name,
                parts=", ".join(h.name for h in made), date=locale_date(form.effective_on.data)), "success")
        return redirect(url_for("units.show", unit_id=hamlet.parent_id), 303)

    return _asked_then_done(
        form, "units/split.html", lambda: hamlet_changes.split_summary(hamlet, form.effective_on.data, *form.parts()),
        apply, unit=hamlet, current=hamlet.households_on(today_vn()))


@bp.route("/<int:unit_id>/retire", methods=["GET", "POST"])
def retire(unit_id: int):
    """Asked, then done: a hamlet retired leaves its commune's figures from today (its households, visits and counts
    stay, and it may be made active again)."""
    hamlet = get_unit_or_404(unit_id, need=can_edit_hamlet)
    if request.method == "GET":
        return render_template("units/retire.html", unit=hamlet, today=today_vn(),
                               current=hamlet.households_on(today_vn()), form=ConfirmImportForm(payload="1"))
    form = ConfirmImportForm(payload="retire")  # only for its CSRF token
    if not form.validate_on_submit():
        abort(400)
    if hamlet.retired_on is None:
        unit_ops.retire_unit(hamlet, today_vn(), user=current_user)
        db.session.commit()
        flash(_("%(name)s is retired. Its records and counts stay; to use it again, tap “Make active again” on its "
                "page.", name=hamlet.name), "success")
    return redirect(url_for("units.show", unit_id=hamlet.parent_id))


@bp.post("/<int:unit_id>/restore")
def restore(unit_id: int):
    hamlet = get_unit_or_404(unit_id, need=can_edit_hamlet)
    form = ConfirmImportForm(payload="restore")
    if not form.validate_on_submit():
        abort(400)
    if unit_ops.ended_by_change(hamlet):
        # Its households went to the hamlets it became: active again, it would count its old
        # household count beside theirs.
        flash(_("%(name)s ended by a merge or a split (see its history): it cannot be made active again.",
                name=hamlet.name), "error")
        return _render_unit(hamlet, status=409)
    if unit_ops.ended_commune_refusal(hamlet):
        return _render_unit(hamlet, restore_refused=True, status=409)
    if hamlet.retired_on is not None:
        unit_ops.restore_unit(hamlet, user=current_user)
        db.session.commit()
        flash(_("%(name)s is active again.", name=hamlet.name), "success")
    return redirect(url_for("units.show", unit_id=hamlet.id))


@bp.route("/<int:unit_id>/delete", methods=["GET", "POST"])
def delete(unit_id: int):
    """Only a hamlet entered by mistake, with nothing attached to it, may be deleted: asked, then done."""
    try:
        hamlet = get_unit_or_404(unit_id, need=can_edit_hamlet)
    except NotFound:
        done = done_by(current_user, "unit", unit_id) if request.method == "POST" else None
        if done is None:
            raise
        # The confirmation sent again (back button, double tap) finds the hamlet gone: say so.
        flash(_("This hamlet was already deleted."), "info")
        return redirect(url_for("units.show", unit_id=done.unit_id), 303)
    held = hamlet.has_records()
    if request.method == "GET":
        return render_template("units/delete.html", unit=hamlet, held=held, form=ConfirmImportForm(payload="1"))
    form = ConfirmImportForm(payload="delete")
    if not form.validate_on_submit():
        abort(400)
    if held:
        flash(_("%(name)s has records and cannot be deleted; retire it instead.", name=hamlet.name), "error")
        return redirect(url_for("units.show", unit_id=hamlet.id)), 303
    parent_id = hamlet.parent_id
    record("delete", "unit", hamlet.id, parent_id, before={"name": hamlet.name, "level": hamlet.level},
           user=current_user)
    # Its own counts go with it (the household counts by the relationship's cascade).
    db.session.execute(sa.delete(AdultCount).where(AdultCount.unit_id == hamlet.id))
    db.session.delete(hamlet)
    db.session.commit()
    flash(_("%(name)s deleted.", name=hamlet.name), "success")
    return redirect(url_for("units.show", unit_id=parent_id), 303)


@bp.post("/<int:unit_id>/households")
def set_households(unit_id: int):
    unit = get_unit_or_404(unit_id, need=can_set_households)
    form = HouseholdCountForm(prefix="count")
    return _save_count(
        unit, form, "count_form", "households",
        _("%(name)s counts the sum of its units below: set their household counts instead.", name=unit.name),
        lambda: unit_ops.set_household_count(unit, form.households.data, form.effective_on.data, user=current_user),
        _("Household count saved."), form.households,
        lambda: _unlikely_households(unit, form.households.data, form.effective_on.data))


def _save_count(unit: AdminUnit, form, form_name: str, name: str, summed: str, save, saved: str, figure, unlikely):
    """Save a unit's household count or adult population (`name`); a unit with active units below counts their sum
    (409). One changed by someone else since the page was opened comes back with what it is now (409), as does a
    number that looks like a slip (`unlikely` says why), with the question beside it; saving again saves it."""
    if has_active_children(unit):
        flash(summed, "error")
        return _render_unit(unit, status=409)
    if form.validate_on_submit():
        unit_ops.lock_unit(unit.id)  # saved twice at once, the second finds the first (as one saved later does)
        ended = unit_ops.ended_refusal(unit, form.effective_on.data)
        if ended:
            form.effective_on.errors.append(ended)
        elif _still_there(unit) and versions.changed_meanwhile(form, _count_values(unit, name), "unit", unit.id,
                                                                 COUNT_EDITS[name]):
            return _render_unit(unit, status=409, **{form_name: form})
        elif form.confirm.data != str(figure.data) and (question := unlikely()):
            figure.errors.append(question)
            form.confirm.data = str(figure.data)
            return _render_unit(unit, status=409, **{form_name: form})
        else:
            save()
            db.session.commit()
            flash(saved, "success")
            return redirect(url_for("units.show", unit_id=unit.id))
    return _render_unit(unit, status=400, **{form_name: form})


def _still_there(unit: AdminUnit) -> bool:
    """Whether the unit was not deleted meanwhile; deleted, its count's save is refused by the database's reference
    and the page says so with what was typed (app.main.conflicts)."""
    return db.session.scalar(sa.select(sa.exists().where(AdminUnit.id == unit.id)))


def _save_it_again(question: str) -> str:
    return " ".join((question, _("To save it all the same, save it again.")))


def _add_it_again(question: str) -> str:
    return " ".join((question, _("If the number is right, tap “Add hamlet” again.")))


def _unlikely_new_hamlet(commune: AdminUnit, typed: int, day) -> str | None:
    """A new hamlet's count, far from the commune's other hamlets' on that day (`far_from_other_hamlets`)."""
    question = unit_ops.far_from_other_hamlets(typed, unit_ops.hamlet_counts(commune, day).values())
    return question and _add_it_again(question)


def _unlikely_households(unit: AdminUnit, typed: int, effective_on) -> str | None:
    before = unit.households_on(effective_on - timedelta(days=1))
    registered = db.session.scalar(sa.select(sa.func.count()).select_from(Household).where(
        Household.hamlet_id == unit.id, Household.merged_into_id.is_(None))) if unit.level == "hamlet" else 0
    if registered > typed:
        return _("%(name)s already has %(registered)s households registered in the app, more than %(typed)s: its "
                 "coverage would pass 100%%. Check the number; to save it all the same, save it again.",
                 name=unit.name, registered=format_decimal(registered), typed=format_decimal(typed))
    if before is not None:
        question = unit_ops.far_from_before(typed, before.households)
    elif unit.level == "hamlet":
        # Its first count: nothing of its own to compare with, so the commune's other hamlets.
        others = unit_ops.hamlet_counts(unit.parent, effective_on)
        others.pop(unit.id, None)
        question = unit_ops.far_from_other_hamlets(typed, others.values())
    else:
        question = None
    return question and _save_it_again(question)


def _unlikely_adults(unit: AdminUnit, typed: int, effective_on) -> str | None:
    before = unit_ops.figure_on(unit.id, effective_on - timedelta(days=1), "adults")
    if before is not None:
        question = unit_ops.far_from_before(typed, before, "adults")
    elif unit.level == "hamlet":
        # Its first adult population: nothing of its own to compare with, so the commune's other hamlets'.
        others = unit_ops.hamlet_counts(unit.parent, effective_on, "adults")
        others.pop(unit.id, None)
        question = unit_ops.far_from_other_hamlets(typed, others.values(), "adults")
    else:
        question = None
    return question and _save_it_again(question)


def _recheck_hamlets(rows: list[dict], commune: AdminUnit):
    """The rows again, under the commune's names lock: one preview confirmed twice at once adds its hamlets once."""
    unit_ops.lock_unit(commune.id)
    return check_hamlets([SheetRow(line=r["line"], values={
        "name": r["name"], "code": r["code"], "households": r["households"], "effective_date": r["effective_on"]})
        for r in rows], commune, today_vn())


HAMLET_SHEET = SheetImport(
    salt="hamlet-import", template="units/import.html",
    parse=lambda name, data, commune: parse_hamlets(name, data, commune, today_vn()),
    to_payload=lambda rows: [{"line": r.line, "name": r.name, "code": r.code, "households": r.households,
                              "effective_on": r.effective_on.isoformat() if r.effective_on else None}
                             for r in rows],
    recheck=_recheck_hamlets,
    apply=lambda rows, commune: _("%(created)d hamlets added, %(updated)d updated.",
                                  **apply_hamlets(rows, commune, user=current_user)),
    left_out=lambda n: _("%(n)d rows with a number to check were left out. Upload the file again with them "
                         "corrected, or tick the box if the numbers are right.", n=n))


@bp.route("/<int:unit_id>/import", methods=["GET", "POST"])
def import_hamlets(unit_id: int):
    commune = get_unit_or_404(unit_id, need=can_edit_hamlets_of)
    return HAMLET_SHEET.preview(commune, unit=commune)


@bp.post("/<int:unit_id>/import/confirm")
def confirm_import(unit_id: int):
    commune = get_unit_or_404(unit_id, need=can_edit_hamlets_of)
    return HAMLET_SHEET.confirm(commune, url_for("units.show", unit_id=commune.id), unit=commune)


@bp.post("/<int:unit_id>/adults")
def set_adults(unit_id: int):
    unit = get_unit_or_404(unit_id, need=can_set_households)
    form = AdultCountForm(prefix="adults")
    # Saved even when below the hamlet's named learners: the page shows that warning beside the figure.
    return _save_count(
        unit, form, "adult_form", "adults",
        _("%(name)s counts the sum of its units below: set their adult populations instead.", name=unit.name),
        lambda: unit_ops.set_adult_count(unit, form.adults.data, form.effective_on.data, user=current_user),
        _("Adult population saved."), form.adults,
        lambda: _unlikely_adults(unit, form.adults.data, form.effective_on.data))


# Re-checked at confirmation against the database as it is then: a hamlet may have been renamed since the preview.
ADULT_SHEET = SheetImport(
    salt="adult-import", template="units/import_adults.html",
    parse=lambda name, data, commune: parse_adults(name, data, commune, today_vn()),
    to_payload=lambda rows: [{"line": r.line, "name": r.name, "adults": r.adults,
                              "effective_on": r.effective_on.isoformat() if r.effective_on else None}
                             for r in rows],
    recheck=lambda rows, commune: check_adults([SheetRow(line=r["line"], values={
        "name": r["name"], "adults": r["adults"], "effective_date": r["effective_on"]})
        for r in rows], commune, today_vn()),
    apply=lambda rows, commune: _("%(n)d adult populations saved.",
                                  n=apply_adults(rows, commune, user=current_user)),
    left_out=lambda n: _("%(n)d rows with an adult population to check were left out. Upload the file again with "
                         "them corrected, or tick the box if the numbers are right.", n=n))


@bp.route("/<int:unit_id>/adults/import", methods=["GET", "POST"])
def import_adults(unit_id: int):
    commune = get_unit_or_404(unit_id, need=can_edit_hamlets_of)
    return ADULT_SHEET.preview(commune, unit=commune)


@bp.post("/<int:unit_id>/adults/import/confirm")
def confirm_adults(unit_id: int):
    commune = get_unit_or_404(unit_id, need=can_edit_hamlets_of)
    return ADULT_SHEET.confirm(commune, url_for("units.show", unit_id=commune.id), unit=commune)


from app.units import reorganize_views  # noqa: E402,F401  (its routes are on this blueprint)
