"""Lost updates: an edit form carries the version of the record it was opened on, and a save over a record changed
since is refused (409) with the form as typed, who changed it, and what it holds now where that differs. The version
is a hidden field of the form (`version`); missing, tampered with or old, it is not the record's, and the save is
refused as one over a change made meanwhile, never an error."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from app.audit.models import AuditEvent
from app.database import sqlite_write_lock_now
from app.extensions import db
from app.main.conflicts import shown, shown_value

# A digest of the record's editable values, then the id of the record's latest audit event when the form was
# opened (so a refusal can name who changed it since), then a short digest of each value in the order of their names
# (so a refusal lists only what was changed since, not what the person changed themselves), e.g. "3f9a…c2.1841.0c1d…".
_DIGEST = 32
_EACH = 8


@dataclass
class ChangedMeanwhile:
    """What the person is told when the record changed after they opened its form."""
    by: str | None  # the name of who changed it, when the audit trail says
    at: datetime | None
    rows: list[tuple[str, str, str]]  # (label, what the record holds now, what the person typed) where they differ


def digest(values: dict) -> str:
    text = json.dumps(values, sort_keys=True, default=_plain, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGEST]


def version_of(values: dict, record_type: str, record_id: int, actions: tuple[str, ...] = ()) -> str:
    """The version an edit form carries: `values` are the record's editable values (what the form is filled
    with), `record_type`, `record_id` and `actions` the audit events that change them."""
    return _stamp(values, _latest_event(record_type, record_id, actions))


def _stamp(values: dict, latest: AuditEvent | None) -> str:
    return f"{digest(values)}.{latest.id if latest else 0}.{''.join(_each(values).values())}"


def _each(values: dict) -> dict[str, str]:
    return {name: digest({name: values[name]})[:_EACH] for name in sorted(values)}


def each_of(name: str, figures: dict, ids) -> dict:
    """Figures a form holds by id (a visit's result of each service), as values of their own, `name-id`, one for each
    id offered (`ids`) or held: so that a notice lists only those changed since the form was opened."""
    return {f"{name}-{i}": figures.get(i) for i in sorted(set(ids) | set(figures))}


def changed_since(sent: str, values: dict) -> set[str] | None:
    """The names of the values that changed since the form was opened, read from its version; None when the version
    does not say (missing, tampered with, or of a form that held other values)."""
    each = _each(values)
    opened = sent.split(".")[2] if sent.count(".") == 2 else ""
    if len(opened) != _EACH * len(each) or not opened.isascii() or not opened.isalnum():
        return None
    return {name for i, (name, now) in enumerate(each.items()) if opened[i * _EACH:(i + 1) * _EACH] != now}


def hold(record) -> None:
    """Before a save compares the version: the record is held until the commit, so that a save at the same moment
    waits and then finds this one's change (PostgreSQL: its row locked; SQLite: the database's write lock), and
    everything is read again as it is now."""
    connection = db.session.connection()
    sqlite_write_lock_now(connection)
    db.session.expire_all()
    if connection.dialect.name == "postgresql":
        model = type(record)
        if db.session.scalar(sa.select(model.id).where(model.id == record.id).with_for_update()) is None:
            # Removed by another request since its page found it: a save over a row removed meanwhile, which
            # app.main.errors answers with 409 (SQLite finds the same on reading the record again).
            raise StaleDataError(f"{model.__name__} {record.id} was removed meanwhile")
        db.session.refresh(record)


def overtaken(form, record, values, record_type: str, actions: tuple[str, ...] = (), more_rows=None) -> bool:
    """At a save: whether the record changed since its form was opened (then the form carries the notice and the new
    version, and the view answers 409 with it). `values()` gives the record's editable values as for `version_of`,
    `more_rows()` the differences its fields do not show one by one (as for `changed_meanwhile`); both are read after
    the record is held."""
    hold(record)
    return changed_meanwhile(form, values(), record_type, record.id, actions,
                             more_rows() if more_rows is not None else None) is not None


def changed_meanwhile(form, values: dict, record_type: str, record_id: int, actions: tuple[str, ...] = (),
                      more_rows: dict[str, tuple[str, str, str] | None] | None = None) -> ChangedMeanwhile | None:
    """None when the form's version (its `version` field) is the record's (`values` as for `version_of`, read
    after `hold`), or when what was typed is what the record holds now; else what to tell the person, also set as
    `form.changed_meanwhile` for the page, and the form now carries the record's version, so that sending it again
    saves it. `more_rows` are what the form's fields do not show one by one, each by the name of its value (a visit's
    result of a service, `service-3`; a class's named learners): the row telling how it differs from what was
    typed, or None where it does not.
    Only what changed since the form was opened is listed (where its version says): a value the person changed
    and no one else did is theirs to save, not a difference to look at."""
    sent = (form.version.data or "").strip()
    if sent.partition(".")[0] == digest(values):
        return None
    more_rows = more_rows or {}
    changed = changed_since(sent, values)
    if changed is not None and any(n not in more_rows and n in form._fields
                                   and form._fields[n].type in ("HiddenField", "FieldList") for n in changed):
        changed = None  # someone changed what no row shows: every difference is listed
    rows = []
    for name, value in values.items():
        if changed is not None and name not in changed:
            continue
        if name in more_rows:
            rows += [more_rows[name]] if more_rows[name] is not None else []
            continue
        field = form._fields.get(name)
        # Rows of fields (a class's named learners) are no one value: their difference is a row of more_rows.
        if field is None or field.type in ("HiddenField", "FieldList") or _same(field.data, value):
            continue
        typed = shown_value(field, field.data) if not field.errors else shown(field)
        rows.append((str(field.label.text), shown_value(field, value), typed))
    if not rows:
        return None  # what was typed is what it holds now (the form sent twice, or both wrote the same): nothing lost
    latest = _latest_event(record_type, record_id, actions)
    form.version.data = _stamp(values, latest)
    seen = sent.split(".")[1] if "." in sent else ""
    # Named only when the trail has a change made after the form was opened (the field may be tampered with).
    known = latest is not None and seen.isascii() and seen.isdigit() and len(seen) < 19 and latest.id > int(seen)
    notice = ChangedMeanwhile(by=_name(latest.user) if known else None, at=latest.at if known else None, rows=rows)
    form.changed_meanwhile = notice
    return notice


def _latest_event(record_type: str, record_id: int, actions: tuple[str, ...]) -> AuditEvent | None:
    query = sa.select(AuditEvent).where(AuditEvent.record_type == record_type, AuditEvent.record_id == record_id)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    return db.session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))


def _name(user) -> str | None:
    return (user.full_name or user.username) if user is not None else None


def _same(typed, now) -> bool:
    """Whether what was typed is what the record holds, as a person reads them (spaces in a phone number aside)."""
    def plain(value):
        if isinstance(value, (list, tuple, set)):
            return sorted(plain(v) for v in value)
        if value is None:
            return ""
        return "".join(str(value).split())
    return plain(typed) == plain(now)


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return str(value)
