"""Changes to accounts, each with its audit event, in the caller's transaction (never committed here).

`actor` is the signed-in officer, or None on the command line (the trail shows "system").
"""
from app.audit.models import record
from app.auth.cli import create_user
from app.auth.models import ROLE_LEVELS, User, unit_fits_role
from app.teams.operations import new_password
from app.units.models import AdminUnit


def create_account(username: str, role: str, unit: AdminUnit, full_name: str = "", actor=None,
                   password: str | None = None) -> tuple[User, str]:
    """A new account; without a password given, a one-time one that must be changed at first sign-in."""
    one_time = password is None
    password = password or new_password()
    account = create_user(username, role, unit, password, full_name, must_change=one_time)
    from app.extensions import db
    db.session.flush()
    record("create", "user", account.id, account.unit_id,
           after={"username": account.username, "full_name": full_name, "role": role, "unit": unit.name},
           user=actor)
    return account, password


def disable_account(account: User, actor=None) -> bool:
    """It can no longer sign in, its sessions end and its API tokens stop working."""
    if not account.is_enabled:
        return False
    account.is_enabled = False
    account.end_sessions()
    record("disable", "user", account.id, account.unit_id, before={"is_enabled": True},
           after={"is_enabled": False, "username": account.username}, user=actor)
    return True


def enable_account(account: User, actor=None) -> bool:
    if account.is_enabled:
        return False
    account.is_enabled = True
    record("enable", "user", account.id, account.unit_id, before={"is_enabled": False},
           after={"is_enabled": True, "username": account.username}, user=actor)
    return True


def reset_password(account: User, actor=None, password: str | None = None) -> str:
    """A new password, to be changed at the next sign-in; every session of the account ends."""
    password = password or new_password()
    account.set_password(password)
    account.must_change_password = True
    record("reset_password", "user", account.id, account.unit_id, after={"username": account.username},
           user=actor)
    return password


def bind_account(account: User, unit: AdminUnit, actor=None) -> bool:
    """Bind a staff account to another unit of its role's level (an officer who changes post, an area
    officer whose area is regrouped); its pages follow from the next request. False when it is there.
    ValueError for a team account (it follows its team's commune) or a unit not of its role's level."""
    if account.team_id is not None or account.role in ("team_leader", "team_member"):
        raise ValueError(f"{account.username} is a team account: it follows its team's commune (move the team, "
                         "or the member to another team)")
    if not unit_fits_role(account.role, unit):
        raise ValueError(f"a {account.role} account is bound to a {' or '.join(ROLE_LEVELS[account.role])}, "
                         f"not a {unit.level}")
    if account.unit_id == unit.id:
        return False
    before = account.unit
    account.unit_id = unit.id
    # Each unit by name (as it was called then) and by id: the trail reads "Unit: A → B" (app/audit/words.py).
    record("update", "user", account.id, unit.id, before={"unit": before.name, "unit_id": before.id},
           after={"unit": unit.name, "unit_id": unit.id, "username": account.username}, user=actor)
    return True
