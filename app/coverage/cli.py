"""`flask coverage verify` and `flask coverage rebuild`: check and repair the live tallies."""
import sys

import click
from flask.cli import AppGroup

from app.coverage import activity_months, named_learners, store
from app.extensions import db

coverage_cli = AppGroup("coverage", help="Coverage tallies.")


@coverage_cli.command("verify")
def verify_command():
    """Recompute adoptions, reach, tallies and month counts from the visits and report any difference."""
    problems = (store.verify(db.session.connection()) + named_learners.verify(db.session.connection())
                + activity_months.verify(db.session.connection()))
    db.session.rollback()
    if problems:
        for line in problems:
            click.echo(line)
        sys.exit(1)
    click.echo("coverage verified: adoptions, reach, tallies and month counts agree with the visits")


@coverage_cli.command("rebuild")
def rebuild_command():
    """Recompute the reach and tally tables from the visits (after a bulk load or a repair)."""
    counts = store.rebuild(db.session.connection())
    counts["named_learner_months"] = named_learners.rebuild(db.session.connection())
    counts["activity_months"] = activity_months.rebuild(db.session.connection())
    db.session.commit()
    click.echo("rebuilt: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
