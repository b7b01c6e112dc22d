"""Every statement a coverage page, trend, visit POST and monthly xlsx runs, with its executed plan (auto_explain).

    .venv/bin/python bench/plans_bench.py --database-url postgresql://postgres@127.0.0.1:54329/cnscd_plans_big

PostgreSQL only, on a province seed (`flask demo seed --scale province` or `--scale city`; the
tg-* accounts). The pages run in-process through Flask's test client; every connection of the
app's pool loads auto_explain for itself (LOAD, then SETs: nothing on the server or the database
changes) with `log_level = notice`, so the plans come back to this client as notices and not into
the server's shared log. Each page is requested `--repeat` times on one connection, so psycopg
prepares its statements (fifth run) and PostgreSQL may switch them to a generic plan (five runs
later); the last run's plans are what a worker serves all day, and those are reported.

Prints, per page, each statement's rows returned, rows touched (every node's rows plus those its
filters removed, times its loops) and shared buffers, and flags a statement whose rows touched on
the province page exceed both 20x its rows returned and 5x what it touches on the commune page:
a cost growing with the units under the page rather than the rows it shows.
"""
import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

AUTO_EXPLAIN = ["LOAD 'auto_explain'",
                "SET auto_explain.log_min_duration = 0",
                "SET auto_explain.log_analyze = on",
                "SET auto_explain.log_buffers = on",
                "SET auto_explain.log_timing = on",
                "SET auto_explain.log_nested_statements = on",
                "SET auto_explain.log_format = json",
                "SET auto_explain.log_level = notice",
                "SET client_min_messages = notice"]


def touched(node: dict) -> int:
    """Rows a plan node produced or threw away, over all its loops, with its children's."""
    loops = node.get("Actual Loops", 1) or 0
    own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
           + node.get("Rows Removed by Join Filter", 0) + node.get("Rows Removed by Index Recheck", 0)) * loops
    return own + sum(touched(child) for child in node.get("Plans", ()))


def scans(node: dict) -> list[str]:
    out = []
    if "Relation Name" in node:
        out.append(f"{node['Node Type']} {node['Relation Name']}"
                   + (f" ({node['Index Name']})" if "Index Name" in node else ""))
    for child in node.get("Plans", ()):
        out += scans(child)
    return out


def parse(notice: str) -> dict | None:
    match = re.match(r"duration: ([\d.]+) ms\s+plan:\s*(\{.*)", notice, re.S)
    if not match:
        return None
    doc = json.loads(match.group(2))
    plan = doc["Plan"]
    text = " ".join(doc.get("Query Text", "").split())
    return {"ms": float(match.group(1)), "text": text, "returned": plan.get("Actual Rows", 0),
            "touched": touched(plan), "buffers": plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0),
            "generic": bool(re.search(r"\$\d", json.dumps(plan))), "scans": scans(plan)}


# "Children and retired units", as it was (the retired units found through unit_ancestors) and as it
# is (through the retired units' own path index); $1 the unit, $2 its path.
RETIRED_CHECK = {
    "through unit_ancestors (before)":
        "SELECT admin_units.id, EXISTS (SELECT 1 FROM unit_ancestors JOIN admin_units u "
        "ON u.id = unit_ancestors.unit_id WHERE unit_ancestors.ancestor_id = $1 AND u.retired_on IS NOT NULL "
        "LIMIT 1) FROM admin_units WHERE parent_id = $1",
    "through the retired units' path index (after)":
        "SELECT admin_units.id, EXISTS (SELECT 1 FROM admin_units u WHERE u.path LIKE $2 || '%' "
        "AND u.retired_on IS NOT NULL LIMIT 1) FROM admin_units WHERE parent_id = $1",
}


def compare_retired_check(url: str, units: dict[str, int], runs: int) -> None:
    """Each shape prepared (SQL PREPARE), run six times so PostgreSQL settles on its plan, then
    `runs` times under EXPLAIN ANALYZE: the server's execution time, median. Before and after this
    change's indexes: they are dropped inside a transaction that is rolled back (it locks
    admin_units while it runs: use a copy)."""
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        paths = {label: conn.execute("SELECT path FROM admin_units WHERE id = %s", (uid,)).fetchone()[0]
                 for label, uid in units.items()}
        print(f"\n'children and retired units': server execution time, median of {runs} runs, prepared")
        for indexes in ("without", "with"):
            if indexes == "without":
                conn.execute("SAVEPOINT before_indexes")
                conn.execute("DROP INDEX IF EXISTS ix_admin_units_retired_path")
                conn.execute("DROP INDEX IF EXISTS ix_admin_units_path_prefix")
            # Prepared anew each time: psycopg deallocates everything on a rollback, even to a savepoint.
            conn.execute("DEALLOCATE ALL")
            for n, sql in enumerate(RETIRED_CHECK.values()):
                conn.execute(f"PREPARE shape{n}(integer, varchar) AS {sql}")
            for label, uid in units.items():
                for n, shape in enumerate(RETIRED_CHECK):
                    call = f"EXECUTE shape{n}({uid}, '{paths[label]}')"
                    for _ in range(6):
                        conn.execute(call).fetchall()
                    times, plan = [], None
                    for _ in range(runs):
                        plan = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {call}").fetchone()[0][0]
                        times.append(plan["Execution Time"])
                    times.sort()
                    print(f"  {label:9s} {indexes} the new indexes, {shape:46s} {times[len(times) // 2]:6.3f} ms, "
                          f"{touched(plan['Plan'])} rows read")
            if indexes == "without":
                conn.execute("ROLLBACK TO SAVEPOINT before_indexes")
        conn.rollback()


def build_app(url: str, notices: list[str]):
    from sqlalchemy import event

    from app import create_app
    from app.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret",
                      # One connection: every request reuses the same prepared statements.
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    with app.app_context():
        from app.extensions import db

        @event.listens_for(db.engine, "connect")
        def _explain(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                for sql in AUTO_EXPLAIN:
                    cur.execute(sql)
            dbapi_conn.commit()
            notices.clear()
            dbapi_conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=12, help="runs of each page before the one reported")
    parser.add_argument("--show", type=int, default=6, help="statements shown per page, most rows touched first")
    parser.add_argument("--compare-runs", type=int, default=300,
                        help="runs of each shape of the 'children and retired units' statement (0: skip)")
    parser.add_argument("--compare-only", action="store_true", help="only the statement's before/after timing")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("auto_explain is PostgreSQL's: give a postgresql:// URL")
    if args.compare_only:
        return compare_only(args.database_url, args.compare_runs)
    import random

    import sqlalchemy as sa
    from coverage_bench import unit_ids, visit_fields, visit_plan
    from werkzeug.datastructures import MultiDict
    ids = unit_ids(args.database_url)
    plan = visit_plan(args.database_url, args.repeat + 1)
    notices: list[str] = []
    app = build_app(args.database_url, notices)
    with app.app_context():
        from app.coverage import queries
        from app.extensions import db
        year, month = queries.default_month()
        past = f"{year - 1}-{month:02d}"
        # Units with children: a commune page shows hamlets; a two-level seed has no district.
        first = db.session.scalar(sa.text("SELECT min(to_char(visited_on, 'YYYY-MM')) FROM visits"))
        db.session.remove()
    prov, dist, comm = ids["tg-province"], ids.get("tg-district"), ids["tg-commune"]
    pages = [("province", f"/coverage/{prov}"), ("province, past month", f"/coverage/{prov}?month={past}"),
             ("province, old map", f"/coverage/{prov}?map=then"), ("province trend", f"/coverage/{prov}/trend"),
             ("commune", f"/coverage/{comm}"), ("commune, past month", f"/coverage/{comm}?month={past}"),
             ("commune, old map", f"/coverage/{comm}?map=then"), ("commune trend", f"/coverage/{comm}/trend"),
             ("province monthly xlsx", f"/reports/{prov}/monthly.xlsx?month={past}")]
    if dist:
        pages[4:4] = [("district", f"/coverage/{dist}"), ("district, past month", f"/coverage/{dist}?month={past}"),
                      ("district trend", f"/coverage/{dist}/trend")]
    print(f"PostgreSQL, {args.repeat} warm-up runs per page, plans of the run after; data from {first}")
    client, leader = app.test_client(), app.test_client()
    for c, user in ((client, "tg-province"), (leader, plan["username"])):
        resp = c.post("/auth/login", data={"username": user, "password": "matkhau-demo-2024"})
        assert resp.status_code == 302, (user, resp.status_code)
    report: dict[str, dict[str, dict]] = {}
    rng = random.Random(plan["seed"])
    for label, path in pages + [("visit POST", None)]:
        for i in range(args.repeat + 1):
            notices.clear()
            t = time.perf_counter()
            if path is None:
                resp = leader.post("/visits/new", data=MultiDict(visit_fields(plan, plan["households"][i], "", rng)))
                ok = resp.status_code == 303
            else:
                resp = client.get(path, headers={"HX-Request": "true"} if path.endswith("/trend") else {})
                ok = resp.status_code == 200
            ms = (time.perf_counter() - t) * 1000
            if not ok:
                raise SystemExit(f"{label}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        statements: dict[str, dict] = {}
        for raw in notices:
            row = parse(raw)
            if row is None:
                continue
            key = row["text"]
            if key in statements:  # the same statement twice in a request: keep the costlier
                if row["touched"] <= statements[key]["touched"]:
                    continue
            statements[key] = row
        report[label] = statements
        total = sum(r["ms"] for r in statements.values())
        print(f"\n{label} ({path or '/visits/new'}): {ms:.0f} ms in-process, {len(statements)} statements, "
              f"{total:.1f} ms in their plans (instrumented)")
        for text, r in sorted(statements.items(), key=lambda kv: -kv[1]["touched"])[:args.show]:
            print(f"  {r['ms']:7.2f} ms  returned {r['returned']:>7}  touched {r['touched']:>9}  buffers "
                  f"{r['buffers']:>6}{'  generic' if r['generic'] else ''}  {text[:110]}")
            print(f"           {'; '.join(sorted(set(r['scans'])))[:200]}")
    print("\nGrowing with the units under the page: on a province page 500+ rows read and 5x what the same "
          "statement reads on the commune's page of that kind; on a commune page 500+ rows read for 20x fewer returned")
    flagged = 0
    for label in [lb for lb in report if lb.startswith("province") and "xlsx" not in lb]:
        counterpart = report.get(label.replace("province", "commune", 1), {})
        for text, big in report[label].items():
            small = counterpart.get(text)
            if big["touched"] >= 500 and (small is None or big["touched"] > 5 * max(small["touched"], 1)):
                flagged += 1
                c = f"{small['touched']} ({small['ms']:.2f} ms)" if small else "not run there"
                print(f"  {label}: {big['touched']} rows read, {big['returned']} returned, {big['ms']:.2f} ms; "
                      f"commune page: {c}{'  generic' if big['generic'] else ''}: {text[:120]}")
    for label in [lb for lb in report if lb.startswith("commune")]:
        for text, small in report[label].items():
            if small["touched"] >= 500 and small["touched"] > 20 * max(small["returned"], 1):
                flagged += 1
                print(f"  {label}: {small['touched']} rows read, {small['returned']} returned, {small['ms']:.2f} ms"
                      f"{'  generic' if small['generic'] else ''}: {text[:120]}")
    if not flagged:
        print("  none")
    if args.compare_runs:
        compare_retired_check(args.database_url, {"commune": comm, "province": prov}, args.compare_runs)
    return 0


def compare_only(url: str, runs: int) -> int:
    from coverage_bench import unit_ids
    ids = unit_ids(url)
    compare_retired_check(url, {"commune": ids["tg-commune"], "province": ids["tg-province"]}, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
