"""`flask demo seed`: demo data on the first run only."""
import click
from flask.cli import AppGroup

from app.demo.seed import DEMO_PASSWORD, is_seeded, seed_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
def seed_command():
    """Load the demo province and accounts, unless the database already has users."""
    if is_seeded():
        click.echo("database already has users; demo data not loaded")
        return
    stats = seed_demo()
    click.echo(f"demo data loaded: {stats['units']} units, {stats['users']} accounts "
               f"(password {DEMO_PASSWORD})")
