"""Province staff reorganize their province from the web: upload a plan, preview every change, confirm."""
import base64

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from app.dates import today_vn
from app.downloads import file_name, send_download, unit_slug
from app.extensions import db
from app.imports import ConfirmImportForm
from app.scope import can_reorganize, found_or_abort, plan_bound_to
from app.spreadsheets import SpreadsheetError
from app.templating import locale_date
from app.units import plan_sheet, reorganize
from app.units.forms import DraftPlanForm, PlanUploadForm
from app.units.models import AdminUnit, Reorganization, UnitSuccession
from app.units.views import bp

SALT = "reorganization-plan"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _province() -> AdminUnit:
    """The signed-in province staff's (or admin's) province, still valid: the one a plan reorganizes."""
    unit = current_user.unit
    province = db.session.get(AdminUnit, unit.province_id) if unit is not None else None
    return found_or_abort(province, need=can_reorganize, status=403)


def _serializer() -> URLSafeSerializer:
    from flask import current_app
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _checked(name: str, data: bytes, province: AdminUnit, ahead: bool = False):
    """The plan, checked; refused when it reorganizes another province than the user's. `ahead`: a plan dated
    after today is checked for its preview (applying it stays refused until its day)."""
    only = plan_bound_to(province)
    plan = reorganize.check_plan(name, reorganize.read_plan(name, data), ahead=ahead, only=only)
    if only is not None and (plan.old_provinces or plan.outside) and only.id not in {
            p.id for p in plan.old_provinces.values()}:
        plan.errors.append(_("This plan does not reorganize your province (%(name)s).", name=province.name))
    return plan


def _preview(plan) -> reorganize.Description:
    """Everything applying would do, found by applying it in a savepoint rolled back at once."""
    savepoint = db.session.begin_nested()
    try:
        return reorganize.describe(reorganize.apply_plan(plan, user=current_user), preview=True)
    finally:
        savepoint.rollback()


def _page(province: AdminUnit, form=None, draft_form=None, **preview):
    """The reorganization page: the draft to download, the upload, and the preview of a plan uploaded."""
    if draft_form is None:
        draft_form = DraftPlanForm(province, formdata=None, on=reorganize.draft_default_day(province))
    if form is None:
        form = PlanUploadForm(formdata=None)
    plan = preview.get("plan")
    return render_template("units/reorganize.html", province=province, form=form, draft_form=draft_form,
                           as_it_stands=reorganize.on_two_level_map(province), plan=plan,
                           changes=preview.get("changes"), confirm_form=preview.get("confirm_form"),
                           ahead=plan is not None and plan.effective_on is not None and plan.effective_on > today_vn())


@bp.route("/reorganize", methods=["GET", "POST"])
def reorganize_upload():
    province = _province()
    form = PlanUploadForm()
    plan, changes, confirm, status = None, None, None, 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            # A plan dated ahead is previewed in full, so that it can be reviewed before its day; it is offered
            # for confirming only from that day on (reorganize_confirm checks it again, and refuses it before).
            plan = _checked(upload.filename, data, province, ahead=True)
        except SpreadsheetError as exc:
            form.file.errors.append(str(exc))
            status = 400
        else:
            if plan.ok:
                changes = _preview(plan)
                if plan.effective_on <= today_vn():
                    confirm = ConfirmImportForm(payload=_serializer().dumps(
                        {"province": province.id, "name": upload.filename, "data": base64.b64encode(data).decode()}))
            else:
                status = 422
    elif form.is_submitted():
        status = 400
    return _page(province, form, plan=plan, changes=changes, confirm_form=confirm), status


@bp.get("/reorganize/draft")
def reorganize_draft():
    """The draft plan of the user's province for the day chosen, the workbook `flask units reorganize --draft`
    writes (kept to the province's own lines)."""
    province = _province()
    form = DraftPlanForm(province, formdata=request.args)
    if not form.validate():
        return _page(province, draft_form=form), 400
    day = form.on.data
    rows = reorganize.province_draft(province, day)
    return send_download(plan_sheet.plan_xlsx(rows), file_name("phuong-an-sap-xep", unit_slug(province),
                                                               day.isoformat(), ext="xlsx"), XLSX)


@bp.post("/reorganize/confirm")
def reorganize_confirm():
    province = _province()
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payload = _serializer().loads(form.payload.data)
        data = base64.b64decode(payload["data"])
        name = payload["name"]
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(400)
    if payload.get("province") != province.id:
        if _went_into(payload.get("province"), province):
            # Confirmed a second time (a double tap, the back button): the staff belong to the new province now.
            flash(_("This plan is applied already: here is what it did."), "info")
            return _done_page(province, status=409)
        abort(400)
    # Checked again against the database as it is now: it may have changed since the preview.
    plan = _checked(name, data, province)
    if plan.outside:
        # Lines naming another province's units (a preview made by an administrator, its payload sent by the
        # province's staff): not theirs to apply, whatever the preview said; each line says why.
        return _page(province, plan=plan), 403
    if not plan.ok:
        if not (plan.effective_on and plan.effective_on > today_vn()):  # (early: its problems say so)
            flash(_("The database changed since the preview. Upload the plan again."), "error")
        return _page(province, plan=plan), 409
    reorganize.apply_plan(plan, user=current_user)
    db.session.commit()
    flash(_("The reorganization effective on %(day)s is applied.", day=locale_date(plan.effective_on)), "success")
    return redirect(url_for("units.reorganization_done"), 303)


def _went_into(old_province_id, province: AdminUnit) -> bool:
    """Whether a reorganization of `province` took in the province of this id (whose plan it applied)."""
    return isinstance(old_province_id, int) and db.session.scalar(
        sa.select(UnitSuccession.id).join(Reorganization, Reorganization.id == UnitSuccession.reorganization_id)
        .where(UnitSuccession.old_unit_id == old_province_id, Reorganization.province_id == province.id)
        .limit(1)) is not None


@bp.get("/reorganize/done")
def reorganization_done():
    """What the province's latest reorganization did, as recorded when it was applied."""
    return _done_page(_province())


def _done_page(province: AdminUnit, status: int = 200):
    reorg = db.session.scalar(sa.select(Reorganization).where(Reorganization.province_id == province.id)
                              .order_by(Reorganization.id.desc()).limit(1))
    if reorg is None:
        return redirect(url_for("units.reorganize_upload"))
    return render_template("units/reorganized.html", reorganization=reorg, province=province,
                           changes=reorganize.describe_summary(reorg.summary)), status
