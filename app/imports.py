"""The upload → preview → confirm steps every spreadsheet import shares (hamlets, adults, members).

The preview signs the parsed rows into the confirm form, so nothing is stored between the two
requests and a tampered payload is refused; the confirm step re-checks the rows against the database.
"""
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from app.extensions import db
from app.forms import AppForm
from app.spreadsheets import SpreadsheetError


class UploadForm(AppForm):
    file = FileField(_l("Excel or CSV file"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["xlsx", "csv"], _l("Upload an Excel file (.xlsx) or a CSV file (.csv)."))])


class ConfirmImportForm(AppForm):
    payload = HiddenField(validators=[DataRequired()])
    # Rows flagged at the preview (a question, not a problem) are left out unless this is ticked.
    take_flagged = BooleanField()


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def preview_upload(form, parse: Callable, salt: str, commune_id: int, to_payload: Callable):
    """Validate the upload form and parse its file: (rows, signed payload or None, HTTP status)."""
    rows, payload, status = None, None, 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = parse(upload.filename, upload.read())
        except SpreadsheetError as exc:
            form.file.errors.append(str(exc))
            status = 400
        else:
            if not rows:
                form.file.errors.append(_("The file has no rows below its header."))
                status = 400
            elif any(r.errors for r in rows):
                status = 422
            else:
                payload = _serializer(salt).dumps({"commune": commune_id, "rows": to_payload(rows)})
    elif form.is_submitted():
        status = 400
    return rows, payload, status


def load_payload(form, salt: str, commune_id: int) -> list:
    """The rows signed at preview time for this commune; 400 for anything else."""
    if not form.validate_on_submit():
        abort(400)
    try:
        data = _serializer(salt).loads(form.payload.data)
    except BadSignature:
        abort(400)
    if not isinstance(data, dict) or data.get("commune") != commune_id or not isinstance(data.get("rows"), list):
        abort(400)
    return data["rows"]


@dataclass(frozen=True)
class SheetImport:
    """One kind of commune sheet: how its file is read, carried to the confirm step, checked again and applied.

    `parse(filename, data, commune)` and `recheck(payload_rows, commune)` give rows with `.errors`, and may
    give rows a `.flag` (a question: the member list's name already in the team, the hamlet list's count far from
    the one before or from the other hamlets'; a page may word its note and box: units/import.html), and `recheck`
    may mark a flag `.flag_is_new` (arisen since the preview, so left out whatever the box);
    `apply(rows, commune)` writes them (without committing) and returns the message to show; `left_out(n)` says
    what became of n flagged rows the officer chose not to add.
    """
    salt: str
    template: str
    parse: Callable
    to_payload: Callable
    recheck: Callable
    apply: Callable
    left_out: Callable | None = None

    def preview(self, commune, /, **context):
        """The upload page: the form, or the rows read from the file with the confirm button when all pass."""
        form = UploadForm()
        rows, payload, status = preview_upload(
            form, lambda name, data: self.parse(name, data, commune), self.salt, commune.id, self.to_payload)
        return render_template(self.template, form=form, rows=rows,
                               confirm_form=ConfirmImportForm(payload=payload) if payload else None,
                               **context), status

    def confirm(self, commune, next_url: str, /, **context):
        """Apply the signed rows if they still pass against the database as it is now, else show them (409)."""
        form = ConfirmImportForm()
        rows = self.recheck(load_payload(form, self.salt, commune.id), commune)
        if any(r.errors for r in rows):
            flash(_("The list changed since the preview. Upload the file again."), "error")
            return render_template(self.template, form=UploadForm(formdata=None), rows=rows, confirm_form=None,
                                   **context), 409
        # The box answers the questions the preview asked, not one arisen since (`flag_is_new`).
        flagged = [r for r in rows if getattr(r, "flag", "")
                   and (not form.take_flagged.data or getattr(r, "flag_is_new", False))]
        left_out = {id(r) for r in flagged}
        rows = [r for r in rows if id(r) not in left_out]
        message = self.apply(rows, commune)
        db.session.commit()
        flash(message, "success")
        if flagged and self.left_out is not None:
            flash(self.left_out(len(flagged)), "info")
        return redirect(next_url)
