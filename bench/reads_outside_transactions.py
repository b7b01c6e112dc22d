"""What reading a GET outside a transaction saves on PostgreSQL (app/database.py), in one process.

    .venv/bin/python bench/reads_outside_transactions.py --database-url postgresql://postgres@127.0.0.1:55432/copy
    options: --batches 12  --rounds 60 (server CPU comes in 10 ms ticks: a batch needs a few hundred requests)

Two processes of the same code differ by 6-10% in CPU per request on this machine (bench/request_cpu.py's
note), more than this change: so one process serves the pages both ways, switching between batches by the
hook's own list of methods (`app.database.SAFE_METHODS`: empty, every request opens its transaction at its
first statement as before). A round is the floor page, the visit form and a visit's page as tg-leader, the
province and commune coverage pages as tg-province (read only: nothing is written). Prints the medians over
batches of the worker's CPU per request and of the server's (its backends for this database, from /proc).
"""
import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("PostgreSQL only: SQLite has no round trips to save")
    logging.disable(logging.WARNING)
    import sqlalchemy as sa
    from saturation import server_cpu

    import app.database
    from app import create_app
    from app.config import database_url
    from app.demo.seed import DEMO_PASSWORD
    from app.extensions import db
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.database_url), "WTF_CSRF_ENABLED": False,
                              "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret"})
    with application.app_context():
        ids = dict(db.session.execute(sa.text(
            "SELECT username, unit_id FROM users WHERE username IN ('tg-province', 'tg-commune')")).all())
        visit = db.session.execute(sa.text(
            "SELECT v.id FROM visits v JOIN users u ON u.team_id = v.team_id WHERE u.username = 'tg-leader' "
            "ORDER BY v.id DESC LIMIT 1")).scalar()
        db.session.remove()
    pages = [("tg-leader", ["/auth/password", "/visits/new", f"/visits/{visit}"]),
             ("tg-province", [f"/coverage/{ids['tg-province']}", f"/coverage/{ids['tg-commune']}"])]
    clients = []
    for user, paths in pages:
        client = application.test_client()
        client.post("/auth/login", data={"username": user, "password": DEMO_PASSWORD})
        for path in paths:
            for _ in range(5):
                assert client.get(path, headers={"Accept-Encoding": "gzip"}).status_code == 200, path
        clients.append((client, paths))
    ways = {"outside (GET without BEGIN)": app.database.SAFE_METHODS, "inside (BEGIN ... COMMIT)": frozenset()}
    worker, server = {w: [] for w in ways}, {w: [] for w in ways}
    for b in range(args.batches):
        for way in (list(ways) if b % 2 == 0 else list(ways)[::-1]):
            app.database.SAFE_METHODS = ways[way]
            n, s0, t0 = 0, server_cpu(args.database_url), time.process_time()
            for _ in range(args.rounds):
                for client, paths in clients:
                    for path in paths:
                        client.get(path, headers={"Accept-Encoding": "gzip"})
                        n += 1
            worker[way].append((time.process_time() - t0) * 1000 / n)
            server[way].append((server_cpu(args.database_url) - s0) * 1000 / n)
    print(f"{args.batches} batches of {args.rounds} rounds (5 pages a round) each way, alternating; "
          f"load average {os.getloadavg()[0]:.1f}. Medians, ms of CPU per request:")
    for way in ways:
        print(f"  {way:30s} worker {statistics.median(worker[way]):6.2f}   "
              f"server {statistics.median(server[way]):5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
