"""The audit trail in words: each event as a sentence a person reads ("Set the households of Ấp X:
120"), its changed fields under their labels. Names are looked up for a page of events at once."""
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.dates import month_label
from app.extensions import db

# (record type, action) -> sentence; %(name)s names the record, other keys come from its changes.
SENTENCES = {
    ("unit", "create"): _l("Added the unit %(name)s"),
    ("unit", "update"): _l("Renamed %(before_name)s to %(name)s"),
    ("unit", "retire"): _l("Retired %(name)s"),
    ("unit", "restore"): _l("Restored %(name)s"),
    ("unit", "set_households"): _l("Set the households of %(name)s: %(households)s"),
    ("unit", "set_adults"): _l("Set the adults of %(name)s: %(adults)s"),
    ("unit", "set_adult_target"): _l("Set an adult indicator target of %(name)s"),
    ("unit", "delete"): _l("Deleted the hamlet %(name)s"),
    ("unit", "merge"): _l("Merged the hamlet %(name)s into %(merged_into)s"),
    ("unit", "split"): _l("Split the hamlet %(name)s into %(split_into)s"),
    ("unit", "set_communes"): _l("Changed the communes of the area %(name)s"),
    ("unit", "remove_area"): _l("Removed the area %(name)s"),
    ("unit", "reorganize"): _l("Applied a reorganization from %(effective_on)s"),
    ("team", "create"): _l("Registered the team %(name)s"),
    ("team", "update"): _l("Changed the team %(name)s"),
    ("team", "dissolve"): _l("Dissolved the team %(name)s"),
    ("team", "reactivate"): _l("Made the team %(name)s active again"),
    ("team", "move"): _l("Moved the team %(name)s to %(commune)s"),
    ("member", "create"): _l("Added the member %(name)s"),
    ("member", "update"): _l("Changed the member %(name)s"),
    ("member", "leave"): _l("%(name)s left the team"),
    ("member", "move"): _l("Moved %(name)s to %(team)s"),
    ("member", "role"): _l("Changed the role of %(name)s in the team"),
    ("user", "create"): _l("Created the account %(name)s"),
    ("user", "disable"): _l("Disabled the account %(name)s"),
    ("user", "update"): _l("Bound the account %(name)s to %(unit)s"),
    ("user", "rename"): _l("Changed the name on the account %(name)s to %(full_name)s"),
    ("user", "enable"): _l("Enabled the account %(name)s again"),
    ("user", "reset_password"): _l("Gave the account %(name)s a new one-time password"),
    ("api_token", "create"): _l("Created the API token %(name)s"),
    ("api_token", "revoke"): _l("Revoked the API token %(name)s"),
    ("household", "create"): _l("Registered the household %(name)s"),
    ("household", "update"): _l("Changed the household %(name)s"),
    ("household", "merge"): _l("Merged the duplicate household %(name)s into another"),
    ("household", "move"): _l("Moved the household %(name)s to another hamlet"),
    ("household", "export"): _l("Exported the data of the household %(name)s"),
    ("household", "erase"): _l("Erased the personal data of the household %(name)s"),
    ("visit", "create"): _l("Recorded a guidance session at the household %(name)s"),
    ("visit", "update"): _l("Changed a guidance session at the household %(name)s"),
    ("visit", "delete"): _l("Deleted a guidance session at the household %(name)s"),
    ("class", "create"): _l("Recorded a class (%(name)s)"),
    ("class", "update"): _l("Changed a class (%(name)s)"),
    ("class", "delete"): _l("Deleted a class (%(name)s)"),
    ("shift", "create"): _l("Recorded a one-stop-centre shift (%(name)s)"),
    ("shift", "update"): _l("Changed a one-stop-centre shift (%(name)s)"),
    ("shift", "delete"): _l("Deleted a one-stop-centre shift (%(name)s)"),
    ("dossier_total", "create"): _l("Recorded the commune's dossiers of a month (%(name)s)"),
    ("dossier_total", "update"): _l("Corrected the commune's dossiers of a month (%(name)s)"),
    ("topic", "create"): _l("Added the class topic %(name)s"),
    ("topic", "update"): _l("Changed the class topic %(name)s"),
    ("service", "create"): _l("Added the service %(name)s"),
    ("service", "update"): _l("Changed the service %(name)s"),
    ("service", "reorder"): _l("Moved the service %(name)s in the list"),
    ("service", "set_target"): _l("Set the province's target for %(name)s"),
    ("month_closure", "close_month"): _l("Closed the month %(name)s"),
    ("month_closure", "reopen_month"): _l("Reopened the month %(name)s"),
    ("month_closure", "edit_closed_month"): _l("Corrected a visit dated in the closed month %(name)s"),
}
FALLBACK = _l("Changed %(name)s")
# The adult indicators a province sets targets for, under the names of their columns on the coverage pages.
ADULT_INDICATORS = {"named_share": _l("Share of adults"), "online_share": _l("Share of dossiers")}
LEVELS = {"province": _l("Province"), "district": _l("District"), "area": _l("Commune area"),
          "commune": _l("Commune"), "hamlet": _l("Hamlet")}

# Also the order a change's fields are listed in: each record's fields as its form asks for them (a member's as
# the member form does), so an entry reads in the same order every time.
FIELDS = {
    "name": _l("Name"), "level": _l("Level"), "code": _l("Code"), "retired_on": _l("Retired on"),
    "households": _l("Households"), "adults": _l("Adults"), "indicator": _l("Indicator"),
    "effective_on": _l("In effect from"),
    "merged_into": _l("Merged into"), "split_into": _l("Split into"), "households_moved": _l("Households moved"),
    "decision_number": _l("Decision number"), "decision_date": _l("Decision date"), "status": _l("Status"),
    "dissolved_on": _l("Dissolved on"), "dissolved_reason": _l("Reason"), "hamlets": _l("Hamlets served"),
    # a member (and the account given to one): as the member, move and account forms ask for them
    "member_id": _l("Member"), "full_name": _l("Full name"), "phone": _l("Mobile number"), "gender": _l("Gender"),
    "birth_year": _l("Year of birth"), "team": _l("Team"), "role": _l("Role"), "affiliation": _l("Affiliation"),
    "joined_on": _l("Joined on"), "left_on": _l("Left on"), "username": _l("Username"),
    "is_enabled": _l("Account enabled"), "unit": _l("Unit"),
    "label": _l("Purpose"), "user": _l("Acts as"), "active": _l("Active"),
    "files_dossiers": _l("People file dossiers through it"),
    "head_name": _l("Head of household"), "address": _l("Address"), "size": _l("People"),
    "hamlet_id": _l("Hamlet"), "merged_into_id": _l("Merged into household"),
    "visits_moved": _l("Visits moved"), "format": _l("Format"), "erased_at": _l("Erased at"),
    "erased_fields": _l("Erased fields"), "reason": _l("Reason"), "household_id": _l("Household"),
    "visited_on": _l("Visit date"), "services": _l("Services"), "pillar": _l("Pillar"),
    "name_vi": _l("Name (Vietnamese)"),
    "name_en": _l("Name (English)"), "position": _l("Position"), "share": _l("Target share"),
    "due_on": _l("Target date"), "month": _l("Month"), "closed_at": _l("Closed at"),
    "closed_by": _l("Closed by"), "visit_date": _l("Visit date"),
    "communes_in": _l("Communes added"), "communes_out": _l("Communes returned to the province"),
    # classes, shifts, the commune's dossiers, moves and reorganizations
    "held_on": _l("Date"), "commune": _l("Commune"), "commune_id": _l("Commune"), "on": _l("Date"),
    "team_id": _l("Team"), "teams": _l("Teams"), "members": _l("Members present"), "topics": _l("Topics"),
    "learners_total": _l("Learners"),
    "age_15_17": _l("Aged 15–17"), "age_18_59": _l("Aged 18–59"), "age_60_plus": _l("Aged 60 and over"),
    "learners_female": _l("Women"), "learners_male": _l("Men"), "named_learners": _l("Named learners"),
    "place_hamlet_id": _l("Hamlet"), "place_name": _l("Place (school, cultural house…)"),
    "results": _l("Learners who came away with a service working"), "people_helped": _l("People helped"),
    "dossiers": _l("Dossiers"), "created": _l("Units created"), "retired": _l("Units ended"),
    "hamlets_moved": _l("Hamlets moved"), "source": _l("Plan"), "founded_on": _l("Founded on"),
    "unit_id": _l("Unit"), "visit_notes_cleared": _l("Visit notes cleared"),
    "merged_duplicates_erased": _l("Merged duplicates erased"), "visit notes": _l("Visit notes"),
    "note": _l("Note"),  # last on every form that has one
}

_FIELD_ORDER = {key: i for i, key in enumerate(FIELDS)}

# Keys whose values are ids of other records (one id or a list of them), by the kind of record named.
REFERENCES = {"unit_id": "unit", "commune_id": "unit", "hamlet_id": "unit", "place_hamlet_id": "unit",
              "team_id": "team", "teams": "team", "member_id": "member", "members": "member",
              "household_id": "household", "merged_into_id": "household", "topics": "topic"}
# Keys whose values map a service's id to what happened with it: a visit's result, a count.
PER_SERVICE = {"services", "dossiers", "results"}


@dataclass
class Entry:
    """An audit event as the trail shows it."""
    event: object
    sentence: str
    who: str
    details: list[tuple[str, object, object]]


def _changes(event) -> dict:
    try:
        data = json.loads(event.changes or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(key: str, value, refs: dict | None = None):
    """A changed value as a person reads it: labels for codes, names for ids, dates and numbers in the
    locale. `refs`: (kind, id) -> name, for the ids the events name (`_names`)."""
    from app.templating import locale_date, locale_number
    if _empty(value):
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in REFERENCES and refs is not None and isinstance(value, (int, list)):
        kind = REFERENCES[key]
        ids = value if isinstance(value, list) else [value]
        return ", ".join((refs.get((kind, i)) or f"#{i}") if isinstance(i, int) else str(i) for i in ids)
    if key == "erased_fields" and isinstance(value, str):  # the fields' codes, joined
        return ", ".join(str(FIELDS.get(part.strip(), part.strip())) for part in value.split(","))
    if key in PER_SERVICE and isinstance(value, dict):
        from app.visits.models import RESULTS
        parts = []
        for sid, what in value.items():
            name = (refs or {}).get(("service", int(sid))) if str(sid).isdigit() else None
            shown = str(RESULTS.get(what, what)) if isinstance(what, str) else locale_number(what)
            parts.append(f"{name or '#' + str(sid)}: {shown}")
        return "; ".join(parts)
    if key == "month" and isinstance(value, int) and 100001 <= value <= 999912:  # yyyymm
        return month_label(value // 100, value % 100)
    if key == "month" and _month(value):
        return _month(value)
    if key == "role":
        from app.auth.models import ROLE_LABELS
        from app.teams.models import MEMBER_ROLES
        return str(ROLE_LABELS.get(value) or MEMBER_ROLES.get(value) or value)
    if key == "level":
        return str(LEVELS.get(value, value))
    if isinstance(value, str) and key in CODED:
        return str(_code_labels()[key].get(value, value))
    if key == "birth_year" and isinstance(value, int):  # a year, never "1.990"
        return str(value)
    if key == "phone" and isinstance(value, str):
        from app.teams.operations import format_phone
        return format_phone(value)
    if key == "share" and isinstance(value, (int, float, str)):  # a target's share of 1, kept as a number or text
        return _share(value)
    if isinstance(value, int):
        return locale_number(value)
    if isinstance(value, str) and len(value) == 10 and (key == "on" or key.endswith(("_on", "_date"))):
        try:
            return locale_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and key.endswith("_at"):
        try:
            return locale_date(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, (list, dict)):
        return ", ".join(map(str, value)) if isinstance(value, list) else json.dumps(value, ensure_ascii=False)
    return value


# Keys whose values are codes, each read through the labels the forms show for them.
CODED = {"status", "gender", "affiliation", "pillar", "indicator", "reason", "format"}


def _code_labels() -> dict[str, dict]:
    from app.teams.models import AFFILIATIONS, GENDERS, TEAM_STATUSES
    from app.visits.models import PILLARS
    return {"status": TEAM_STATUSES, "gender": GENDERS, "affiliation": AFFILIATIONS, "pillar": PILLARS,
            "indicator": ADULT_INDICATORS, "format": {"json": "JSON"},
            # a reason is typed by a person, but an account disabled by a reorganization has the plan's code
            "reason": {"reorganization": _l("Reorganization")}}


def _share(value) -> str:
    """A target's share (0.8, "0.6500") as a percentage, a whole one without decimals: 80%, 32,5%."""
    from app.templating import locale_percent
    try:
        share = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not share.is_finite():
        return str(value)
    return locale_percent(share, 0 if (share * 100) == (share * 100).to_integral_value() else 1)


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _month(value) -> str | None:
    if isinstance(value, str) and len(value) >= 7 and value[4] == "-":
        return f"{value[5:7]}/{value[:4]}"
    return None


def _names(events) -> dict[tuple[str, int], str]:
    """The current name of every record the events refer to, as their subject or by an id in their
    changes (units, teams, members, households, topics, services): one query per kind of record."""
    from app.activities.models import Topic
    from app.api.models import ApiToken
    from app.auth.models import User, account_name
    from app.households.models import Household
    from app.teams.models import Member, Team
    from app.units.models import AdminUnit
    from app.visits.models import Service, Visit
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.record_id is not None:
            wanted.setdefault(e.record_type, set()).add(e.record_id)
        if e.unit_id is not None and (e.record_type in OCCASIONS or e.record_type == "user"):
            # the commune of a class, shift or month's dossiers gone since; the unit an account was bound to
            wanted.setdefault("unit", set()).add(e.unit_id)
        for key, item in _changes(e).items():
            if not isinstance(item, dict):
                continue
            for value in (item.get("before"), item.get("after")):
                if key in REFERENCES and isinstance(value, (int, list)):
                    ids = value if isinstance(value, list) else [value]
                    wanted.setdefault(REFERENCES[key], set()).update(i for i in ids if isinstance(i, int))
                elif key in PER_SERVICE and isinstance(value, dict):
                    wanted.setdefault("service", set()).update(int(k) for k in value if str(k).isdigit())
    occasions = _occasions(events, wanted)
    visits = {}
    if wanted.get("visit"):
        visits = dict(db.session.execute(sa.select(Visit.id, Visit.household_id)
                                         .where(Visit.id.in_(wanted["visit"]))).all())
    households = set(wanted.get("household", ())) | set(visits.values())
    out: dict[tuple[str, int], str] = {}
    simple = (("unit", AdminUnit, AdminUnit.name), ("team", Team, Team.name), ("member", Member, Member.full_name),
              ("api_token", ApiToken, ApiToken.label))
    for kind, model, column in simple:
        if wanted.get(kind):
            for rid, name in db.session.execute(sa.select(model.id, column).where(model.id.in_(wanted[kind]))):
                out[(kind, rid)] = name
    if wanted.get("user"):  # by the person's name, the username after it
        for rid, full_name, username in db.session.execute(
                sa.select(User.id, User.full_name, User.username).where(User.id.in_(wanted["user"]))):
            out[("user", rid)] = account_name(full_name, username)
            out[("username", rid)] = username
    if households:
        for h in db.session.scalars(sa.select(Household).where(Household.id.in_(households))):
            out[("household", h.id)] = h.display_name
    for vid, hid in visits.items():
        if ("household", hid) in out:
            out[("visit", vid)] = out[("household", hid)]
    if wanted.get("service"):  # in the reader's language
        for service in db.session.scalars(sa.select(Service).where(Service.id.in_(wanted["service"]))):
            out[("service", service.id)] = service.name
    if wanted.get("topic"):
        for t in db.session.scalars(sa.select(Topic).where(Topic.id.in_(wanted["topic"]))):
            out[("topic", t.id)] = t.label
    for (kind, rid), facts in occasions.items():
        label = _occasion(kind, facts, out)
        if label:
            out[(kind, rid)] = label
    return out


# Records with no name of their own, named by when and where: a class, a shift, a commune's dossiers of a month.
OCCASIONS = ("class", "shift", "dossier_total")


def _occasions(events, wanted: dict[str, set[int]]) -> dict[tuple[str, int], dict]:
    """When and where each class, shift and month's dossiers the events are about took place, as their rows
    say now; the units these name are added to `wanted`. One deleted since is named from its entry (`_name`)."""
    from app.activities.models import CentreShift, Class, CommuneDossierTotal
    out = {}
    for kind, model in zip(OCCASIONS, (Class, CentreShift, CommuneDossierTotal), strict=True):
        if not wanted.get(kind):
            continue
        for row in db.session.scalars(sa.select(model).where(model.id.in_(wanted[kind]))):
            facts = {"held_on": getattr(row, "held_on", None), "month": getattr(row, "month", None),
                     "place_hamlet_id": getattr(row, "place_hamlet_id", None),
                     "place_name": getattr(row, "place_name", None), "commune_id": row.commune_id}
            out[(kind, row.id)] = facts
            wanted.setdefault("unit", set()).update(i for i in (facts["commune_id"], facts["place_hamlet_id"]) if i)
    return out


def _occasion(kind: str, facts: dict, names: dict) -> str | None:
    """"27/10/2026, Ấp Đông Bình" (a class, where it was held), "10/2026, Phường Vị Thanh" (a month's dossiers)."""
    from app.templating import locale_date
    if kind == "dossier_total":
        when = _value("month", facts.get("month")) if not _empty(facts.get("month")) else None
    else:
        held_on = facts.get("held_on")
        when = locale_date(held_on) if isinstance(held_on, date) else (
            _value("held_on", held_on) if not _empty(held_on) else None)
    where = (names.get(("unit", facts.get("place_hamlet_id"))) or facts.get("place_name")
             or names.get(("unit", facts.get("commune_id"))))
    return ", ".join(str(part) for part in (when, where) if part) or None


def _name(event, changes: dict, names: dict) -> str:
    def side(key):
        item = changes.get(key) or {}
        return item.get("after") if item.get("after") not in (None, "") else item.get("before")

    if event.record_type == "month_closure":
        return _month(side("month")) or _month(side("visit_date")) or f"#{event.record_id}"
    if event.record_type == "visit" and isinstance(side("household_id"), int):
        found = names.get(("household", side("household_id")))
        if found:
            return found
    found = names.get((event.record_type, event.record_id))
    if found:
        return found
    if event.record_type in OCCASIONS:  # gone: as its entry recorded it
        facts = {key: side(key) for key in ("held_on", "month", "place_hamlet_id", "place_name", "commune_id")}
        found = _occasion(event.record_type, {**facts, "commune_id": facts["commune_id"] or event.unit_id}, names)
        if found:
            return found
    if event.record_type == "user" and side("username"):  # an account gone since: as its entry recorded it
        from app.auth.models import account_name
        return account_name(side("full_name"), side("username"))
    for key in ("name", "username", "full_name", "label", "head_name"):
        if side(key):
            return str(side(key))
    return f"#{event.record_id}" if event.record_id is not None else "–"


def describe(events) -> list[Entry]:
    """The events as sentences in the current language, with their changes under field labels."""
    from app.auth.models import account_name
    names = _names(events)
    out = []
    for e in events:
        changes = _changes(e)
        values = {}
        for key, item in changes.items():
            if isinstance(item, dict):
                values[key] = _value(key, item.get("after"))
                values["before_" + key] = _value(key, item.get("before"))
        # The record's name, whatever its changes hold under "name": a deleted hamlet's "after" is empty.
        values["name"] = _name(e, changes, names)
        if (e.record_type, e.action) == ("user", "rename") and names.get(("username", e.record_id)):
            # "the account Nguyen Van An (0912345678) to Nguyễn Văn Ân": named as it was before
            values["name"] = account_name((changes.get("full_name") or {}).get("before"),
                                          names[("username", e.record_id)])
        if "unit" not in values and names.get(("unit", e.unit_id)):
            # An account bound to a unit of the same name as its old one (a reorganization's successor): the
            # unit's name is no change, but the sentence still says where it went.
            values["unit"] = names[("unit", e.unit_id)]
        sentence_of = SENTENCES.get((e.record_type, e.action), FALLBACK)
        try:
            sentence = str(sentence_of) % _Defaulting(values)
        except (KeyError, TypeError, ValueError):
            sentence = str(FALLBACK) % {"name": values["name"]}
        who = e.user.shown_name if e.user is not None else _("system (command line)")
        out.append(Entry(e, sentence, who, _details(_username_if_said(e, changes), names)))
    return out


def _username_if_said(event, changes: dict) -> dict:
    """An account's entries keep its username so that one deleted since is still named (its sentence names it,
    _name); among the changes it says something only where the account was made or the username changed."""
    item = changes.get("username")
    if event.record_type != "user" or event.action == "create" or not isinstance(item, dict):
        return changes
    if not _empty(item.get("before")) and item.get("before") != item.get("after"):
        return changes
    return {key: value for key, value in changes.items() if key != "username"}


def changed_fields(events, labels: dict | None = None) -> dict[int, list[tuple[str, object, object]]]:
    """Each event's changes (by its id) as the trail shows them, for a page listing events its own way (a team's,
    a member's); `labels` for the fields that page names otherwise."""
    names = _names(events)
    return {e.id: _details(_changes(e), names, labels) for e in events}


def _details(changes: dict, names: dict, labels: dict | None = None) -> list[tuple[str, object, object]]:
    """(label, before or None when there was nothing, after) of each changed field. A field empty on both sides
    (a class logged or deleted without a note) says nothing: left out."""
    details = []
    changes = _unit_once(changes, names)
    for k, item in sorted(changes.items(), key=lambda kv: _FIELD_ORDER.get(kv[0], len(_FIELD_ORDER))):
        if not isinstance(item, dict) or (_empty(item.get("before")) and _empty(item.get("after"))):
            continue
        row = (str((labels or {}).get(k) or FIELDS.get(k, k)),
               _value(k, item.get("before"), names) if item.get("before") is not None else None,
               _value(k, item.get("after"), names))
        if row not in details:  # a team's commune kept by name and by id reads the same: once
            details.append(row)
    return details


def _unit_once(changes: dict, names: dict) -> dict:
    """An account bound to another unit is one change, "Unit: A → B", however its entry keeps the units: by name and
    by id on both sides, or (as entries written before) the old one by id only and the new one by name only, where
    each key alone would read "A → –" and "B"."""
    by_name, by_id = changes.get("unit"), changes.get("unit_id")
    if not isinstance(by_name, dict) or not isinstance(by_id, dict):
        return changes

    def side(which: str):
        if not _empty(by_name.get(which)):
            return by_name[which]
        unit_id = by_id.get(which)
        if not isinstance(unit_id, int):
            return None
        return names.get(("unit", unit_id)) or f"#{unit_id}"

    one = {key: item for key, item in changes.items() if key != "unit_id"}
    one["unit"] = {"before": side("before"), "after": side("after")}
    return one


class _Defaulting(dict):
    """Values for a sentence; a key an older event lacks reads as a dash rather than failing."""

    def __missing__(self, key):
        return "–"
