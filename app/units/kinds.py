"""The official kind of a unit (xã, phường, đặc khu, ...) as shown everywhere: one label function."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "tinh": _l("Province"), "thanh_pho_tw": _l("Centrally-run city"),
    "huyen": _l("District"), "quan": _l("Urban district"), "thi_xa": _l("Town"), "thanh_pho": _l("City"),
    "xa": _l("Commune"), "phuong": _l("Ward"), "thi_tran": _l("Township"), "dac_khu": _l("Special zone"),
    "ap": _l("Hamlet (ấp)"), "thon": _l("Village (thôn)"), "to_dan_pho": _l("Residential group"),
    "khom": _l("Hamlet (khóm)"), "khu_pho": _l("Quarter"),
}
LEVEL_LABELS = {"province": _l("Province"), "district": _l("District"), "area": _l("Commune area"),
                "commune": _l("Commune"),
                "hamlet": _l("Hamlet")}


def label(unit) -> str:
    """The unit's kind when the list gives one ("Phường"), else its level's name ("Xã" for a commune)."""
    kind = KIND_LABELS.get(unit.kind or "")
    return str(kind if kind is not None else LEVEL_LABELS.get(unit.level, unit.level))
