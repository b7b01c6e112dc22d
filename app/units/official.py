"""The official lists of administrative units, read from `vietnamadminunits` (MIT, pinned).

The package carries both lists: the 63-province, three-level list in force until 30 June 2025 and
the 34-province, two-level list from 1 July 2025 (3,321 communes), and the links from old communes
to new ones, split communes included. Only its data files are read (an SQLite file and a JSON
file), not its address parser, so its geometry dependencies are never imported.
"""
from __future__ import annotations

import importlib.util
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

# The day the two-level list came into force (Resolution 202/2025/QH15).
TWO_LEVELS_FROM = date(2025, 7, 1)
PACKAGE = "vietnamadminunits"

_KINDS = {"Phường": "phuong", "Xã": "xa", "Thị trấn": "thi_tran", "Đặc khu": "dac_khu",
          "Quận": "quan", "Huyện": "huyen", "Thị xã": "thi_xa", "Thành phố": "thanh_pho"}
# The words a unit's name opens with to say its kind, the longer first ("Thị trấn" before any "Thị").
KIND_WORDS = tuple(sorted([*_KINDS, "Tỉnh"], key=len, reverse=True))


def without_kind(name: str) -> str:
    """A unit's name without the word for its kind it opens with, as people say it: "Tỉnh Sóc Trăng" -> "Sóc Trăng",
    "Thành phố Cần Thơ" -> "Cần Thơ" (a name that is only a kind word, or opens with none, as it is)."""
    kind = next((k for k in KIND_WORDS if name.startswith(k + " ") and name[len(k) + 1:].strip()), None)
    return name[len(kind) + 1:].strip() if kind else name


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str
    level: str
    kind: str | None
    parent_code: str | None


def _data_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{PACKAGE} is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def data_version() -> str:
    from importlib.metadata import version
    return f"{PACKAGE} {version(PACKAGE)}"


def _rows(sql: str, params=()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _province_kind(name: str) -> str:
    return "thanh_pho_tw" if name.startswith("Thành phố") else "tinh"


def two_levels(day: date) -> bool:
    return day >= TWO_LEVELS_FROM


@lru_cache(maxsize=8)
def province_units(code: str, day: date) -> tuple[OfficialUnit, ...]:
    """The province `code` and everything under it in the list in force on `day`, parents first.

    Raises LookupError when that list has no such province.
    """
    code = code.strip().zfill(2)
    out: list[OfficialUnit] = []
    if two_levels(day):
        rows = _rows("SELECT province, ward, wardType, provinceCode, wardCode FROM admin_units "
                     "WHERE provinceCode = ? ORDER BY wardCode", (code,))
        if not rows:
            raise LookupError(code)
        out.append(OfficialUnit(code, rows[0]["province"], "province", _province_kind(rows[0]["province"]), None))
        out += [OfficialUnit(r["wardCode"], r["ward"], "commune", _KINDS.get(r["wardType"]), code) for r in rows]
        return tuple(out)
    rows = _rows("SELECT province, district, ward, districtType, wardType, provinceCode, districtCode, wardCode "
                 "FROM admin_units_legacy WHERE provinceCode = ? ORDER BY districtCode, wardCode", (code,))
    if not rows:
        raise LookupError(code)
    out.append(OfficialUnit(code, rows[0]["province"], "province", _province_kind(rows[0]["province"]), None))
    seen: set[str] = set()
    for r in rows:
        if r["districtCode"] and r["districtCode"] not in seen:
            seen.add(r["districtCode"])
            out.append(OfficialUnit(r["districtCode"], r["district"], "district", _KINDS.get(r["districtType"]),
                                    code))
    for r in rows:
        # A district without communes (an island district) has an empty ward.
        if r["wardCode"] and r["wardCode"] not in seen:
            seen.add(r["wardCode"])
            out.append(OfficialUnit(r["wardCode"], r["ward"], "commune", _KINDS.get(r["wardType"]),
                                    r["districtCode"]))
    return tuple(out)


def codes_in_force(day: date) -> set[str]:
    """Every province and commune code (and before the reform, district code) of the list in force."""
    if two_levels(day):
        rows = _rows("SELECT DISTINCT provinceCode AS c FROM admin_units UNION SELECT wardCode FROM admin_units")
    else:
        rows = _rows("SELECT DISTINCT provinceCode AS c FROM admin_units_legacy UNION "
                     "SELECT districtCode FROM admin_units_legacy UNION SELECT wardCode FROM admin_units_legacy")
    return {r["c"] for r in rows if r["c"]}


def provinces(day: date) -> list[tuple[str, str]]:
    """(code, name) of every province in the list in force on `day`, by code."""
    table = "admin_units" if two_levels(day) else "admin_units_legacy"
    return [(r["provinceCode"], r["province"]) for r in
            _rows(f"SELECT DISTINCT provinceCode, province FROM {table} ORDER BY provinceCode")]


@dataclass(frozen=True)
class ProvinceElsewhere:
    """A province code absent from the list in force on a day but present in the other list."""
    code: str
    name: str
    until: date | None       # the old list's last day, when the other list is the old one
    since: date | None       # the new list's first day, when the other list is the new one
    successor: tuple[str, str] | None  # (code, name) of the new province that took it in


def province_in_the_other_list(code: str, day: date) -> ProvinceElsewhere | None:
    """Where `code` stands in the list not in force on `day` (before or after 1 July 2025), or None."""
    code = code.strip().zfill(2)
    if not two_levels(day):
        rows = _rows("SELECT province FROM admin_units WHERE provinceCode = ? LIMIT 1", (code,))
        return ProvinceElsewhere(code, rows[0]["province"], None, TWO_LEVELS_FROM, None) if rows else None
    rows = _rows("SELECT province, provinceKey FROM admin_units_legacy WHERE provinceCode = ? LIMIT 1", (code,))
    if not rows:
        return None
    with open(_data_dir() / "converter_2025.json", encoding="utf-8") as fh:
        new_keys = [new for new, olds in json.load(fh)["DICT_PROVINCE"].items() if rows[0]["provinceKey"] in olds]
    successor = None
    if len(new_keys) == 1:
        new = _rows("SELECT provinceCode, province FROM admin_units WHERE provinceKey = ? LIMIT 1", (new_keys[0],))
        successor = (new[0]["provinceCode"], new[0]["province"]) if new else None
    return ProvinceElsewhere(code, rows[0]["province"], TWO_LEVELS_FROM - timedelta(days=1), None, successor)


@dataclass(frozen=True)
class Link:
    """An old commune's share in a new one; `split` when the old commune went to several."""
    old_code: str
    old_province_code: str
    new_code: str
    split: bool


def links_into(province_code: str) -> list[Link]:
    """The official old -> new links of the communes of a new province (two-level list)."""
    province_code = province_code.strip().zfill(2)
    new = _rows("SELECT provinceKey, wardKey, wardCode FROM admin_units WHERE provinceCode = ?", (province_code,))
    if not new:
        raise LookupError(province_code)
    province_key = new[0]["provinceKey"]
    new_codes = {r["wardKey"]: r["wardCode"] for r in new}
    old_codes = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": (r["wardCode"], r["provinceCode"])
                 for r in _rows("SELECT provinceKey, districtKey, wardKey, wardCode, provinceCode "
                                "FROM admin_units_legacy")}
    with open(_data_dir() / "converter_2025.json", encoding="utf-8") as fh:
        data = json.load(fh)
    divided = data["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {})
    links: list[Link] = []
    for new_key, olds in data["DICT_PROVINCE_WARD_NO_DIVIDED"].get(province_key, {}).items():
        for old_key in olds:
            if old_key in old_codes and old_codes[old_key][0] and new_key in new_codes:
                code, province = old_codes[old_key]
                links.append(Link(code, province, new_codes[new_key], False))
    for old_key, targets in divided.items():
        if old_key not in old_codes or not old_codes[old_key][0]:
            continue
        code, province = old_codes[old_key]
        for t in targets:
            if t["newWardKey"] in new_codes:
                links.append(Link(code, province, new_codes[t["newWardKey"]], True))
    return sorted(set(links), key=lambda x: (x.new_code, x.old_code))
