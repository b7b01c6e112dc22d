"""`flask demo seed`: demo data on the first run only (`--scale province` for a Tiền Giang-sized one,
`--reform` to carry it into new Đồng Tháp by the official plan, `--scale city` for one the size of
Hồ Chí Minh City)."""
import click
from flask.cli import AppGroup

from app.demo.seed import DEMO_PASSWORD, is_seeded, seed_demo
from app.extensions import db
from app.units.models import AdminUnit

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--scale", type=click.Choice(["small", "province", "city"]), default="small", show_default=True,
              help="small: Hậu Giang with a few accounts; province: Tiền Giang at full size for benchmarks; "
                   "city: Hồ Chí Minh City after 2025 (168 communes, ~5 M households, ~30 M visits; PostgreSQL only).")
@click.option("--fraction", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="province and city: hamlets, teams, members and visits cut to this share (a trial run).")
@click.option("--reform", is_flag=True,
              help="With --scale province: then apply the official plan that makes Tiền Giang part of "
                   "Đồng Tháp from 2025-07-01 (the small demo always tells its reform).")
def seed_command(scale, fraction, reform):
    """Load the demo province and accounts, unless the database already has users."""
    if reform and scale != "province":
        raise click.UsageError("--reform goes with --scale province (the small demo always tells its reform)")
    if scale == "city" and db.engine.dialect.name != "postgresql":
        raise click.ClickException("--scale city needs PostgreSQL (about 30 million visits): set DATABASE_URL "
                                   "to a postgresql:// database")
    if is_seeded():
        click.echo("database already has users; demo data not loaded")
        return
    # Units without users are a real province being set up (units imported, accounts not made yet):
    # the demo's made-up hamlets and accounts with a published password must not land in it.
    units = db.session.scalar(db.select(db.func.count()).select_from(AdminUnit))
    if units:
        raise click.ClickException(f"the database holds {units} administrative units that the demo did not "
                                   "make; demo data is loaded only into an empty database")
    if scale in ("province", "city"):
        from app.demo.province import CITY_SCALE, PROVINCE_SCALE, USERS, seed_province
        sizes = (CITY_SCALE if scale == "city" else PROVINCE_SCALE).fraction(fraction)
        click.echo(f"building a province the size of {sizes.name}"
                   + (f" (a {fraction:g} share)" if fraction < 1 else "") + " ...")
        stats = seed_province(echo=click.echo, scale=sizes)
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
