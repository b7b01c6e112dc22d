"""Area pages for province staff: the province's areas, a new area, an area's name and communes."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app import versions
from app.areas import operations
from app.areas.forms import AreaCommunesForm, AreaForm
from app.audit.models import done_by
from app.auth.guard import require_sign_in
from app.extensions import db
from app.imports import ConfirmImportForm
from app.scope import can_manage_areas, can_open_account, found_or_abort, get_unit_or_404, units_query
from app.units import operations as unit_ops
from app.units.models import AdminUnit

bp = Blueprint("areas", __name__, url_prefix="/areas")


require_sign_in(bp)


def _province_or_404(unit_id: int):
    return get_unit_or_404(unit_id, need=can_manage_areas)


def _area_or_404(area_id: int):
    area = found_or_abort(db.session.scalar(units_query().where(AdminUnit.id == area_id,
                                                                AdminUnit.level == operations.AREA)))
    return found_or_abort(area, need=lambda a, user: can_manage_areas(a.parent, user))


def _taken(province, but=None) -> set[str]:
    return {a.name_folded for a in operations.province_areas(province) if but is None or a.id != but.id}


def _render_index(province, form, status=200):
    areas = operations.province_areas(province)
    communes = operations.province_communes(province)
    counts = {a.id: sum(1 for c in communes if c.parent_id == a.id) for a in areas}
    loose = [c for c in communes if c.parent_id == province.id]
    return render_template("areas/index.html", province=province, areas=areas, counts=counts, loose=loose,
                           form=form), status


@bp.get("/<int:unit_id>")
def index(unit_id: int):
    province = _province_or_404(unit_id)
    return _render_index(province, AreaForm(formdata=None))


@bp.post("/<int:unit_id>")
def create(unit_id: int):
    province = _province_or_404(unit_id)
    unit_ops.lock_unit(province.id)  # an area sent twice at once is added once
    form = AreaForm(taken=_taken(province))
    if not form.validate_on_submit():
        return _render_index(province, form, 400)
    area = operations.create_area(province, form.name.data, user=current_user)
    db.session.commit()
    flash(_("Area %(name)s added. Now choose its communes.", name=area.name), "success")
    return redirect(url_for("areas.edit", area_id=area.id), 303)


@bp.route("/area/<int:area_id>", methods=["GET", "POST"])
def edit(area_id: int):
    area = _area_or_404(area_id)
    province = area.parent
    areas = {a.id: a.name for a in operations.province_areas(province)}
    # Its own communes first, then those in no area, then those in other areas: on a phone, what the area holds
    # and what is free to add come before a hundred others (each group in the province's order).
    communes = sorted(operations.province_communes(province),
                      key=lambda c: 0 if c.parent_id == area.id else 2 if c.parent_id in areas else 1)
    form = AreaCommunesForm(obj=area, taken=_taken(province, but=area))
    form.communes.choices = [(c.id, c.name) for c in communes]
    if not form.is_submitted():
        form.communes.data = [c.id for c in communes if c.parent_id == area.id]
        form.version.data = versions.version_of(_area_values(area), "unit", area.id, AREA_EDITS)
    status = 200
    valid = form.validate_on_submit()
    if valid and versions.overtaken(form, area, lambda: _area_values(area), "unit", AREA_EDITS):
        status = 409
    elif valid:
        if form.name.data != area.name:
            unit_ops.rename_unit(area, form.name.data, user=current_user)
        moved = operations.set_area_communes(area, set(form.communes.data or []), user=current_user)
        db.session.commit()
        flash(_("Area %(name)s saved: %(added)d communes added, %(removed)d returned to the province.",
                name=form.name.data, added=len(moved["in"]), removed=len(moved["out"])), "success")
        return redirect(url_for("areas.index", unit_id=province.id), 303)
    elif form.is_submitted():
        status = 400
    # Beside each commune, the area it is in now (ticking it moves it here).
    elsewhere = {c.id: areas[c.parent_id] for c in communes if c.parent_id in areas and c.parent_id != area.id}
    return render_template("areas/edit.html", area=area, province=province, form=form,
                           communes=communes, elsewhere=elsewhere), status


# The audit events of a change to an area's name or communes.
AREA_EDITS = ("create", "update", "set_communes")


def _area_values(area: AdminUnit) -> dict:
    """What the area's edit form holds, by its fields' names (its version, app/versions.py)."""
    return {"name": area.name, "communes": sorted(c.id for c in operations.province_communes(area.parent)
                                                  if c.parent_id == area.id)}


def _already_removed(province_id: int):
    """The confirmation sent again (back button, double tap) finds the area gone: say so."""
    flash(_("This area was already removed."), "info")
    return redirect(url_for("areas.index", unit_id=province_id), 303)


@bp.route("/area/<int:area_id>/remove", methods=["GET", "POST"])
def remove(area_id: int):
    """An area made by mistake or no longer wanted: asked, then its communes go back under the province and the
    area is deleted; refused while an account is bound to it."""
    posted = request.method == "POST"
    try:
        area = _area_or_404(area_id)
    except NotFound:
        done = done_by(current_user, "unit", area_id, action="remove_area") if posted else None
        if done is None:
            raise
        return _already_removed(done.unit_id)
    province = area.parent
    if posted:
        if not ConfirmImportForm(payload="remove").validate_on_submit():
            abort(400)
        unit_ops.lock_unit(province.id)  # the confirmation sent twice at the same moment removes it once
        if db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.id == area.id)) is None:
            return _already_removed(province.id)
    communes = [c for c in operations.province_communes(province) if c.parent_id == area.id]
    accounts = operations.accounts_bound(area)
    if posted and not accounts:
        returned = operations.remove_area(area, user=current_user)
        db.session.commit()
        flash(ngettext("Area %(name)s removed: its %(num)d commune is directly under the province again.",
                       "Area %(name)s removed: its %(num)d communes are directly under the province again.",
                       len(returned), name=area.name), "success")
        return redirect(url_for("areas.index", unit_id=province.id), 303)
    # Each bound account is bound elsewhere from its page; one the viewer cannot open (an administrator's, for province
    # staff) is an administrator's to bind.
    opened = [a for a in accounts if can_open_account(a.id)]
    return render_template("areas/remove.html", area=area, province=province, communes=communes,
                           accounts=accounts, opened=opened, not_opened=[a for a in accounts if a not in opened],
                           form=ConfirmImportForm(payload="1")), 409 if posted else 200
