"""What a reorganization does, in words: the communes that change listed in full, those that carry on
as one count (with their names), and the teams and accounts that go elsewhere; for the preview, the
page of the one applied and the command line, all read from the summary recorded when it is applied."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app.auth.models import account_name
from app.text import sort_key
from app.units.models import AdminUnit


def record_communes(commune_targets: dict[int, set[str]], hamlet_moves, created: dict[str, AdminUnit],
                    old_communes: dict[int, AdminUnit]) -> dict:
    """The summary's account of the communes: each new commune with where it comes from (an old commune
    whole, or some of its hamlets), and each split commune with which of its hamlets of today went where (those that
    ended since the plan's day: record_ended_hamlets)."""
    today = [(hamlet, old, code) for hamlet, old, code in hamlet_moves if hamlet.retired_on is None]
    hamlets_to = Counter((old.id, code) for _hamlet, old, code in today)
    names_to: dict[tuple[int, str], list[str]] = defaultdict(list)
    for hamlet, old, code in today:
        names_to[(old.id, code)].append(hamlet.name)
    sources: dict[str, list] = defaultdict(list)
    splits = []
    for commune_id, codes in commune_targets.items():
        old = old_communes[commune_id]
        for code in sorted(codes):
            sources[code].append([old.code, old.name, hamlets_to[(commune_id, code)], len(codes) == 1])
        if len(codes) > 1:
            splits.append([old.code, old.name, [[code, created[code].name,
                                                 sorted(names_to[(commune_id, code)], key=sort_key)]
                                                for code in sorted(codes)]])
    return {"communes": [[code, created[code].name, sources[code]] for code in sorted(sources)],
            "splits": splits}


def record_ended_hamlets(hamlet_moves, created: dict[str, AdminUnit], endings: dict) -> list[list]:
    """The hamlets that ended after the plan's day (a province adopting the app late went on with the old map), each
    carried to its new commune for its days from the plan's day: [name, old commune's code and name, how it ended
    ("merge", "split" or "retired"), from when (ISO), the hamlets it went into, the new commune's code and name]."""
    out = []
    ended = [m for m in hamlet_moves if m[0].retired_on is not None]
    for hamlet, old, code in sorted(ended, key=lambda m: (sort_key(m[1].name), m[0].retired_on, sort_key(m[0].name))):
        ending = endings.get(hamlet.id)
        out.append([hamlet.name, old.code, old.name, ending.kind if ending else "retired",
                    hamlet.retired_on.isoformat(), [u.name for u in ending.into] if ending else [], code,
                    created[code].name])
    return out


def _unit(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code else name


@dataclass
class Description:
    """A reorganization in words, by what a reviewer looks for."""
    provinces: list[str] = field(default_factory=list)   # where each old province goes
    changes: list[str] = field(default_factory=list)     # the communes that change: merged, new, renamed, split
    unchanged: list[str] = field(default_factory=list)   # the communes that carry on as they were
    ended: list[str] = field(default_factory=list)       # the other units that end (districts)
    hamlets: str = ""
    hamlets_ended: list[str] = field(default_factory=list)  # hamlets that ended after the plan's day, carried too
    teams: list[str] = field(default_factory=list)       # the teams that go to another commune
    teams_staying: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)    # the accounts bound elsewhere or deactivated
    accounts_staying: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)       # each area: carries on holding which communes, or ends
    notes: list[str] = field(default_factory=list)       # settings carried (areas to make again, as recorded once)

    def lines(self) -> list[str]:
        """The same, a line each, for the command line (the folded lists on one line)."""
        out = self.provinces + self.changes
        if self.unchanged:
            out.append(_("Communes carrying on unchanged (%(n)d): %(names)s", n=len(self.unchanged),
                         names=", ".join(self.unchanged)))
        out += self.ended + ([self.hamlets] if self.hamlets else []) + self.hamlets_ended + self.teams
        if self.teams_staying:
            out.append(_("Teams staying in their commune (%(n)d): %(names)s", n=len(self.teams_staying),
                         names="; ".join(self.teams_staying)))
        out += self.accounts
        if self.accounts_staying:
            out.append(_("Accounts staying with their unit (%(n)d): %(names)s", n=len(self.accounts_staying),
                         names="; ".join(self.accounts_staying)))
        return out + self.areas + self.notes


def describe_summary(summary: dict, preview: bool = False) -> Description:
    """The description of a reorganization's recorded summary; `preview`: of one not applied yet (found by applying
    it in a savepoint), said as what it would do."""
    if "communes" not in summary:
        return _describe_flat(summary)
    out = Description()
    for old_code, old_name, new_code, new_name in summary.get("provinces", []):
        if (old_code, old_name) == (new_code, new_name):
            out.provinces.append(_("Province: %(name)s carries on.", name=_unit(new_name, new_code)))
        else:
            out.provinces.append(_("Province: %(old)s goes into %(new)s.", old=_unit(old_name, old_code),
                                   new=_unit(new_name, new_code)))
    staying: set[str] = set()
    moved_hamlets = 0
    for code, name, sources in sorted(summary["communes"], key=lambda c: sort_key(c[1])):
        new = _unit(name, code)
        if len(sources) == 1 and sources[0][3]:
            old_code, old_name, hamlets, _whole = sources[0]
            if (old_code, old_name) == (code, name):
                staying.add(code)
                out.unchanged.append(new)
                continue
            out.changes.append(_("Renamed: %(old)s becomes %(new)s.", old=_unit(old_name, old_code), new=new))
            moved_hamlets += hamlets
            continue
        parts = [_unit(old_name, old_code) if whole
                 else _("part of %(name)s", name=_unit(old_name, old_code))
                 for old_code, old_name, _hamlets, whole in sources]
        moved_hamlets += sum(s[2] for s in sources)
        if len(sources) > 1:
            out.changes.append(_("Merged into %(new)s: %(old)s.", new=new, old=", ".join(parts)))
        else:
            out.changes.append(_("New commune %(new)s, from %(old)s.", new=new, old=parts[0]))
    for old_code, old_name, parts in sorted(summary.get("splits", []), key=lambda s: sort_key(s[1])):
        where = [_("%(hamlets)s to %(new)s", hamlets=", ".join(hamlets), new=_unit(new_name, new_code))
                 for new_code, new_name, hamlets in parts]
        out.changes.append(_("Split: %(old)s: %(parts)s.", old=_unit(old_name, old_code), parts="; ".join(where)))
    out.ended = [_("District ended: %(name)s.", name=_unit(name, code))
                 for code, name in summary.get("districts_ended", [])]
    out.hamlets = _("Hamlets of the communes that change: %(n)d, each moved whole with its households and figures.",
                    n=moved_hamlets)
    out.hamlets_ended = _hamlets_ended(summary)
    # A team or an account whose unit goes on under its code "stays" (a merged commune keeping its code takes
    # the others in); folded away when that unit carries on unchanged, listed when it changes.
    for team, old, new, old_code, new_code in summary.get("teams", []):
        if old_code and old_code == new_code:
            line = _("%(team)s stays in %(commune)s", team=team, commune=new)
            (out.teams_staying if new_code in staying else out.teams).append(line)
        else:
            out.teams.append(_("%(team)s moved from %(old)s to %(new)s", team=team, old=old, new=new))
    staying |= {new for old, old_name, new, name in summary.get("provinces", []) if (old, old_name) == (new, name)}
    # An area's officer bound to the area as it goes on stays with it (an area has no code).
    stays_with = {username: area[3] for area in summary.get("areas", []) if len(area) > 3 and area[3]
                  for username in area[2]}
    for username, what, unit, old_code, new_code, *rest in summary.get("accounts", []):
        with_area = what == "moved" and stays_with.get(username) == unit
        username = account_name(rest[0] if rest else "", username)  # a summary recorded before names: username
        if what == "moved" and (old_code and old_code == new_code or with_area):
            line = _("Account %(username)s stays with %(unit)s", username=username, unit=unit)
            (out.accounts_staying if new_code in staying or with_area else out.accounts).append(line)
        else:
            out.accounts.append(_account(username, what, unit))
    out.areas = (_areas_followed(summary, preview) if any(len(a) > 3 for a in summary.get("areas", []))
                 else _areas(summary, staying, preview))
    out.notes = _notes(summary, preview)
    return out


def _hamlets_ended(summary: dict) -> list[str]:
    """Each hamlet that ended after the plan's day: how, and the new commune it counts in from the plan's day until
    it ended, with the hamlets it went into."""
    from app.templating import message_date
    day = message_date(date.fromisoformat(summary["effective_on"]))
    out = []
    for name, old_code, old_name, kind, ended, into, code, new_name in summary.get("hamlets_ended", []):
        words = dict(hamlet=name, old=_unit(old_name, old_code), into=", ".join(into),
                     date=message_date(date.fromisoformat(ended)), new=_unit(new_name, code), day=day)
        if kind == "merge":
            out.append(_("%(hamlet)s of %(old)s, merged into %(into)s from %(date)s: to %(new)s with it, from %(day)s "
                         "until then.", **words))
        elif kind == "split":
            out.append(_("%(hamlet)s of %(old)s, split into %(into)s from %(date)s: to %(new)s with them, from %(day)s "
                         "until then.", **words))
        else:
            out.append(_("%(hamlet)s of %(old)s, retired from %(date)s: to %(new)s, from %(day)s until then.", **words))
    return out


def _areas_followed(summary: dict, preview: bool) -> list[str]:
    """Each area of the province: that it carries on holding the new communes made of its own, or ends (each of
    them also took in communes outside it), and what becomes of its officers; then the new communes left in no
    area, for the province to place."""
    accounts = {a[0]: a for a in summary.get("accounts", [])}

    def outcome(username: str, stays_with: str | None) -> str:
        if username not in accounts:
            return username
        _username, what, unit, _old, _new, *rest = accounts[username]
        name = account_name(rest[0] if rest else "", username)
        if what == "moved" and unit == stays_with:
            return _("Account %(username)s stays with %(unit)s", username=name, unit=unit)
        return _account(name, what, unit)

    out, dropped = [], False
    # An area named again after its old province (another area of the new province bears its name) after the other.
    for name, _communes, officers, new_name, holds in sorted(summary["areas"],
                                                             key=lambda a: (sort_key(a[0]), a[3] not in (None, a[0]))):
        held = ", ".join(_unit(n, c) for c, n in holds)
        if new_name and new_name != name:
            line = _renamed_area(name, new_name, held, preview)
        elif new_name and held:
            line = (_("Area %(name)s will carry on, holding %(communes)s", name=new_name, communes=held) if preview
                    else _("Area %(name)s carries on, holding %(communes)s", name=new_name, communes=held))
        elif new_name:
            line = (_("Area %(name)s will carry on, holding no commune", name=new_name) if preview
                    else _("Area %(name)s carries on, holding no commune", name=new_name))
        else:
            went = ", ".join(_unit(n, c) for c, n, from_areas, _loose in summary.get("communes_in_no_area", [])
                             if name in from_areas)
            line = (_("Area %(name)s will end: each new commune its communes go into also takes in communes outside "
                      "it (%(communes)s)", name=name, communes=went) if preview
                    else _("Area %(name)s ended: each new commune its communes went into also took in communes "
                           "outside it (%(communes)s)", name=name, communes=went))
        if officers:
            said = [outcome(u, new_name) for u in officers]
            dropped |= not new_name and any(accounts.get(u, ("", ""))[1] == "deactivated" for u in officers)
            out.append(_("%(area)s; its officers: %(accounts)s.", area=line, accounts="; ".join(said)))
        else:
            out.append(line + ".")
    if dropped and preview:
        out.append(_("To keep an officer of an area that ends, add a line to the plan with their account and the "
                     "name of an area that carries on in the new unit's name column."))
    elif dropped:
        out.append(_("Bind the officers deactivated to an area on the accounts page and enable their accounts "
                     "again."))
    for code, commune, areas, loose in summary.get("communes_in_no_area", []):
        names = ", ".join(areas)
        if preview and loose:
            out.append(_("%(commune)s will be in no area: it takes in communes of %(areas)s and communes in no "
                         "area. Once the plan is applied, put it in an area on the areas page.",
                         commune=_unit(commune, code), areas=names))
        elif preview:
            out.append(_("%(commune)s will be in no area: it takes in communes of %(areas)s. Once the plan is "
                         "applied, put it in an area on the areas page.", commune=_unit(commune, code), areas=names))
        elif loose:
            out.append(_("%(commune)s is in no area: it took in communes of %(areas)s and communes in no area. Put "
                         "it in an area on the areas page.", commune=_unit(commune, code), areas=names))
        else:
            out.append(_("%(commune)s is in no area: it took in communes of %(areas)s. Put it in an area on the "
                         "areas page.", commune=_unit(commune, code), areas=names))
    return out


def _renamed_area(name: str, new_name: str, held: str, preview: bool) -> str:
    """An area that carries on under another name: its old province's after its own, another area of the new
    province bearing that one (app.units.reorganize._name_areas)."""
    if preview and held:
        return _("Area %(name)s will carry on as %(new_name)s, since the new province has another area of that name, "
                 "holding %(communes)s", name=name, new_name=new_name, communes=held)
    if preview:
        return _("Area %(name)s will carry on as %(new_name)s, since the new province has another area of that name, "
                 "holding no commune", name=name, new_name=new_name)
    if held:
        return _("Area %(name)s carries on as %(new_name)s, since the new province has another area of that name, "
                 "holding %(communes)s", name=name, new_name=new_name, communes=held)
    return _("Area %(name)s carries on as %(new_name)s, since the new province has another area of that name, "
             "holding no commune", name=name, new_name=new_name)


def _areas(summary: dict, staying: set[str], preview: bool) -> list[str]:
    """A summary recorded before areas followed their communes: each area of the province, which of its communes
    change, that it ends with the province and is not made again, and what becomes of its officers."""
    outcome = {a[0]: _account(account_name(a[5] if len(a) > 5 else "", a[0]), a[1], a[2])
               for a in summary.get("accounts", [])}
    out = []
    for name, communes, officers in summary.get("areas", []):
        changing = [_unit(n, c) for c, n in communes if c not in staying]
        if changing and preview:
            held = _("%(changing)d of its %(n)d communes change: %(names)s", changing=len(changing),
                     n=len(communes), names=", ".join(changing))
        elif changing:
            held = _("%(changing)d of its %(n)d communes changed: %(names)s", changing=len(changing),
                     n=len(communes), names=", ".join(changing))
        elif preview:
            held = _("none of its %(n)d communes changes", n=len(communes))
        else:
            held = _("none of its %(n)d communes changed", n=len(communes))
        if preview:
            out.append(_("Area %(name)s (%(held)s) will end with the old province, and the plan does not make it "
                         "again: once it is applied, make it again on the areas page for the new communes.",
                         name=name, held=held))
        else:
            out.append(_("Area %(name)s (%(held)s) ended with the old province, and the plan did not make it again: "
                         "make it again on the areas page for the new communes.", name=name, held=held))
        if officers:
            out.append(_("Officers of %(name)s: %(accounts)s. Once the area is made again, bind them to it from "
                         "the accounts page (and enable them again).", name=name,
                         accounts="; ".join(outcome.get(u, u) for u in officers)))
    return out


def _account(username: str, what: str, unit: str) -> str:
    if what == "moved":
        return _("Account %(username)s moved to %(unit)s", username=username, unit=unit)
    return _("Account %(username)s deactivated (was %(unit)s)", username=username, unit=unit)


def _notes(summary: dict, preview: bool = False) -> list[str]:
    out = []
    carried = summary.get("carried")
    if carried and preview:
        out.append(_("The province will keep its settings under its new unit: %(targets)d service target "
                     "milestones, %(adults)d adult target milestones and %(topics)d class topics of its own will be "
                     "carried over.", targets=carried.get("targets", 0), adults=carried.get("adult_targets", 0),
                     topics=carried.get("topics", 0)))
    elif carried:
        out.append(_("The province keeps its settings under its new unit: %(targets)d service target milestones, "
                     "%(adults)d adult target milestones and %(topics)d class topics of its own carried over.",
                     targets=carried.get("targets", 0), adults=carried.get("adult_targets", 0),
                     topics=carried.get("topics", 0)))
    out += [_("Area %(name)s ends with the old province: make it again on the areas page for the new communes, "
              "then bind its officers to it.", name=name)
            for name in ([] if "areas" in summary else summary.get("areas_ended", []))]
    return out


def _describe_flat(summary: dict) -> Description:
    """A summary recorded before the communes were (a unit per line, as it was recorded)."""
    out = Description()
    out.changes = [_("New unit: %(code)s %(name)s", code=c or "", name=n) for c, n in summary.get("created", [])]
    out.ended = [_("Ended: %(code)s %(name)s", code=c or "", name=n) for c, n in summary.get("retired", [])]
    out.hamlets = _("Hamlets moved: %(n)d", n=summary.get("hamlets_moved", 0))
    for team, old, new in (t[:3] for t in summary.get("teams", [])):
        if old == new:
            out.teams_staying.append(_("%(team)s stays in %(commune)s", team=team, commune=new))
        else:
            out.teams.append(_("%(team)s moved from %(old)s to %(new)s", team=team, old=old, new=new))
    out.accounts = [_account(account_name(a[5] if len(a) > 5 else "", a[0]), a[1], a[2])
                    for a in summary.get("accounts", [])]
    out.notes = _notes(summary)
    return out
