"""`flask users ...`: create accounts from the command line."""
import click
from flask.cli import AppGroup

from app.auth.models import ROLE_LEVELS, ROLES, User, unit_fits_role
from app.auth.passwords import password_problem
from app.auth.usernames import normalise_username
from app.dates import VN
from app.extensions import db
from app.units.models import AdminUnit, unit_for_code

users_cli = AppGroup("users", help="Manage user accounts.")


def check_new_account(username: str, role: str, unit: AdminUnit) -> str:
    """The username normalised, once the account could be created; ValueError saying why not."""
    username = normalise_username(username)
    if not username or len(username) > 64:
        raise ValueError("a username has 1 to 64 visible characters")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not unit_fits_role(role, unit):
        raise ValueError(f"a {role} user must be bound to a {' or '.join(ROLE_LEVELS[role])}, not a {unit.level}")
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        raise ValueError(f"username {username!r} is taken")
    return username


def create_user(username: str, role: str, unit: AdminUnit, password: str, full_name: str = "",
                must_change: bool = False) -> User:
    username = check_new_account(username, role, unit)
    user = User(username=username, role=role, unit=unit, full_name=full_name,
                must_change_password=must_change)
    user.set_password(password)
    db.session.add(user)
    return user


def _acceptable_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise click.UsageError(problem)
    return value


def _password(given: str | None) -> str:
    """The --password given, or one typed twice (hidden), asked again until the rules accept it."""
    if given is None:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_acceptable_password)
    problem = password_problem(given)
    if problem:
        raise click.ClickException(problem)
    return given


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", required=True, help="Code of the unit the user is bound to.")
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
@click.option("--password", default=None, help="Asked for (twice, hidden) when not given.")
def create_command(username, role, unit_code, full_name, password):
    """Create a user bound to one administrative unit.

    The unit, the role and the username are checked before the password is asked for."""
    unit = unit_for_code(unit_code)  # today's bearer of the code
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r}")
    try:
        check_new_account(username, role, unit)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    password = _password(password)
    from app.users.operations import create_account
    try:
        user, _password_again = create_account(username, role, unit, full_name, password=password)  # audited
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.username} ({user.role}) in {unit.name}")


def _account(username: str) -> User:
    user = db.session.scalar(db.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@users_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="Only accounts bound to this unit or below it.")
@click.option("--role", default=None, type=click.Choice(ROLES))
def list_command(unit_code, role):
    """List accounts: username, role, unit, enabled, last sign-in (Vietnam's time, +0700)."""
    query = db.select(User).join(AdminUnit, AdminUnit.id == User.unit_id).order_by(AdminUnit.path, User.username)
    if unit_code:
        unit = unit_for_code(unit_code)  # today's bearer of the code
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
        query = query.where(AdminUnit.within(unit))
    if role:
        query = query.where(User.role == role)
    for user in db.session.scalars(query):
        # Vietnam's time, the zone written out: the server's own zone may be UTC.
        last = user.last_login_at.astimezone(VN).strftime("%Y-%m-%d %H:%M %z") if user.last_login_at else "never"
        state = "enabled" if user.is_enabled else "DISABLED"
        click.echo(f"{user.username}\t{user.role}\t{user.unit.code or user.unit.id}\t{user.unit.name}\t"
                   f"{state}\t{last}")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username):
    """Disable an account: it cannot sign in, its sessions end and its API tokens stop working."""
    from app.users.operations import disable_account
    _switch_account(username, disable_account, "disabled")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username):
    """Enable a disabled account again."""
    from app.users.operations import enable_account
    _switch_account(username, enable_account, "enabled")


def _switch_account(username, switch, state: str) -> None:
    user = _account(username)
    changed = switch(user)
    db.session.commit()
    click.echo(f"{state} {user.username}" if changed else f"{user.username} was already {state}")


@users_cli.command("bind")
@click.argument("username")
@click.option("--unit", "unit_code", default=None, help="Code of the unit (today's bearer of the code).")
@click.option("--unit-id", type=int, default=None,
              help="Id of the unit, as in its page's address (an area has no code: /areas/area/ID).")
def bind_command(username, unit_code, unit_id):
    """Bind a staff account to another unit of its role's level (an officer who changes post)."""
    if (unit_code is None) == (unit_id is None):
        raise click.UsageError("give the unit by --unit CODE or by --unit-id ID")
    user = _account(username)
    unit = unit_for_code(unit_code) if unit_code is not None else db.session.get(AdminUnit, unit_id)
    if unit is None or unit.retired_on is not None:
        raise click.ClickException(f"no current unit {unit_code or unit_id!r}")
    from app.users.operations import bind_account
    try:
        changed = bind_account(user, unit)  # audited
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{user.username} bound to {unit.name}" if changed else f"{user.username} was already bound to "
               f"{unit.name}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="Asked for (twice, hidden) when not given.")
def set_password_command(username, password):
    """Give an account a new password, to be changed at its next sign-in; its sessions end."""
    from app.users.operations import reset_password
    user = _account(username)  # before the password is asked for
    reset_password(user, password=_password(password))
    db.session.commit()
    click.echo(f"new password set for {user.username}; it must be changed at the next sign-in")
