"""`flask api-tokens ...`: issue and revoke API tokens from the command line."""
import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.api.models import ApiToken, issue_token
from app.audit.models import record
from app.auth.models import User
from app.auth.usernames import normalise_username
from app.extensions import db
from app.models_base import utcnow

api_tokens_cli = AppGroup("api-tokens", help="API tokens for machine clients.")


@api_tokens_cli.command("create")
@click.option("--user", "username", required=True, help="The token acts as this user, with their scope.")
@click.option("--label", default="", help="What the token is for, e.g. the client's name.")
def create_command(username, label):
    """Create a token and print it once (only its hash is stored)."""
    user = db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    if not user.is_enabled:
        raise click.ClickException(f"user {username!r} is disabled")
    token, secret = issue_token(user, label=label.strip()[:100] or "cli")
    db.session.flush()
    record("create", "api_token", token.id, user.unit_id, after={"label": token.label, "user": user.username})
    db.session.commit()
    click.echo(secret)


@api_tokens_cli.command("revoke")
@click.option("--id", "token_id", required=True, type=int)
def revoke_command(token_id):
    """Revoke a token by its id (see `flask api-tokens list`)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("revoke", "api_token", token.id, token.user.unit_id, before={"active": True}, after={"active": False})
        db.session.commit()
    click.echo(f"token {token_id} revoked")


@api_tokens_cli.command("list")
def list_command():
    """Tokens with their user, label and state (never the secret)."""
    for t in db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if t.revoked_at else "active"
        click.echo(f"{t.id}\t{t.user.username}\t{t.hint}…\t{state}\t{t.label}")
