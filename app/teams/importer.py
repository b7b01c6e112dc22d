"""Import a commune's member list from CSV/XLSX: every row checked, then all rows or none.

Each row names the hamlet (or the team) the member works in; the member joins the commune's
active team serving that hamlet.
"""
from dataclasses import asdict, dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app import rules
from app.extensions import db
from app.scope import members_query
from app.spreadsheets import SheetRow, date_cell, read_rows, text_cell
from app.teams import operations as team_ops
from app.teams.models import AFFILIATIONS, Member, Membership, Team
from app.templating import locale_date
from app.text import clean, fold
from app.units.models import AdminUnit

MEMBER_COLUMNS = {
    "full_name": "full_name", "name": "full_name", "ho_ten": "full_name", "ho_va_ten": "full_name",
    "ten": "full_name", "ten_thanh_vien": "full_name",
    "phone": "phone", "mobile": "phone", "so_dien_thoai": "phone", "sdt": "phone", "dien_thoai": "phone",
    "so_dt": "phone", "dtdd": "phone",
    "gender": "gender", "gioi_tinh": "gender", "phai": "gender",
    "birth_year": "birth_year", "nam_sinh": "birth_year", "year_of_birth": "birth_year",
    "role": "role", "vai_tro": "role", "chuc_vu": "role", "chuc_danh": "role",
    "affiliation": "affiliation", "don_vi": "affiliation", "don_vi_cong_tac": "affiliation",
    "thanh_phan": "affiliation", "co_quan": "affiliation",
    "hamlet": "hamlet", "ap": "hamlet", "ten_ap": "hamlet", "ap_khu_vuc": "hamlet", "khu_vuc": "hamlet",
    "thon": "hamlet", "ap_khom": "hamlet",
    "team": "team", "to": "team", "ten_to": "team", "to_cnscd": "team", "to_cong_nghe_so": "team",
    "joined_on": "joined_on", "ngay_tham_gia": "joined_on", "ngay_vao_to": "joined_on", "tu_ngay": "joined_on",
}
ROLE_WORDS = {
    "leader": "leader", "to_truong": "leader", "truong": "leader", "truong_to": "leader",
    "deputy": "deputy", "to_pho": "deputy", "pho": "deputy", "pho_to": "deputy", "deputy_leader": "deputy",
    "member": "member", "thanh_vien": "member", "": "member",
}
# The template's example line starts so (app.teams.template); folded, so it is known whatever the language the
# template was downloaded in.
EXAMPLE_PREFIXES = ("vi du:", "example:")
GENDER_WORDS = {"nam": "male", "male": "male", "m": "male", "nu": "female", "female": "female", "f": "female",
                "khac": "other", "other": "other", "": ""}
# Looked for inside the folded cell, so "Đoàn Thanh niên xã" is the youth union.
AFFILIATION_WORDS = [
    ("thanh nien", "youth_union"), ("youth", "youth_union"),
    ("phu nu", "womens_union"), ("women", "womens_union"),
    ("nong dan", "farmers_union"), ("farmer", "farmers_union"),
    ("cong an", "commune_police"), ("police", "commune_police"),
    ("buu dien", "post_office"), ("buu chinh", "post_office"), ("post", "post_office"),
    ("vien thong", "telecom"), ("viettel", "telecom"), ("vnpt", "telecom"), ("mobifone", "telecom"),
    ("telecom", "telecom"),
    ("giao vien", "teacher"), ("teacher", "teacher"),
    ("truong ap", "hamlet_head"), ("truong khu vuc", "hamlet_head"), ("truong thon", "hamlet_head"),
    ("hamlet head", "hamlet_head"),
]


@dataclass
class MemberRow:
    line: int
    full_name: str = ""
    phone: str = ""
    gender: str = ""
    birth_year: int | None = None
    role: str = "member"
    affiliation: str = "other"
    # The affiliation as the file wrote it ("Viettel"), which `affiliation` was read from by a looser match.
    affiliation_text: str = ""
    hamlet: str = ""
    team_name: str = ""
    joined_on: date | None = None
    team_id: int | None = None
    errors: list[str] = field(default_factory=list)
    # Not a problem, a question: the name is already in the team (the same list uploaded twice, or a
    # member added by hand before). Such a row is left out unless the officer says to add it all the same.
    flag: str = ""
    # Neither: a line that adds nobody, and why (the member is registered in the team already, with this
    # number and this name; the template's example line). Shown in the preview, never applied.
    skipped: str = ""
    example: bool = False  # the template's example line, skipped unread
    # The active members of the team bearing the row's name (accents aside) when it was checked: carried from the
    # preview to the confirmation, which tells a question the preview asked from one arisen since (flag_is_new).
    same_names: int = 0
    flag_is_new: bool = False
    phone_refused: bool = False  # `phone` is the cell as typed, not a number: shown as it is

    def affiliation_read(self) -> str:
        """The file's own word for the affiliation when the label it was read as is another ("Viettel" read as
        Telecom), for the preview to show both; "" when they are the same, or the cell was empty."""
        label = str(AFFILIATIONS.get(self.affiliation, self.affiliation))
        if not self.affiliation_text or fold(self.affiliation_text) in (fold(label), self.affiliation):
            return ""
        return self.affiliation_text

    def payload(self) -> dict:
        data = asdict(self)
        data.pop("errors")
        data.pop("flag")
        data.pop("skipped")
        data.pop("example")
        data.pop("flag_is_new")
        data.pop("phone_refused")
        data["joined_on"] = self.joined_on.isoformat() if self.joined_on else None
        return data


def _key(text: str) -> str:
    return fold(text).replace(" ", "_")


def is_example(name: str) -> bool:
    """The template's example line: its name starts "Ví dụ:" (or "Example:", the template in English)."""
    return fold(name).startswith(EXAMPLE_PREFIXES)


def same_name(a: str, b: str) -> bool:
    """The same name as typed, but for case and spacing: accents count (Ân is not An)."""
    return clean(a).casefold() == clean(b).casefold()


def affiliation_of(text: str) -> str:
    if text in AFFILIATIONS:
        return text
    folded = fold(text)
    return next((code for word, code in AFFILIATION_WORDS if word in folded), "other")


def parse_members(filename: str, data: bytes, commune: AdminUnit, today: date, user=None) -> list[MemberRow]:
    """Raises SpreadsheetError when the upload is not a spreadsheet."""
    return check_members(read_rows(filename, data, MEMBER_COLUMNS), commune, today, user)


def rows_from_payload(rows: list[dict]) -> list[SheetRow]:
    return [SheetRow(line=r["line"], values={
        "full_name": r["full_name"], "phone": r["phone"], "gender": r["gender"], "birth_year": r["birth_year"],
        "role": r["role"], "affiliation": r.get("affiliation_text") or r["affiliation"], "hamlet": r["hamlet"],
        "team": r["team_name"],
        "joined_on": r["joined_on"]}) for r in rows]


def check_members(rows: list[SheetRow], commune: AdminUnit, today: date, user=None) -> list[MemberRow]:
    hamlets = {h.name_folded: h for h in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id, AdminUnit.retired_on.is_(None)))}
    teams = list(db.session.scalars(sa.select(Team).where(Team.commune_id == commune.id, Team.status == "active")))
    teams_by_name = {t.name_folded: t for t in teams}
    serving = team_ops.hamlet_ids_of(teams)
    leaders = team_ops.leaders([t.id for t in teams])
    in_teams = _names_in_teams([t.id for t in teams])
    names_seen: dict[tuple[int, str], int] = {}
    phones_seen: dict[str, int] = {}
    leaders_in_file: dict[int, int] = {}
    parsed = []
    for row in rows:
        v = row.values
        out = MemberRow(line=row.line, full_name=text_cell(v.get("full_name")), hamlet=text_cell(v.get("hamlet")),
                        team_name=text_cell(v.get("team")))
        parsed.append(out)
        if is_example(out.full_name):
            # Left in a filled template, it must add nobody, nor stop the file.
            out.example, out.skipped = True, _("The template's example line: it adds nobody.")
            continue
        if not out.full_name:
            out.errors.append(_("The name is missing."))
        elif len(out.full_name) > rules.NAME_MAX:
            out.errors.append(_("The name is longer than %(n)d characters.", n=rules.NAME_MAX))
        elif not rules.has_letter_or_digit(out.full_name):
            out.errors.append(_("The name needs at least one letter or digit."))

        holder = None
        raw_phone = text_cell(v.get("phone"))
        if raw_phone:  # none is allowed: such a member gets no sign-in account
            try:
                # Excel drops the leading 0 of a number typed as a number: 912345678 is 0912345678.
                out.phone = team_ops.normalise_phone(
                    "0" + raw_phone if raw_phone.isdigit() and len(raw_phone) == 9 else raw_phone)
            except team_ops.PhoneError as exc:
                out.phone, out.phone_refused = raw_phone, True
                out.errors.append(str(exc))
            else:
                if out.phone in phones_seen:
                    out.errors.append(_("This number appears twice in the file (line %(line)d).",
                                        line=phones_seen[out.phone]))
                phones_seen.setdefault(out.phone, row.line)
                holder = team_ops.active_member_with_phone(out.phone, commune.province_id)

        gender = _key(text_cell(v.get("gender")))
        if gender in GENDER_WORDS:
            out.gender = GENDER_WORDS[gender]
        else:
            out.errors.append(_("Unknown gender %(value)s: use Nam or Nữ.", value=text_cell(v.get("gender"))))
        try:
            out.birth_year = rules.birth_year(v.get("birth_year"), today.year)
        except rules.RuleError as exc:
            out.errors.append(exc.message)

        role = _key(text_cell(v.get("role")))
        if role in ROLE_WORDS:
            out.role = ROLE_WORDS[role]
        else:
            out.errors.append(_("Unknown role %(value)s: use Tổ trưởng, Tổ phó or Thành viên.",
                                value=text_cell(v.get("role"))))
        out.affiliation_text = text_cell(v.get("affiliation"))
        out.affiliation = affiliation_of(out.affiliation_text)

        try:
            out.joined_on = date_cell(v.get("joined_on")) or today
        except ValueError:
            out.errors.append(_("The joining date is not a date (use 23/05/2024 or 2024-05-23)."))
        else:
            if out.joined_on > today:
                out.errors.append(_("The joining date is in the future."))

        _resolve_team(out, commune, hamlets, teams_by_name, teams, serving)
        if holder is not None:
            _registered_already(out, holder, user)
        if out.skipped:
            continue
        if out.team_id is not None and out.role == "leader":
            if out.team_id in leaders:
                out.errors.append(_("This team already has a leader (%(name)s). Change the leader on the "
                                    "team page.", name=leaders[out.team_id].full_name))
            elif out.team_id in leaders_in_file:
                out.errors.append(_("A second leader for the same team (line %(line)d).",
                                    line=leaders_in_file[out.team_id]))
            leaders_in_file.setdefault(out.team_id, row.line)
        if out.team_id is not None and out.full_name:
            _flag_same_name(out, in_teams, names_seen)
    return parsed


def _registered_already(out: MemberRow, holder: Member, user) -> None:
    """The row's number belongs to an active member: the same person in the same team (the list uploaded again
    after lines were added to it) is skipped; anyone else is a problem, said so the officer knows what to do."""
    visible = user is not None and db.session.scalar(members_query(user).where(Member.id == holder.id)) is not None
    if not visible:
        out.errors.append(_("This number is already used by an active member elsewhere in the province."))
        return
    membership = holder.current
    if not same_name(holder.full_name, out.full_name):
        out.errors.append(_("This number belongs to %(name)s, a member of %(team)s, not to %(row)s: check the "
                            "number on this line.", name=holder.full_name, team=membership.team.name,
                            row=out.full_name or "–"))
    elif out.team_id != membership.team_id:
        out.errors.append(_("%(name)s is registered with this number already, in %(team)s. To move them, use "
                            "“Move to another team” on their page; otherwise take this line out of the file.",
                            name=holder.full_name, team=membership.team.name))
    else:
        out.skipped = _("Already registered in this team (%(name)s, since %(day)s, with this number): nothing of "
                        "this line is saved.", name=holder.full_name, day=locale_date(membership.joined_on))


def _names_in_teams(team_ids: list[int]) -> dict[tuple[int, str], tuple[str, date, int]]:
    """(team, folded name) → the name and joining day of the longest-serving active member of that name, and how
    many active members bear it."""
    if not team_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.team_id, Member.name_folded, Member.full_name, Membership.joined_on)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.team_id.in_(team_ids), Membership.left_on.is_(None))
        .order_by(Membership.joined_on.desc(), Membership.id.desc()))
    names: dict[tuple[int, str], tuple[str, date, int]] = {}
    for team_id, folded, name, joined in rows:
        bearing = names.get((team_id, folded), (None, None, 0))[2] + 1
        names[(team_id, folded)] = (name, joined, bearing)
    return names


def _flag_same_name(out: MemberRow, in_teams: dict, names_seen: dict) -> None:
    """The add form's question, asked of a row: its name (accents aside) already in the team, or on an
    earlier line for the same team."""
    key = (out.team_id, fold(out.full_name)[:200])
    if key in in_teams:
        name, joined, out.same_names = in_teams[key]
        out.flag = _("%(name)s is already in this team, since %(day)s.", name=name, day=locale_date(joined))
    elif key in names_seen:
        out.flag = _("The same name as line %(line)d, in the same team.", line=names_seen[key])
    names_seen.setdefault(key, out.line)


def _resolve_team(out: MemberRow, commune, hamlets, teams_by_name, teams, serving) -> None:
    if out.team_name:
        team = teams_by_name.get(fold(out.team_name))
        if team is None:
            out.errors.append(_("No active team named %(name)s in %(commune)s.", name=out.team_name,
                                commune=commune.name))
            return
        out.team_id = team.id
        return
    if not out.hamlet:
        out.errors.append(_("The hamlet is missing."))
        return
    hamlet = hamlets.get(fold(out.hamlet))
    if hamlet is None:
        out.errors.append(_("Unknown hamlet %(name)s: it is not a hamlet of %(commune)s.", name=out.hamlet,
                            commune=commune.name))
        return
    candidates = [t for t in teams if hamlet.id in serving.get(t.id, [])]
    if not candidates:
        out.errors.append(_("No active team serves %(name)s yet. Register the team first.", name=hamlet.name))
    elif len(candidates) > 1:
        out.errors.append(_("Several teams serve %(name)s: add a Team column naming one.", name=hamlet.name))
    else:
        out.team_id = candidates[0].id


def apply_members(rows: list[MemberRow], user=None) -> int:
    """Write checked rows, but for the skipped; the caller commits. Returns the members added."""
    if any(r.errors for r in rows):
        raise ValueError("refusing to import rows with errors")
    rows = [r for r in rows if not r.skipped]
    for r in rows:
        team = db.session.get(Team, r.team_id)
        team_ops.add_member(team, full_name=r.full_name, gender=r.gender, birth_year=r.birth_year,
                            phone=r.phone, affiliation=r.affiliation, role=r.role, joined_on=r.joined_on,
                            user=user)
    return len(rows)
