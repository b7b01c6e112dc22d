"""Time the xlsx export of a province-scale month (issue 6: under 2 s; a city-scale one, issue 18: under 3 s),
and of its quarter.

    .venv/bin/python bench/export_bench.py                       # SQLite file instance/bench-province.db
    DATABASE_URL=postgresql://postgres@127.0.0.1:55432/cnscd_reports .venv/bin/python bench/export_bench.py

The first run builds the database with the coverage feature's province-scale seed
(app.demo.province.seed_province, as `flask demo seed --scale province`: Tiền Giang, 1,000
hamlets, 1,250 teams, 8,000 members, ~3 M visits), which takes a few minutes;
later runs reuse it. Prints the time of each step of an export, open and closed.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.config import INSTANCE_DIR

if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{INSTANCE_DIR / 'bench-province.db'}"

import sqlalchemy as sa

from app import create_app
from app.extensions import db


def timed(fn, runs=3):
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, min(times), statistics.median(times)


def main() -> None:
    app = create_app({"SERVER_NAME": "bench.local"})
    with app.app_context():
        from flask_babel import force_locale
        from flask_migrate import upgrade

        from app.auth.models import User
        from app.dates import today_vn
        from app.demo.province import PROVINCE, seed_province
        from app.reports import exports
        from app.reports.closing import close_month, find_closure
        from app.reports.summary import build_quarter_summary, build_summary
        from app.units.models import AdminUnit
        from app.visits.models import Visit

        upgrade()
        # The seeded province: tg-province's unit (a city seed's is Hồ Chí Minh City), else Tiền Giang.
        province = (db.session.scalar(sa.select(AdminUnit).join(User, User.unit_id == AdminUnit.id)
                                      .where(User.username == "tg-province"))
                    or db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == PROVINCE)))
        if province is None:
            print("building the province-scale database (once)…")
            seed_province()
            province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == PROVINCE))
        today = today_vn()
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        visits = db.session.scalar(sa.select(sa.func.count(Visit.id)))
        units = db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(
            AdminUnit.path.startswith(province.path)))
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        print(f"province {province.name}: {units} units, {visits} visits; month {year}-{month:02d}")

        with force_locale("vi"):
            closure = find_closure(province, year, month)
            if closure is not None:  # an earlier run closed it; measure the open path on the month before
                year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            summary, best, med = timed(lambda: build_summary(province, year, month))
            body, xbest, xmed = timed(lambda: exports.write_xlsx(summary))
            print(f"open month   summary: best {best:.3f} s, median {med:.3f} s")
            print(f"open month   xlsx:    best {xbest:.3f} s, median {xmed:.3f} s ({len(body)} bytes, "
                  f"{sum(len(rows) for _l, rows in summary.levels)} rows)")
            _b, tbest, tmed = timed(lambda: exports.write_xlsx(build_summary(province, year, month)))
            verdict = "OK" if tmed < 2 else "TOO SLOW"
            print(f"open month   total export: best {tbest:.3f} s, median {tmed:.3f} s  [{verdict}: goal < 2 s]")
            quarter = (month + 2) // 3  # its quarter, counted from the records (no snapshot serves one)
            _b, qbest, qmed = timed(lambda: exports.write_xlsx(build_quarter_summary(province, year, quarter)))
            print(f"quarter {year}-Q{quarter} total export: best {qbest:.3f} s, median {qmed:.3f} s")

            if find_closure(province, year, month) is None:
                staff = db.session.scalar(sa.select(User).where(User.role.in_(("province", "admin"))))
                t = time.perf_counter()
                close_month(province, year, month, staff)
                db.session.commit()
                print(f"closing the month (snapshot of every unit): {time.perf_counter() - t:.3f} s")
            _b, cbest, cmed = timed(lambda: exports.write_xlsx(build_summary(province, year, month)))
            print(f"closed month total export: best {cbest:.3f} s, median {cmed:.3f} s")


if __name__ == "__main__":
    main()
