"""Audit trail: who changed what, when, before and after (Decree 13/2023 asks for one)."""
import json
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    at = orm.mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    record_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), index=True)
    record_id: orm.Mapped[int | None] = orm.mapped_column(index=True)
    # The unit the record lives in, so the trail is scoped like everything else.
    # No foreign key: the trail outlives a hamlet deleted after a mistaken entry.
    unit_id: orm.Mapped[int | None] = orm.mapped_column(index=True)
    changes: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")

    user = orm.relationship("User")

    @property
    def change_items(self) -> list[tuple[str, object, object]]:
        data = json.loads(self.changes or "{}")
        return [(k, v.get("before"), v.get("after")) for k, v in data.items()]


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def diff(before: dict, after: dict) -> dict:
    """Fields whose value changed, as {field: {before, after}}."""
    out = {}
    for key in sorted(set(before) | set(after)):
        b, a = _plain(before.get(key)), _plain(after.get(key))
        if b != a:
            out[key] = {"before": b, "after": a}
    return out


def event_row(action: str, record_type: str, record_id: int | None, unit_id: int | None,
              before: dict | None, after: dict | None, user) -> dict:
    """The columns of an audit event (its `changes` as JSON), for the writers that insert it themselves."""
    if user is None and current_user and getattr(current_user, "is_authenticated", False):
        user = current_user
    return {"action": action, "record_type": record_type, "record_id": record_id, "unit_id": unit_id,
            "user_id": user.id if user is not None else None,
            "changes": json.dumps(diff(before or {}, after or {}), ensure_ascii=False)}


def record(action: str, record_type: str, record_id: int | None, unit_id: int | None,
           before: dict | None = None, after: dict | None = None, user=None) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change itself)."""
    event = AuditEvent(**event_row(action, record_type, record_id, unit_id, before, after, user))
    db.session.add(event)
    return event


def done_by(user, record_type: str, record_id: int, action: str = "delete") -> AuditEvent | None:
    """The user's latest event of this action on the record (by default its deletion), if they made one: a
    confirmation sent again (back button, double tap) finds the record gone or already changed, and the page
    can say so instead of "not found"."""
    return db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.record_type == record_type, AuditEvent.record_id == record_id, AuditEvent.action == action,
        AuditEvent.user_id == user.id).order_by(AuditEvent.id.desc()).limit(1))


def removed_milestone_by(user, record_type: str, record_id: int, action: str) -> bool:
    """Whether the user's latest change of a target (a service's, or a province's adult ones) removed a
    milestone: its remove button sent again finds the milestone gone, and the page says so."""
    event = done_by(user, record_type, record_id, action=action)
    return event is not None and any(key == "share" and after is None for key, _b, after in event.change_items)
