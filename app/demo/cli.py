"""`flask demo seed`: demo data on the first run only (`--scale province` for a Tiền Giang-sized one,
`--reform` to carry it into new Đồng Tháp by the official plan)."""
import click
from flask.cli import AppGroup

from app.demo.seed import DEMO_PASSWORD, is_seeded, seed_demo
from app.extensions import db
from app.units.models import AdminUnit

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--scale", type=click.Choice(["small", "province"]), default="small", show_default=True,
              help="small: Hậu Giang with a few accounts; province: Tiền Giang at full size for benchmarks.")
@click.option("--reform", is_flag=True,
              help="With --scale province: then apply the official plan that makes Tiền Giang part of "
                   "Đồng Tháp from 2025-07-01 (the small demo always tells its reform).")
def seed_command(scale, reform):
    """Load the demo province and accounts, unless the database already has users."""
    if reform and scale != "province":
        raise click.UsageError("--reform goes with --scale province (the small demo always tells its reform)")
    if is_seeded():
        click.echo("database already has users; demo data not loaded")
        return
    # Units without users are a real province being set up (units imported, accounts not made yet):
    # the demo's made-up hamlets and accounts with a published password must not land in it.
    units = db.session.scalar(db.select(db.func.count()).select_from(AdminUnit))
    if units:
        raise click.ClickException(f"the database holds {units} administrative units that the demo did not "
                                   "make; demo data is loaded only into an empty database")
    if scale == "province":
        from app.demo.province import USERS, seed_province
        click.echo("building a province the size of Tiền Giang ...")
        stats = seed_province(echo=click.echo)
        click.echo(f"province loaded in {stats['total']} s: {stats['units']} units, {stats['households']} households, "
                   f"{stats['teams']} teams, {stats['members']} members, {stats['visits']} visits, "
                   f"{stats['adoptions']} adoptions; accounts {', '.join(u for u, _r, _l in USERS)} "
                   f"(password {DEMO_PASSWORD})")
        if reform:
            from app.demo.province_reform import reform_province
            click.echo("carrying it through the 2025 reform into Đồng Tháp ...")
            timings = reform_province(echo=click.echo)
            db.session.commit()
            db.session.execute(db.text("ANALYZE"))  # as the seed does after its bulk loads
            db.session.commit()
            click.echo(f"reform applied in {sum(timings.values()):.1f} s")
        return
    stats = seed_demo()
    click.echo(f"demo data loaded: {stats['units']} units, {stats['users']} accounts "
               f"(password {DEMO_PASSWORD})")
