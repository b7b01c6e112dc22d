"""The adult indicators' queries alone at province scale: p50/p95 of what a coverage page and its trend add.

    .venv/bin/python bench/adult_queries.py                               # a throwaway SQLite file
    .venv/bin/python bench/adult_queries.py --database-url postgresql://postgres@127.0.0.1:54329/NAME

Builds Tiền Giang's units, 1,000 hamlets and the province seed's adults, classes and shifts
(app.demo.province.seed_adults: ~20 classes per commune per month over four years), with no
households or visits (the adult figures do not read them), then times adult_table (the page's
section: the unit and its children, one month) and adult_months over 12 months (the trend) for the
province, a district and a commune. A database the script seeded before is reused.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/adults.db"
    from flask_migrate import upgrade

    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                      "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        import sqlalchemy as sa

        from app.demo import province as p
        from app.extensions import db
        from app.text import fold
        from app.units import gso
        from app.units.models import AdminUnit
        upgrade()
        if db.session.execute(sa.text("SELECT count(*) FROM classes")).scalar():
            print("reusing the seeded database")
            return measure(args.rounds)
        t0 = time.monotonic()
        gso.import_province(p.PROVINCE)
        db.session.flush()
        loader = p.Loader()
        rng = random.Random(82)
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == p.PROVINCE))
        communes = list(db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.level == "commune", AdminUnit.path.startswith(province.path)).order_by(AdminUnit.code)))
        stamp = datetime.now(UTC)
        hid = loader.next_id("admin_units")
        rows, hamlets, sizes = [], [], {}
        for k in range(p.HAMLETS):
            commune = communes[k % len(communes)]
            name = f"Ấp {k + 1}"
            rows.append((hid, None, name, fold(name), "hamlet", commune.id, f"{commune.path}{hid}/",
                         commune.depth + 1, None, stamp))
            hamlets.append((hid, commune))
            sizes[hid] = rng.randint(250, 750)
            hid += 1
        loader.load("admin_units", ["id", "code", "name", "name_folded", "level", "parent_id", "path", "depth",
                                    "retired_on", "created_at"], rows)
        from app.coverage import store
        store.rebuild(loader.conn)  # unit_ancestors for the hamlets loaded past the triggers
        team_id = loader.next_id("teams")
        loader.load("teams", ["id", "commune_id", "name", "name_folded", "decision_number", "decision_date",
                              "status", "dissolved_reason", "created_at"],
                    [(team_id + i, c.id, f"Tổ {i}", f"to {i}", "", date(2022, 3, 15), "active", "", stamp)
                     for i, c in enumerate(communes)])
        plan = [(None, c.id) for c in communes]
        code_to_id = {c: i for i, c in loader.conn.execute(sa.text("SELECT id, code FROM services"))}
        end = date(2026, 11, 30)
        counts = p.seed_adults(loader, rng, province, hamlets, sizes, plan, team_id, code_to_id,
                               date(2022, 11, 1), end, stamp)
        db.session.commit()
        print(f"seeded in {time.monotonic() - t0:.0f} s: {counts}")
        return measure(args.rounds)


def measure(rounds: int) -> int:
    """Inside the app context: the province, its first district and that district's first commune."""
    import sqlalchemy as sa

    from app.coverage.adults import adult_months, adult_table
    from app.coverage.queries import last_months
    from app.demo import province as p
    from app.extensions import db
    from app.units.models import AdminUnit
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == p.PROVINCE))
    district = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.parent_id == province.id)
                                 .order_by(AdminUnit.code).limit(1))
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.parent_id == district.id)
                                .order_by(AdminUnit.code).limit(1))
    services: list = []
    for label, unit_id in (("province", province.id), ("district", district.id), ("commune", commune.id)):
        for what, run in (("page section", lambda u, c: adult_table(u, c, 2026, 11, services)),
                          ("12-month trend", lambda u, c: adult_months([u], last_months(2026, 11, 12)))):
            times, cpu = [], []
            for _ in range(rounds + 3):
                # Loaded untimed each round, as a page loads them before the adult section: after the
                # rollback the old objects are expired and would reload one by one inside the timing.
                unit = db.session.get(AdminUnit, unit_id)
                children = list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == unit_id)))
                t, c = time.perf_counter(), time.process_time()
                run(unit, children)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                db.session.rollback()
            times, cpu = times[3:], cpu[3:]
            q = statistics.quantiles(times, n=100, method="inclusive")
            # This process's CPU alone (not PostgreSQL's): steadier than wall time on a loaded machine.
            print(f"  {label:8s} {what:14s} p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms   "
                  f"cpu p50 {statistics.median(cpu):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
