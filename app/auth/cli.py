"""`flask users ...`: create accounts from the command line."""
import click
from flask.cli import AppGroup

from app.auth.models import ROLE_LEVEL, ROLES, User
from app.auth.passwords import password_problem
from app.auth.usernames import normalise_username
from app.extensions import db
from app.units.models import AdminUnit

users_cli = AppGroup("users", help="Manage user accounts.")


def create_user(username: str, role: str, unit: AdminUnit, password: str, full_name: str = "",
                must_change: bool = False) -> User:
    username = normalise_username(username)
    if not username or len(username) > 64:
        raise ValueError("a username has 1 to 64 visible characters")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    level = ROLE_LEVEL.get(role)
    if level and unit.level != level:
        raise ValueError(f"a {role} user must be bound to a {level}, not a {unit.level}")
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        raise ValueError(f"username {username!r} is taken")
    user = User(username=username, role=role, unit=unit, full_name=full_name,
                must_change_password=must_change)
    user.set_password(password)
    db.session.add(user)
    return user


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", required=True, help="Code of the unit the user is bound to.")
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_command(username, role, unit_code, full_name, password):
    """Create a user bound to one administrative unit."""
    unit = db.session.scalar(db.select(AdminUnit).where(AdminUnit.code == unit_code))
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r}")
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    try:
        user = create_user(username, role, unit, password, full_name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.username} ({user.role}) in {unit.name}")
