"""The upload → preview → confirm steps every spreadsheet import shares (hamlets, members).

The preview signs the parsed rows into the confirm form, so nothing is stored between the two
requests and a tampered payload is refused; the confirm step re-checks the rows against the database.
"""
from collections.abc import Callable

from flask import abort, current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from app.spreadsheets import SpreadsheetError


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
