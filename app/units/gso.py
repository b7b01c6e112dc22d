"""Load a province and its districts and communes from the GSO list in `vietnam-provinces`.

The pinned release (0.6.0) carries the 63-province, three-level list in force until 30 June 2025,
the period the teams' records come from. Codes are written as the GSO writes them: province 2
digits, district 3, commune 5.
"""
import json

import sqlalchemy as sa
import vietnam_provinces

from app.extensions import db
from app.units import services
from app.units.models import AdminUnit


def load_province(code: str) -> dict:
    with open(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH, encoding="utf-8") as fh:
        provinces = json.load(fh)
    for p in provinces:
        if f"{p['code']:02d}" == code.zfill(2):
            return p
    raise LookupError(code)


def import_province(code: str, user=None) -> dict[str, int]:
    """Create or rename the province's units; existing units keep their ids and records."""
    data = load_province(code)
    stats = {"created": 0, "updated": 0}
    existing = {u.code: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.code.isnot(None)))}

    def upsert(code: str, name: str, level: str, parent: AdminUnit | None) -> AdminUnit:
        unit = existing.get(code)
        if unit is None:
            unit = services.create_unit(name, level, parent, code, user=user)
            existing[code] = unit
            stats["created"] += 1
        elif unit.name != name:
            services.rename_unit(unit, name, user=user)
            stats["updated"] += 1
        return unit

    province = upsert(f"{data['code']:02d}", data["name"], "province", None)
    for d in data.get("districts", []):
        district = upsert(f"{d['code']:03d}", d["name"], "district", province)
        for w in d.get("wards", []):
            upsert(f"{w['code']:05d}", w["name"], "commune", district)
    return stats
