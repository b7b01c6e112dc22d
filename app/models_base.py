"""Column helpers shared by the feature models."""
from datetime import UTC, datetime

from sqlalchemy.types import DateTime, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps that read back aware on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def sync_per_service(rows: list, wanted: dict, field: str, make) -> None:
    """Makes a record's per-service rows match `wanted` (service id -> value): rows that stay are updated in place
    rather than deleted and inserted again."""
    have = {row.service_id: row for row in rows}
    for service_id, row in have.items():
        if service_id not in wanted:
            rows.remove(row)
        else:
            setattr(row, field, wanted[service_id])
    for service_id, value in wanted.items():
        if service_id not in have:
            rows.append(make(service_id, value))
