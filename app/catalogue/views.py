"""Province staff edit the services catalogue; everyone signed in may read it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import versions
from app.audit.models import removed_milestone_by
from app.auth.guard import require_sign_in
from app.catalogue import operations as catalogue
from app.catalogue.forms import NewServiceForm, ServiceForm
from app.catalogue.milestones import NEW, edited_milestone, milestone_problem
from app.dates import today_vn
from app.extensions import db
from app.scope import can_manage_services, requires
from app.templating import locale_date, target_percent
from app.visits.models import PILLARS, Service, Target

bp = Blueprint("services", __name__, url_prefix="/services")
require_sign_in(bp)


def _province_id():
    unit = current_user.unit
    return unit.id if unit is not None and unit.level == "province" else None


def _render_index(new_form=None, status=200):
    province_id = _province_id()
    milestones = catalogue.milestones_for(province_id) if province_id else {}
    return render_template(
        "catalogue/services.html", services=catalogue.all_services(), pillars=PILLARS, milestones=milestones,
        in_force={sid: t.id for sid, t in catalogue.in_force(milestones).items()},
        may_manage=can_manage_services(),
        new_form=new_form or (NewServiceForm(formdata=None, prefix="new") if can_manage_services() else None),
    ), status


@bp.get("/")
def index():
    return _render_index()


@bp.post("/")
@requires(can_manage_services)
def add():
    form = NewServiceForm(prefix="new")
    if form.validate_on_submit():
        service = catalogue.add_service(form.code.data, form.pillar.data, form.name_vi.data,
                                        form.name_en.data, user=current_user)
        db.session.commit()
        flash(_("Service %(name)s added.", name=service.name), "success")
        return redirect(url_for("services.index"), 303)
    return _render_index(new_form=form, status=400)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@requires(can_manage_services)
def edit(service_id: int):
    service = db.get_or_404(Service, service_id)
    province_id = _province_id()
    today = today_vn()
    # The target fields change one milestone in place (its share, its date): by default the one in force today;
    # a milestone of the list by its Edit link; a new one by "Add a milestone". An empty share removes it.
    milestones = catalogue.milestones_for(province_id).get(service.id, []) if province_id else []
    form = ServiceForm(obj=service)
    if request.method == "GET":
        asked = request.args.get("milestone")
        edited = edited_milestone(milestones, asked, today)
        form.milestone.data = str(edited.id) if edited is not None else NEW
        if edited is not None:
            form.share.data, form.due_on.data = edited.share, edited.due_on
    else:
        edited = edited_milestone(milestones, form.milestone.data, today) if form.milestone.data else None
    status = 200
    if not form.is_submitted():
        form.version.data = versions.version_of(_service_values(service, edited), "service", service.id,
                                                SERVICE_EDITS)
    if form.validate_on_submit():
        now = lambda: _service_values(service, _milestone_now(service, form, province_id))  # noqa: E731
        if versions.overtaken(form, service, now, "service", SERVICE_EDITS):
            return _render_edit(service, form, province_id, 409)
        problem = milestone_problem(form.share.data, form.due_on.data, form.milestone.data, form.confirm_date.data,
                                    milestones, edited, today) if province_id else None
        if problem is None:
            catalogue.update_service(service, user=current_user, name_vi=form.name_vi.data,
                                     name_en=form.name_en.data, active=form.active.data,
                                     files_dossiers=form.files_dossiers.data)
            if province_id and edited is not None and form.due_on.data is not None:
                catalogue.change_target(edited, form.share.data, form.due_on.data, user=current_user)
            elif province_id:
                catalogue.set_target(service, province_id, form.share.data, form.due_on.data, user=current_user)
            db.session.commit()
            flash(_("Service %(name)s saved.", name=service.name), "success")
            return redirect(url_for("services.index"), 303)
        message, status = problem
        form.due_on.errors = list(form.due_on.errors) + [message]
        if status == 409:
            form.confirm_date.data = form.due_on.data.isoformat()
    elif form.is_submitted():
        status = 400
    return render_template("catalogue/service_edit.html", service=service, form=form,
                           has_province=province_id is not None, milestones=milestones, edited=edited,
                           in_force=catalogue.milestone_on(milestones, today)), status


# The audit events of a change to a service or to a province's milestone of its target.
SERVICE_EDITS = ("create", "update", "set_target")


def _service_values(service: Service, milestone: Target | None) -> dict:
    """What the service's edit form holds, by its fields' names (its version, app/versions.py): the service, and the
    share and date of the milestone it changes (none for a new one)."""
    return {"name_vi": service.name_vi, "name_en": service.name_en, "active": service.active,
            "files_dossiers": service.files_dossiers, "share": milestone.share if milestone else None,
            "due_on": milestone.due_on if milestone else None}


def _milestone_now(service: Service, form, province_id) -> Target | None:
    """The milestone the form was opened on, as it is now (read again once the service is held): the one its hidden
    field names, else (a form without it) the one in force today, which the form opens on."""
    if province_id is None:
        return None
    return edited_milestone(catalogue.milestones_for(province_id).get(service.id, []), form.milestone.data, today_vn())


def _render_edit(service: Service, form, province_id, status: int):
    """The edit page again after a refusal, its milestones as they are now."""
    today = today_vn()
    milestones = catalogue.milestones_for(province_id).get(service.id, []) if province_id else []
    edited = edited_milestone(milestones, form.milestone.data, today) if form.milestone.data else None
    return render_template("catalogue/service_edit.html", service=service, form=form,
                           has_province=province_id is not None, milestones=milestones, edited=edited,
                           in_force=catalogue.milestone_on(milestones, today)), status


@bp.post("/<int:service_id>/targets/<int:target_id>/remove")
@requires(can_manage_services)
def remove_target(service_id: int, target_id: int):
    """Remove one milestone of the province's target: only one of the staff's own province."""
    province_id = _province_id()
    target = db.session.get(Target, target_id)
    if (target is None and province_id is not None
            and removed_milestone_by(current_user, "service", service_id, "set_target")):
        # The remove button sent again (double tap, back button): the milestone is gone already.
        flash(_("This milestone was already removed."), "info")
        return redirect(url_for("services.edit", service_id=service_id), 303)
    if province_id is None or target is None or target.province_id != province_id or target.service_id != service_id:
        abort(404)
    catalogue.remove_target(target, user=current_user)
    db.session.commit()
    flash(_("Target of %(share)s by %(date)s removed.", share=target_percent(target.share),
            date=locale_date(target.due_on)), "success")
    return redirect(url_for("services.edit", service_id=service_id), 303)


@bp.post("/<int:service_id>/move")
@requires(can_manage_services)
def move(service_id: int):
    service = db.get_or_404(Service, service_id)
    step = -1 if request.form.get("direction") == "up" else 1
    catalogue.move_service(service, step, user=current_user)
    db.session.commit()
    return redirect(url_for("services.index"), 303)
