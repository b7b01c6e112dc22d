"""Coverage pages and logging a visit at province scale: p50/p95 under gunicorn, against the lightest signed-in page.

    .venv/bin/python bench/coverage_bench.py                       # SQLite, instance/bench-province.db
    .venv/bin/python bench/coverage_bench.py --database-url sqlite:////work/bench-data/province.db
    .venv/bin/python bench/coverage_bench.py --database-url postgresql://postgres@127.0.0.1:55432/cnscd_bench

Seeds the database with `flask demo seed --scale province` when it has no users (reuses it
otherwise), starts gunicorn on 127.0.0.1 only, signs in as tg-province (the pages) and as the team
leader tg-leader (added if missing), then runs `--requests` rounds, sequentially: each round GETs
every page once (the floor, the three coverage pages, their 12-month trends with their adult tables
and their adult sections, the last two loaded by htmx when scrolled to) and POSTs one
visit (a different household of the team each time, members ticked, services guided or adopted).
Prints p50/p95 of each and its ratio to the floor. Every run adds `--requests` + 5 visits, dated
today; the next run continues with the team's next households.
"""
import argparse
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from encoding import ACCEPT_ENCODING, decoded

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "matkhau-demo-2024"
VISIT_FORM = "the visit form (GET)"
VISIT = "logging a visit (POST)"


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


def visit_plan(url: str, n: int) -> dict:
    """The field user (added if the seed predates it), its team's members, households and services.

    Households are taken in id order from where the previous runs stopped (wrapping round), so
    every POST of a run is a different household and a rerun does not repeat the last one's.
    """
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.config import database_url
    from app.demo.province import ensure_field_user
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url)})
    with app.app_context():
        from app.extensions import db
        username = ensure_field_user()
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(engine_url(url))
    with engine.connect() as conn:
        user_id, team_id = conn.execute(sa.text("SELECT id, team_id FROM users WHERE username = :u"),
                                        {"u": username}).one()
        members = [r[0] for r in conn.execute(sa.text(
            "SELECT member_id FROM memberships WHERE team_id = :t AND left_on IS NULL ORDER BY member_id"),
            {"t": team_id})]
        households = [r[0] for r in conn.execute(sa.text(
            "SELECT h.id FROM households h JOIN team_hamlets th ON th.hamlet_id = h.hamlet_id "
            "WHERE th.team_id = :t AND h.merged_into_id IS NULL ORDER BY h.id"), {"t": team_id})]
        done = conn.execute(sa.text("SELECT count(*) FROM visits WHERE author_id = :u"), {"u": user_id}).scalar()
        codes = [r[0] for r in conn.execute(sa.text("SELECT code FROM services WHERE active ORDER BY position, id"))]
    engine.dispose()
    start = done % len(households)
    chosen = [households[(start + i) % len(households)] for i in range(n)]
    return {"username": username, "members": members, "households": chosen, "codes": codes, "seed": done}


def csrf_in(page: bytes) -> str:
    return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, base: str):
        self.base = base
        self.cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(self.cookies)

    def post(self, path: str, fields: list[tuple[str, str]]) -> tuple[int, str]:
        """POST a form without following the redirect: (status, Location)."""
        opener = urllib.request.build_opener(self.cookies, NoRedirect)
        try:
            with opener.open(self.base + path, data=urllib.parse.urlencode(fields).encode(), timeout=30) as resp:
                return resp.status, resp.read().decode(errors="replace")[:2000]
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location") or exc.read().decode(errors="replace")[:2000]

    def get(self, path: str, htmx: bool = False) -> tuple[int, bytes]:
        # As a browser asks (bench/encoding.py): the app compresses pages, and that is part of the cost.
        headers = {"Accept-Encoding": ACCEPT_ENCODING} | ({"HX-Request": "true"} if htmx else {})
        request = urllib.request.Request(self.base + path, headers=headers)
        with self.opener.open(request, timeout=30) as resp:
            return resp.status, decoded(resp.read(), resp.headers.get("Content-Encoding"))

    def sign_in(self, username: str) -> None:
        _, body = self.get("/auth/login")
        token = csrf_in(body)
        data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
        with self.opener.open(self.base + "/auth/login", data=data, timeout=30) as resp:
            if "/auth/login" in resp.url:
                raise SystemExit(f"could not sign in as {username}")


def visit_fields(plan: dict, household: int, token: str, rng: random.Random) -> list[tuple[str, str]]:
    """What the visit form sends when a leader taps Save: members, a few services guided or adopted."""
    today = (datetime.now(UTC) + timedelta(hours=7)).date()  # Vietnam's date, as the form checks
    fields = [("csrf_token", token), ("key", uuid.uuid4().hex), ("visited_on", today.isoformat()),
              ("household_id", str(household)), ("note", "")]
    fields += [("members", str(m)) for m in plan["members"][:rng.choice((1, 2))]]
    for code in rng.sample(plan["codes"], rng.choice((1, 2, 2, 3))):
        fields.append((f"svc-{code}", rng.choice(("guided", "guided", "adopted"))))
    return fields + [("save", "1")]


class Target:
    """One database under its own gunicorn: its signed-in clients, the leader's visit plan, its timings."""

    def __init__(self, url: str, env: dict, rounds: int, workers: int, pages: int, port: int = 0):
        self.url, self.ids, self.plan = url, unit_ids(url), visit_plan(url, rounds + 5)
        self.rng = random.Random(self.plan["seed"])
        port = port or free_port()
        self.server = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                        "--access-logfile", "/dev/null", "wsgi:app"],
                                       env=dict(env, DATABASE_URL=url), cwd=ROOT)
        self.base = f"http://127.0.0.1:{port}"
        ids = self.ids
        timed = [
            ("floor: change-password page", "/auth/password"),
            ("province coverage", f"/coverage/{ids['tg-province']}"),
            ("district coverage", f"/coverage/{ids['tg-district']}"),
            ("commune coverage", f"/coverage/{ids['tg-commune']}"),
            # The 12-month trend, which a page loads with htmx when it is scrolled to.
            ("province trend (htmx, on scroll)", f"/coverage/{ids['tg-province']}/trend"),
            ("district trend (htmx, on scroll)", f"/coverage/{ids['tg-district']}/trend"),
            ("commune trend (htmx, on scroll)", f"/coverage/{ids['tg-commune']}/trend"),
            # The adult section below the household table, likewise loaded when scrolled to.
            ("province adults (htmx, on scroll)", f"/coverage/{ids['tg-province']}/adults"),
            ("district adults (htmx, on scroll)", f"/coverage/{ids['tg-district']}/adults"),
            ("commune adults (htmx, on scroll)", f"/coverage/{ids['tg-commune']}/adults"),
        ]
        # A city seed has no district (two levels): its district rows are left out.
        self.pages = [(label, path) for label, path in timed[:pages] if "/None" not in path]
        self.times: dict[str, list[float]] = {label: [] for label, _ in self.pages}
        self.rows: dict[str, int] = {}  # label -> the table rows the page shows (`<tr>`s, headings included)
        self.times[VISIT_FORM], self.times[VISIT] = [], []

    def start(self) -> None:
        for _ in range(150):
            try:
                urllib.request.urlopen(self.base + "/auth/login", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        self.client = Client(self.base)
        self.client.sign_in("tg-province")
        self.leader = Client(self.base)
        self.leader.sign_in(self.plan["username"])

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=10)

    def one_round(self, i: int, warm: int) -> None:
        """Every page once, then the visit form and one visit (household i of the plan)."""
        client, leader, times, plan = self.client, self.leader, self.times, self.plan
        for label, path in self.pages:
            t = time.perf_counter()
            lazy = path.endswith(("/trend", "/adults"))
            status, body = client.get(path, htmx=lazy)
            elapsed = (time.perf_counter() - t) * 1000
            assert status == 200, (path, status)
            # The adult figures ("Bình dân học vụ số") are timed where the page gets them: the trends
            # with their adult table, the adult sections; a page holds the section's placeholder.
            if path.startswith("/coverage/"):
                expected = (b'class="table adult-trend' if path.endswith("/trend") else
                            b'class="table adult-table' if path.endswith("/adults") else b'id="adults"')
                assert expected in body, path
            if label not in self.rows:
                self.rows[label] = body.count(b"<tr")
            if i >= warm:  # the first rounds warm the caches and the workers
                times[label].append(elapsed)
        # The form first, as the leader opens it (the field users' home screen; what it reads grows
        # with the team's recent visits, not the province's).
        t = time.perf_counter()
        status, body = leader.get("/visits/new")
        elapsed = (time.perf_counter() - t) * 1000
        assert status == 200 and b'name="household_id"' in body, status
        if i >= warm:
            times[VISIT_FORM].append(elapsed)
        household = plan["households"][i]
        fields = visit_fields(plan, household, csrf_in(body), self.rng)
        t = time.perf_counter()
        status, location = leader.post("/visits/new", fields)
        elapsed = (time.perf_counter() - t) * 1000
        if status != 303 or "/visits/" not in location:
            raise SystemExit(f"visit POST for household {household}: {status} {location[:500]}")
        # Then, untimed, what a browser does next: follow the redirect to the visit's page, which
        # shows (and so takes out of the session) the "Visit recorded." message. Without it every
        # POST left one more message in the session cookie, and each later request carried and
        # re-signed a longer cookie (15 KB after 300 rounds; a browser drops cookies over 4 KB).
        leader.get(urllib.parse.urlsplit(location).path)
        if i >= warm:
            times[VISIT].append(elapsed)

    def figures(self) -> dict[str, tuple[float, float, float]]:
        """label -> (p50, p95, p95 / floor's p95)."""
        out, floor = {}, None
        for label, values in self.times.items():
            p50, p95 = pct(values, 50), pct(values, 95)
            floor = floor or p95
            out[label] = (p50, p95, p95 / floor)
        return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def run_rounds(urls: list[str], env: dict, rounds: int, workers: int, pages: int = 10,
               port: int = 0, warm: int = 5, with_rows: bool = False) -> list:
    """Start gunicorn on each database, run the rounds, stop them: per database, label -> (p50, p95,
    p95 / floor's p95), or with `with_rows` (that, label -> table rows shown). With several databases
    each round runs on every one in turn (the first one
    first in even rounds, last in odd ones), so a change in this machine's speed hits them alike."""
    targets = []
    try:
        for n, url in enumerate(urls):
            targets.append(Target(url, env, rounds, workers, pages, port=port + n if port else 0))
        for target in targets:
            target.start()
        for i in range(warm + rounds):
            for target in (targets if i % 2 == 0 else targets[::-1]):
                target.one_round(i, warm)
    finally:
        for target in targets:
            target.stop()
    if with_rows:
        return [(target.figures(), target.rows) for target in targets]
    return [target.figures() for target in targets]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append",
                        help="the database (default: SQLite at instance/bench-province.db); given several "
                             "times, the rounds alternate between them and the p95s are compared to the first")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=int, default=10, help="time only the first N pages (1 = the floor only)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (0: any free one)")
    args = parser.parse_args()
    urls = args.database_url or [f"sqlite:///{ROOT / 'instance' / 'bench-province.db'}"]
    env = dict(os.environ, FLASK_APP="wsgi.py", SECRET_KEY="bench-secret", LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    for url in urls:
        ensure_seeded(url, dict(env, DATABASE_URL=url))
    results = run_rounds(urls, env, args.requests, args.workers, pages=args.pages, port=args.port)
    for url, figures in zip(urls, results):
        db = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{db} ({url.rsplit('/', 1)[-1]}), gunicorn {args.workers} workers, {args.requests} rounds "
              "(each page once + one visit, sequential)")
        for label, (p50, p95, ratio) in figures.items():
            print(f"  {label:32s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   p95/floor {ratio:5.2f}")
    first = results[0]
    for url, figures in zip(urls[1:], results[1:]):
        print(f"p95 of {url.rsplit('/', 1)[-1]} ÷ p95 of {urls[0].rsplit('/', 1)[-1]}, same rounds:")
        for label, (_p50, p95, _ratio) in figures.items():
            if label in first:
                print(f"  {label:32s} {p95 / first[label][1]:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
