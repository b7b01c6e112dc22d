"""Coverage pages at province scale: p50/p95 under gunicorn, against the lightest signed-in page.

    .venv/bin/python bench/coverage_bench.py                       # SQLite, instance/bench-province.db
    .venv/bin/python bench/coverage_bench.py --database-url postgresql://postgres@127.0.0.1:55432/cnscd_bench

Seeds the database with `flask demo seed --scale province` when it has no users (reuses it
otherwise), starts gunicorn on 127.0.0.1 only, signs in as tg-province and times a bounded number
of sequential requests per page. Prints each figure and its ratio to the floor.
"""
import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "matkhau-demo-2024"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgres") else url


def ensure_seeded(url: str, env: dict) -> None:
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            has_users = sa.inspect(conn).has_table("users") and conn.execute(
                sa.text("SELECT count(*) FROM users")).scalar()
    finally:
        engine.dispose()
    if has_users:
        print("reusing the seeded database")
        return
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], env=env, check=True, cwd=ROOT)
    started = time.monotonic()
    subprocess.run([str(BIN / "flask"), "demo", "seed", "--scale", "province"], env=env, check=True, cwd=ROOT)
    print(f"seeded in {time.monotonic() - started:.0f} s")


def unit_ids(url: str) -> dict[str, int]:
    engine = sa.create_engine(engine_url(url))
    with engine.connect() as conn:
        ids = {u: conn.execute(sa.text("SELECT unit_id FROM users WHERE username = :u"), {"u": u}).scalar()
               for u in ("tg-province", "tg-district", "tg-commune")}
    engine.dispose()
    return ids


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        with self.opener.open(self.base + path, timeout=30) as resp:
            return resp.status, resp.read()

    def sign_in(self, username: str) -> None:
        _, body = self.get("/auth/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
        data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
        with self.opener.open(self.base + "/auth/login", data=data, timeout=30) as resp:
            if "/auth/login" in resp.url:
                raise SystemExit(f"could not sign in as {username}")


def measure(client: Client, path: str, n: int) -> list[float]:
    for _ in range(5):
        client.get(path)  # warm the caches and the workers
    times = []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert status == 200, (path, status)
    return times


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'instance' / 'bench-province.db'}")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, DATABASE_URL=args.database_url, FLASK_APP="wsgi.py", SECRET_KEY="bench-secret",
               LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    ensure_seeded(args.database_url, env)
    ids = unit_ids(args.database_url)
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                               "--access-logfile", "/dev/null", "wsgi:app"], env=env, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/auth/login", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        client = Client(base)
        client.sign_in("tg-province")
        pages = [
            ("floor: change-password page", "/auth/password"),
            ("province coverage", f"/coverage/{ids['tg-province']}"),
            ("district coverage", f"/coverage/{ids['tg-district']}"),
            ("commune coverage", f"/coverage/{ids['tg-commune']}"),
        ]
        db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
        print(f"{db}, gunicorn {args.workers} workers, {args.requests} sequential requests per page")
        floor = None
        for label, path in pages:
            times = measure(client, path, args.requests)
            p50, p95 = pct(times, 50), pct(times, 95)
            floor = floor or p95
            print(f"  {label:32s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   p95/floor {p95 / floor:5.2f}")
        print("  logging a visit: skipped — the visit form lives on the visits branch, not merged here")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
