"""Changes to teams and members, each with its audit event, in the caller's transaction.

Views and the importer go through these functions so that the rules (one team at a time, one
leader per team, unique phone among a province's active members, accounts that follow the
membership) hold whichever way the data comes in.
"""
import secrets
from dataclasses import dataclass
from datetime import date

import phonenumbers
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from app.audit.models import AuditEvent, record
from app.auth.models import User
from app.auth.usernames import normalise_username
from app.dates import today_vn
from app.extensions import db
from app.scope import members_query
from app.teams.models import Member, Membership, Team, TeamPlacement, team_hamlets
from app.units.models import AdminUnit

# A one-time password is read aloud or copied by hand: no look-alike characters (0/O, 1/l/I).
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 12


class PhoneError(ValueError):
    """The typed number is not a Vietnamese mobile number; the message is for the user."""


def normalise_phone(raw: str | None) -> str:
    """'0912 345 678', '+84912345678' and '84912345678' all give '0912345678'; '' when blank."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(_l("This is not a phone number. Type 10 digits, e.g. 0912 345 678.")) from exc
    if number.country_code != 84:
        raise PhoneError(_l("This is not a Vietnamese number (+%(code)s). Type a Vietnamese mobile "
                            "number, e.g. 0912 345 678.", code=number.country_code))
    national = "0" + str(number.national_number)
    if len(national) != 10:
        # The digits as the user typed them: '1234567890' has 10 (national reads it as 11, a 0 put before it);
        # an international form (+84 …) has its national number's.
        typed = national if text.startswith("+") else "".join(c for c in text if c.isdigit())
        if len(typed) == 10:
            raise PhoneError(_l("This is not a Vietnamese mobile number. Check the first digits "
                                "(e.g. 09x, 03x, 07x, 08x)."))
        raise PhoneError(_l("A mobile number has 10 digits starting with 0; this one has %(n)d.", n=len(typed)))
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise PhoneError(_l("This is not a Vietnamese mobile number. Check the first digits "
                            "(e.g. 09x, 03x, 07x, 08x)."))
    return national


def format_phone(value: str | None) -> str:
    """'0912345678' -> '0912 345 678', as people read it out."""
    if not value:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(value, "VN"),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return value


def active_member_with_phone(phone: str, province_id: int, exclude_member_id: int | None = None
                             ) -> Member | None:
    """The member with this phone who is in a team now, in the same province."""
    if not phone:
        return None
    q = (sa.select(Member).join(Membership, Membership.member_id == Member.id)
         .where(Member.phone == phone, Member.province_id == province_id, Membership.left_on.is_(None)))
    if exclude_member_id is not None:
        q = q.where(Member.id != exclude_member_id)
    return db.session.scalar(q.limit(1))


@dataclass
class Duplicate:
    """A phone already used by an active member; `member` is None when outside the user's scope."""
    member: Member | None


def find_duplicate(phone: str, province_id: int, exclude_member_id: int | None = None,
                   user=None) -> Duplicate | None:
    other = active_member_with_phone(phone, province_id, exclude_member_id)
    if other is None:
        return None
    visible = db.session.scalar(members_query(user).where(Member.id == other.id)) if user else None
    return Duplicate(member=visible)


def _team_snapshot(team: Team) -> dict:
    return {"name": team.name, "decision_number": team.decision_number, "decision_date": team.decision_date,
            "founded_on": team.founded_on,
            "status": team.status, "dissolved_on": team.dissolved_on, "dissolved_reason": team.dissolved_reason,
            "hamlets": ", ".join(h.name for h in team.hamlets)}


def _member_snapshot(member: Member) -> dict:
    return {"full_name": member.full_name, "gender": member.gender, "birth_year": member.birth_year,
            "phone": member.phone, "affiliation": member.affiliation}


def create_team(commune: AdminUnit, name: str, decision_number: str, decision_date: date | None,
                hamlets: list[AdminUnit], user=None, founded_on: date | None = None) -> Team:
    """A new team; without a founding day it began work on its decision date, else today."""
    team = Team(commune=commune, decision_number=decision_number or "", decision_date=decision_date,
                founded_on=founded_on or decision_date or today_vn(), status="active")
    team.set_name(name)
    team.hamlets = list(hamlets)
    db.session.add(team)
    db.session.flush()
    record("create", "team", team.id, commune.id, after=_team_snapshot(team), user=user)
    return team


def update_team(team: Team, name: str, decision_number: str, decision_date: date | None,
                hamlets: list[AdminUnit], user=None, founded_on: date | None = None) -> None:
    """Save the team's fields; a founding day left empty becomes the decision date, else the registration day."""
    before = _team_snapshot(team)
    team.set_name(name)
    team.decision_number = decision_number or ""
    team.decision_date = decision_date
    team.founded_on = founded_on or decision_date or team.registered_on
    team.hamlets = list(hamlets)
    after = _team_snapshot(team)
    if before != after:
        record("update", "team", team.id, team.commune_id, before=before, after=after, user=user)


def dissolve_team(team: Team, on: date, reason: str, user=None) -> None:
    """A dissolved team keeps its history; its members leave on the same day."""
    before = _team_snapshot(team)
    for membership in list(team.memberships):
        if membership.left_on is None:
            leave(membership.member, max(on, membership.joined_on), user=user)
    team.status, team.dissolved_on, team.dissolved_reason = "dissolved", on, reason
    record("dissolve", "team", team.id, team.commune_id, before=before, after=_team_snapshot(team), user=user)


def reactivate_team(team: Team, user=None) -> None:
    before = _team_snapshot(team)
    team.status, team.dissolved_on, team.dissolved_reason = "active", None, ""
    record("reactivate", "team", team.id, team.commune_id, before=before, after=_team_snapshot(team),
           user=user)


def open_leader(team: Team) -> Membership | None:
    return db.session.scalar(sa.select(Membership).where(
        Membership.team_id == team.id, Membership.role == "leader", Membership.left_on.is_(None)))


def _demote_leader(team: Team, keep: Member | None, user=None) -> None:
    """Make room for a new leader: the current one becomes a plain member."""
    current = open_leader(team)
    if current is not None and (keep is None or current.member_id != keep.id):
        current.role = "member"
        db.session.flush()
        record("role", "member", current.member_id, team.commune_id, before={"role": "leader"},
               after={"role": "member", "team": team.name}, user=user)
        _sync_account(current.member)


def _join(member: Member, team: Team, role: str, joined_on: date, user) -> Membership:
    """Open the member's membership of a team; a new leader makes room first."""
    if role == "leader":
        _demote_leader(team, member, user=user)
    membership = Membership(member=member, team=team, role=role, joined_on=joined_on)
    db.session.add(membership)
    db.session.flush()
    sync_active_phone(member)
    return membership


def sync_active_phone(member: Member) -> None:
    """Mirror the phone into active_phone while the member has an open membership (see Member)."""
    open_ = any(m.left_on is None for m in member.memberships)
    member.active_phone = member.phone if (open_ and member.phone) else None
    db.session.flush()


def add_member(team: Team, *, full_name: str, gender: str, birth_year: int | None, phone: str,
               affiliation: str, role: str, joined_on: date, user=None) -> Member:
    member = Member(gender=gender or "", birth_year=birth_year, phone=phone, affiliation=affiliation or "other",
                    province_id=team.commune.province_id)
    member.set_name(full_name)
    db.session.add(member)
    db.session.flush()
    _join(member, team, role, joined_on, user)
    record("create", "member", member.id, team.commune_id, after={
        **_member_snapshot(member), "team": team.name, "role": role, "joined_on": joined_on}, user=user)
    return member


def update_member(member: Member, *, full_name: str, gender: str, birth_year: int | None, phone: str,
                  affiliation: str, role: str | None = None, joined_on: date | None = None, user=None) -> None:
    membership = member.current
    before = {**_member_snapshot(member)}
    after_extra, before_extra = {}, {}
    member.set_name(full_name)
    member.gender, member.birth_year, member.phone, member.affiliation = gender or "", birth_year, phone, affiliation
    if membership is not None:
        before_extra = {"role": membership.role, "joined_on": membership.joined_on}
        if role and role != membership.role:
            if role == "leader":
                _demote_leader(membership.team, member, user=user)
            membership.role = role
        if joined_on:
            membership.joined_on = joined_on
        after_extra = {"role": membership.role, "joined_on": membership.joined_on}
    db.session.flush()
    sync_active_phone(member)
    after = {**_member_snapshot(member)}
    if {**before, **before_extra} != {**after, **after_extra}:
        last = membership or (member.memberships[-1] if member.memberships else None)
        record("update", "member", member.id, last.team.commune_id if last else None,
               before={**before, **before_extra}, after={**after, **after_extra}, user=user)
    if before["full_name"] != after["full_name"]:
        _rename_accounts(member, user=user)
    _sync_account(member)


def leave(member: Member, on: date, user=None) -> None:
    """Close the open membership; the member's sign-in account is disabled."""
    membership = member.current
    if membership is None:
        return
    membership.left_on = on
    db.session.flush()
    sync_active_phone(member)
    record("leave", "member", member.id, membership.team.commune_id,
           before={"team": membership.team.name, "left_on": None},
           after={"team": membership.team.name, "left_on": on}, user=user)
    for account in accounts_of(member):
        if account.is_enabled:
            account.is_enabled = False
            account.end_sessions()
            record("disable", "user", account.id, account.unit_id, before={"is_enabled": True},
                   after={"is_enabled": False, "username": account.username}, user=user)


def move(member: Member, to_team: Team, on: date, role: str = "member", user=None) -> Membership:
    """Close the membership in the old team on `on` and open one in the new team from the same day."""
    old = member.current
    if old is not None:
        old.left_on = on
        db.session.flush()
    membership = _join(member, to_team, role, on, user)
    record("move", "member", member.id, to_team.commune_id,
           before={"team": old.team.name if old else None, "role": old.role if old else None},
           after={"team": to_team.name, "role": role, "joined_on": on}, user=user)
    _sync_account(member)
    return membership


def make_leader(member: Member, user=None) -> None:
    membership = member.current
    if membership is None or membership.role == "leader":
        return
    before = membership.role
    _demote_leader(membership.team, member, user=user)
    membership.role = "leader"
    db.session.flush()
    record("role", "member", member.id, membership.team.commune_id, before={"role": before},
           after={"role": "leader", "team": membership.team.name}, user=user)
    _sync_account(member)


def accounts_of(member: Member) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.member_id == member.id)))


def reset_account_password(account: User, user=None) -> str:
    """A new one-time password for a member's account, to be changed at the next sign-in; an account disabled since
    can sign in again with it."""
    password = new_password()
    account.set_password(password)
    account.must_change_password, account.is_enabled = True, True
    record("reset_password", "user", account.id, account.unit_id, after={"username": account.username}, user=user)
    return password


def _sync_account(member: Member) -> None:
    """An account follows its member: team and role change with the open membership."""
    membership = member.current
    if membership is None:
        return
    for account in accounts_of(member):
        account.team_id = membership.team_id
        account.unit_id = membership.team.commune_id
        account.role = "team_leader" if membership.role == "leader" else "team_member"


def _rename_accounts(member: Member, user=None) -> None:
    """An account copies its member's name when it is made: a renamed member's accounts take the new name (the
    account list searches it), each change in the audit trail."""
    for account in accounts_of(member):
        if account.full_name != member.full_name:
            before = account.full_name
            account.full_name = member.full_name  # User._fold_name keeps full_name_folded with it
            record("rename", "user", account.id, account.unit_id, before={"full_name": before},
                   after={"full_name": member.full_name, "username": account.username}, user=user)


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def create_account(member: Member, username: str | None = None, user=None) -> tuple[User, str]:
    """A sign-in account for a member in a team now, named `username` or else the member's mobile number; returns it
    with its one-time password."""
    membership = member.current
    if membership is None or not member.phone:
        raise ValueError("the member needs an open membership and a phone number")
    password = new_password()
    account = User(username=normalise_username(username or member.phone), full_name=member.full_name,
                   role="team_leader" if membership.role == "leader" else "team_member",
                   unit_id=membership.team.commune_id, team_id=membership.team_id, member_id=member.id,
                   must_change_password=True, is_enabled=True)
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    record("create", "user", account.id, account.unit_id,
           after={"username": account.username, "role": account.role, "member_id": member.id}, user=user)
    return account, password


# --- Reading -----------------------------------------------------------------------------------

def member_counts(team_ids: list[int]) -> dict[int, int]:
    """Members in each team now (open memberships)."""
    if not team_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.team_id, sa.func.count(Membership.id))
        .where(Membership.team_id.in_(team_ids), Membership.left_on.is_(None))
        .group_by(Membership.team_id))
    return dict(rows.all())


def leaders(team_ids: list[int]) -> dict[int, Member]:
    if not team_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.team_id, Member).join(Member, Member.id == Membership.member_id)
        .where(Membership.team_id.in_(team_ids), Membership.left_on.is_(None), Membership.role == "leader"))
    return {team_id: member for team_id, member in rows.all()}


def rollup(units: list[AdminUnit], team_ids_subquery: sa.Select) -> dict[int, dict[str, int]]:
    """For each unit, its teams, active teams and members now, counted over its whole subtree.

    Only teams in `team_ids_subquery` (the user's scope) are counted.
    """
    if not units:
        return {}
    unit = orm.aliased(AdminUnit)
    commune = orm.aliased(AdminUnit)
    base = (sa.select(unit.id, Team.id.label("team_id"), Team.status)
            .join(commune, commune.within(unit.path))
            .join(Team, Team.commune_id == commune.id)
            .where(unit.id.in_([u.id for u in units]), Team.id.in_(team_ids_subquery))).subquery()
    out = {u.id: {"teams": 0, "active": 0, "members": 0} for u in units}
    for unit_id, teams, active in db.session.execute(
            sa.select(base.c.id, sa.func.count(base.c.team_id),
                      sa.func.sum(sa.case((base.c.status == "active", 1), else_=0)))
            .group_by(base.c.id)):
        out[unit_id]["teams"], out[unit_id]["active"] = teams, int(active or 0)
    for unit_id, members in db.session.execute(
            sa.select(base.c.id, sa.func.count(Membership.id))
            .join(Membership, Membership.team_id == base.c.team_id)
            .where(Membership.left_on.is_(None)).group_by(base.c.id)):
        out[unit_id]["members"] = members
    return out


def placements(team: Team) -> list[TeamPlacement]:
    """Where the team was before each move a reorganization made, oldest first."""
    return list(db.session.scalars(sa.select(TeamPlacement).where(TeamPlacement.team_id == team.id)
                                   .order_by(TeamPlacement.valid_to)))


def team_events(team: Team, limit: int = 100) -> list[AuditEvent]:
    """The team's own events and those of everyone who was ever in it, newest first."""
    member_ids = sa.select(Membership.member_id).where(Membership.team_id == team.id)
    return _events_of("team", team.id, "member", member_ids, limit)


def member_events(member: Member, limit: int = 100) -> list[AuditEvent]:
    """The member's own events and those of their sign-in accounts, newest first."""
    account_ids = sa.select(User.id).where(User.member_id == member.id)
    return _events_of("member", member.id, "user", account_ids, limit)


def _events_of(own_type: str, own_id: int, related_type: str, related_ids, limit: int) -> list[AuditEvent]:
    """A record's own events and those of the records related to it (a subquery of their ids), newest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent).where(sa.or_(
            sa.and_(AuditEvent.record_type == own_type, AuditEvent.record_id == own_id),
            sa.and_(AuditEvent.record_type == related_type, AuditEvent.record_id.in_(related_ids))))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def hamlet_ids_of(teams: list[Team]) -> dict[int, list[int]]:
    if not teams:
        return {}
    out: dict[int, list[int]] = {t.id: [] for t in teams}
    for team_id, hamlet_id in db.session.execute(
            sa.select(team_hamlets.c.team_id, team_hamlets.c.hamlet_id)
            .where(team_hamlets.c.team_id.in_(list(out)))):
        out[team_id].append(hamlet_id)
    return out
