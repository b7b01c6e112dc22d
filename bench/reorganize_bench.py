"""Reorganizing a province: Tiền Giang's official plan into Đồng Tháp, timed on a copy of a province-scale database.

    .venv/bin/python bench/reorganize_bench.py --database-url sqlite:////work/bench-data/s22/province.db
    .venv/bin/python bench/reorganize_bench.py --database-url postgresql://postgres@127.0.0.1:54329/cnscd_bench22

The database given (seeded by `flask demo seed --scale province`, on the old map) is never written:
the script makes two copies of it (SQLite: backups beside it, `<name>-oldmap.db` and
`<name>-reorganize.db`; PostgreSQL: `createdb -T`, `<name>_oldmap` and `<name>_reorganize`, which needs
no one else connected to it). On the second it drafts the official plan and completes it as the seed does
(app/demo/province_reform.py), times `flask units reorganize --plan FILE --dry-run` and then the same
without --dry-run (each the whole command, start-up included), runs what follows the plan in the seed
(the rest of new Đồng Tháp, targets, tg-district's area, activities since the reform) and times
`flask coverage verify`. Then it times the coverage pages as bench/coverage_bench.py does
(`--requests` rounds, the same functions) on both copies **in the same rounds**, taking turns (the old
map's copy first in even rounds, last in odd ones): a change of this machine's speed falls on before
and after alike, which timing them one after the other (as this script did until round 16) did not.
Beside each page it prints the table rows it shows on each map: after the reform the province page
lists its communes (20 a page) where it listed 11 districts, and Xã Cái Bè holds the hamlets of three
old communes. The copies are dropped at the end unless --keep.
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import coverage_bench as cb  # noqa: E402

BIN = ROOT / ".venv" / "bin"


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def pg_parts(url: str) -> tuple[list[str], str]:
    """createdb/dropdb connection options and the database name of a postgresql:// URL."""
    from urllib.parse import urlsplit
    u = urlsplit(url)
    opts = ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return opts, u.path.lstrip("/")


def make_copy(url: str, suffix: str = "reorganize") -> str:
    if url.startswith("sqlite"):
        source = Path(url.split("sqlite:///", 1)[1])
        target = source.with_name(f"{source.stem}-{suffix}.db")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        src.backup(dst)
        src.close()
        dst.close()
        return f"sqlite:///{target}"
    opts, name = pg_parts(url)
    copy = f"{name}_{suffix}"
    subprocess.run(["dropdb", *opts, "--if-exists", copy], check=True)
    subprocess.run(["createdb", *opts, "-T", name, copy], check=True)
    return url.rsplit("/", 1)[0] + "/" + copy


def drop_copy(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[1]
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    opts, name = pg_parts(url)
    subprocess.run(["dropdb", *opts, "--if-exists", name], check=True)


def flask(env: dict, *args: str) -> tuple[float, str]:
    """Run a flask command to its end: (seconds, its output); exits the bench if it fails."""
    started = time.monotonic()
    done = subprocess.run([str(BIN / "flask"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}"
                         f"\n{done.stderr[-3000:]}")
    return took, done.stdout


def in_app(url: str, work):
    """Run work() in an app context on the database (the caller commits); returns its result."""
    from app import create_app
    from app.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url)})
    with app.app_context():
        from app.extensions import db
        try:
            return work()
        finally:
            db.session.remove()
            db.engine.dispose()


def coverage(urls: list[str], env: dict, rounds: int, workers: int):
    """The coverage bench's rounds on the databases, taking turns: per database, label -> (p50, p95,
    p95 / floor's p95), and label -> the table rows each page shows."""
    return cb.run_rounds(urls, env, rounds, workers, with_rows=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a province-scale database on the old map (copied)")
    parser.add_argument("--requests", type=int, default=200, help="coverage rounds before and after (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the reorganized copy")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"{kind}; at the start: {load()}")
    started = time.monotonic()
    url = make_copy(args.database_url)
    before_url = make_copy(args.database_url, "oldmap") if args.requests else None
    print(f"copies: {url}, {before_url} in {time.monotonic() - started:.0f} s")
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py", SECRET_KEY="bench-secret",
               LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    figures: dict[str, float] = {}
    try:
        def state():
            import sqlalchemy as sa

            from app.extensions import db
            from app.households.models import Household
            from app.units.models import Reorganization
            return (db.session.scalar(sa.select(sa.func.count()).select_from(Reorganization)),
                    db.session.scalar(sa.select(sa.func.count()).select_from(Household)))
        reorganizations, households = in_app(url, state)
        if reorganizations:
            raise SystemExit("this database was reorganized already: give one seeded on the old map")
        print(f"{households:,} households")

        plan_file = Path(url.split("sqlite:///", 1)[1]).with_suffix(".plan.xlsx") if kind == "SQLite" else \
            ROOT / "instance" / "reorganize-bench.plan.xlsx"
        plan_file.parent.mkdir(exist_ok=True)

        def draft():
            from app.demo import province_reform
            from app.units import plan_sheet
            t = time.monotonic()
            rows = province_reform.plan_rows(province_reform.plan_lines())
            took = time.monotonic() - t
            plan_sheet.write_plan(plan_file, rows)
            return took, len(rows), sum(1 for r in rows if r[3])
        figures["draft"], lines, hamlet_lines = in_app(url, draft)
        print(f"draft (official links, split communes' hamlets dealt out): {figures['draft']:.1f} s, "
              f"{lines} lines, {hamlet_lines} of them hamlets of split communes")
        figures["dry run"], output = flask(env, "units", "reorganize", "--plan", str(plan_file), "--dry-run")
        last = output.strip().splitlines()[-1]
        print(f"flask units reorganize --plan --dry-run: {figures['dry run']:.1f} s ({last})")
        figures["apply"], output = flask(env, "units", "reorganize", "--plan", str(plan_file))
        summary = [ln for ln in output.splitlines() if ln.startswith(("Hamlets moved", "applied"))]
        print(f"flask units reorganize --plan: {figures['apply']:.1f} s ({'; '.join(summary)}); {load()}")

        def after():
            import random

            from app.demo import province_reform
            from app.extensions import db
            timings = province_reform.after_reform(random.Random(87), echo=lambda text: print(" ", text))
            db.session.commit()
            return sum(timings.values())
        figures["after"] = in_app(url, after)
        print(f"what follows the plan in the seed: {figures['after']:.1f} s")
        figures["verify"], output = flask(env, "coverage", "verify")
        print(f"flask coverage verify: {figures['verify']:.1f} s ({output.strip().splitlines()[-1]}); {load()}")
        if args.requests:
            (before, before_rows), (after_figures, after_rows) = coverage([before_url, url], env, args.requests,
                                                                          args.workers)
            print(f"coverage pages, {args.requests} rounds each (gunicorn {args.workers} workers), the old map's "
                  f"copy -> the reorganized one, in the same rounds (p50 / p95 ms, p95 / floor; table rows):")
            for label, (p50, p95, ratio) in before.items():
                a50, a95, aratio = after_figures[label]
                mark = "" if aratio <= ratio * 1.1 else "   <- worse"
                print(f"  {label:34s} {p50:6.1f} / {p95:6.1f} / {ratio:4.2f} ({before_rows.get(label, 0):3d})  ->  "
                      f"{a50:6.1f} / {a95:6.1f} / {aratio:4.2f} ({after_rows.get(label, 0):3d}){mark}")
        print(f"at the end: {load()}; total {time.monotonic() - started:.0f} s")
    finally:
        if not args.keep:
            drop_copy(url)
            if before_url:
                drop_copy(before_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
