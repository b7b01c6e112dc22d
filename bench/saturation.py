"""Saturation: closed-loop leaders logging visits and officers reading coverage against gunicorn; req/s,
latency and the workers' CPU per request.

    .venv/bin/python bench/saturation.py --database-url sqlite:////work/bench-data/saturation.db
    .venv/bin/python bench/saturation.py --database-url postgresql://postgres@127.0.0.1:54329/cnscd_saturation_big
    options: --workers 4  --leaders 20,40,80  --officers 5  --seconds 20  --warmup 10

Needs a province seed (`flask demo seed --scale province`); writes to it (visits, and the `sat-leader-N`
accounts, one per team, added through `create_user` on the first run), so run it on a copy.
Starts gunicorn (sync workers, as deploy/gunicorn.conf.py; `--worker-class gthread` to compare) on 127.0.0.1.
Each **leader** is a thread signed in as a distinct team leader that loops: GET the visit form, POST a visit
(CSRF token, a fresh idempotency key, the next household of its team, 1-2 members, 1-3 services), GET the page
the 303 names. Each **officer** loops over the coverage page and the htmx trend of its unit (province,
district, commune, in turn). Per level it prints req/s, p50/p95/p99 of every request, the workers' CPU per
request (utime+stime of the gunicorn workers from /proc over the level ÷ requests answered: other load on the
machine does not count), errors, and whether anything was lost (visits in the database by the bench's leaders
= POSTs answered 303). `flask coverage verify` runs at the end.
"""
import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from encoding import ACCEPT_ENCODING, decoded

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "matkhau-demo-2024"
LEADER = "sat-leader-{}"
OFFICERS = ("tg-province", "tg-district", "tg-commune")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgres") else url


def ensure_leaders(url: str, n: int) -> None:
    """One team-leader account per team (the leader member of each of the first n teams with
    households), through the app's own create_user, so each client is a distinct user."""
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.auth.cli import create_user
    from app.auth.models import User
    from app.config import database_url
    from app.demo.seed import DEMO_PASSWORD
    from app.extensions import db
    from app.teams.models import Member, Membership, Team
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        have = db.session.scalar(sa.select(sa.func.count()).where(User.username.like("sat-leader-%")))
        if have < n:
            taken = set(db.session.scalars(sa.select(User.team_id).where(User.username.like("sat-leader-%"))))
            rows = db.session.execute(
                sa.select(Team, Member).join(Membership, Membership.team_id == Team.id)
                .join(Member, Member.id == Membership.member_id)
                .where(Membership.left_on.is_(None), Membership.role == "leader", Team.dissolved_on.is_(None))
                .order_by(Team.id)).all()
            i = have
            for team, member in rows:
                if i >= n:
                    break
                if team.id in taken:
                    continue
                taken.add(team.id)
                user = create_user(LEADER.format(i), "team_leader", team.commune, DEMO_PASSWORD,
                                   full_name=member.full_name)
                user.team_id, user.member_id = team.id, member.id
                i += 1
            db.session.commit()
            print(f"added {i - have} leader accounts")
        db.session.remove()
        db.engine.dispose()


def plans(url: str, n: int) -> list[dict]:
    """Each leader's team: members, households (from where earlier runs stopped), services."""
    engine = sa.create_engine(engine_url(url))
    out = []
    with engine.connect() as conn:
        codes = [r[0] for r in conn.execute(sa.text("SELECT code FROM services WHERE active ORDER BY position, id"))]
        for i in range(n):
            user_id, team_id = conn.execute(sa.text("SELECT id, team_id FROM users WHERE username = :u"),
                                            {"u": LEADER.format(i)}).one()
            members = [r[0] for r in conn.execute(sa.text(
                "SELECT member_id FROM memberships WHERE team_id = :t AND left_on IS NULL ORDER BY member_id"),
                {"t": team_id})]
            households = [r[0] for r in conn.execute(sa.text(
                "SELECT h.id FROM households h JOIN team_hamlets th ON th.hamlet_id = h.hamlet_id "
                "WHERE th.team_id = :t AND h.merged_into_id IS NULL ORDER BY h.id"), {"t": team_id})]
            done = conn.execute(sa.text("SELECT count(*) FROM visits WHERE author_id = :u"), {"u": user_id}).scalar()
            out.append({"username": LEADER.format(i), "user_id": user_id, "members": members,
                        "households": households, "next": done, "codes": codes})
        units = {u: conn.execute(sa.text("SELECT unit_id FROM users WHERE username = :u"), {"u": u}).scalar()
                 for u in OFFICERS}
    engine.dispose()
    return out, units


def visits_by(url: str, user_ids: list[int]) -> int:
    engine = sa.create_engine(engine_url(url))
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM visits WHERE author_id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"ids": user_ids}).scalar()
    engine.dispose()
    return n


class Client:
    """One user's browser: cookies, one HTTP/1.1 connection kept open while the server keeps it (gunicorn's
    sync workers close it after each answer; gthread workers keep it for their keep-alive seconds). A
    request on a kept connection that the server closed meanwhile is sent again on a new one, as browsers do."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | list | None = None,
                htmx: bool = False) -> tuple[int, dict, bytes]:
        # As a browser asks (bench/encoding.py): the app compresses its pages, part of the workers' cost.
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept-Encoding": ACCEPT_ENCODING}
        if htmx:
            headers["HX-Request"] = "true"
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        reused = self.conn is not None
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            payload = decoded(resp.read(), resp.getheader("Content-Encoding"))
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            return self.request(method, path, body, htmx)  # the kept connection had been closed: a new one
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), payload

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def sign_in(self, username: str) -> None:
        _, _, page = self.request("GET", "/auth/login")
        token = csrf(page)
        status, headers, _ = self.request("POST", "/auth/login",
                                          {"csrf_token": token, "username": username, "password": PASSWORD})
        if status != 302 or "/auth/login" in headers.get("location", ""):
            raise SystemExit(f"could not sign in as {username}: {status}")


def csrf(page: bytes) -> str:
    return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


class Run:
    """What every client thread records during a level."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.errors: list[str] = []
        self.posted = 0  # visit POSTs answered 303
        self.recording = False
        self.stop = False

    def note(self, started: float, ok: bool, what: str, posted: bool = False) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if posted:
                self.posted += 1  # counted even during warm-up: the database counts those visits too
            if not self.recording:
                return
            self.times.append(elapsed)
            if not ok:
                self.errors.append(what)


def today() -> str:
    return (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()  # Vietnam's date, as the form checks


def leader_loop(client: Client, plan: dict, run: Run, rng: random.Random) -> None:
    while not run.stop:
        t = time.perf_counter()
        try:
            status, _, page = client.request("GET", "/visits/new")
            run.note(t, status == 200, f"GET /visits/new {status}")
            token = csrf(page)
            household = plan["households"][plan["next"] % len(plan["households"])]
            plan["next"] += 1
            # A note of its own: once a leader has been round its team's households, the same
            # household, members and services within ten minutes would be the app's replay of the
            # earlier visit (answered 303, nothing stored, rightly), not a new one to count.
            fields = [("csrf_token", token), ("key", uuid.uuid4().hex), ("visited_on", today()),
                      ("household_id", str(household)), ("note", f"bench {plan['next']}")]
            fields += [("members", str(m)) for m in plan["members"][:rng.choice((1, 2))]]
            for code in rng.sample(plan["codes"], rng.choice((1, 2, 2, 3))):
                fields.append((f"svc-{code}", rng.choice(("guided", "guided", "adopted"))))
            fields.append(("save", "1"))
            t = time.perf_counter()
            status, headers, body = client.request("POST", "/visits/new", fields)
            location = headers.get("location", "")
            ok = status == 303 and "/visits/" in location
            run.note(t, ok, f"POST /visits/new {status} {body[:200]!r}", posted=ok)
            if ok:
                t = time.perf_counter()
                status, _, _ = client.request("GET", urllib.parse.urlsplit(location).path)
                run.note(t, status == 200, f"GET visit {status}")
        except Exception as exc:  # noqa: BLE001 -- a refused connection or timeout is an error to count
            run.note(t, False, repr(exc))


def officer_loop(client: Client, unit_id: int, run: Run) -> None:
    while not run.stop:
        for path, htmx in ((f"/coverage/{unit_id}", False), (f"/coverage/{unit_id}/trend", True)):
            t = time.perf_counter()
            try:
                status, _, _ = client.request("GET", path, htmx=htmx)
                run.note(t, status == 200, f"GET {path} {status}")
            except Exception as exc:  # noqa: BLE001
                run.note(t, False, repr(exc))


def worker_cpu(master: int) -> float:
    """Seconds of CPU (user + system) used so far by the gunicorn master's children."""
    pids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sum(cpu_seconds(Path(f"/proc/{pid}")) for pid in pids)


def cpu_seconds(proc: Path) -> float:
    """User + system CPU seconds of the process at /proc/PID (0 if it has ended)."""
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def server_cpu(url: str) -> float:
    """Seconds of CPU used so far by the PostgreSQL server's processes serving this database (its
    backends, by their title `postgres: USER DBNAME ...`): on one machine with the app, its share of
    the cores is the workers' to lose. 0 for SQLite, which works inside the workers."""
    if not url.startswith("postgres"):
        return 0.0
    name = urllib.parse.urlsplit(url).path.lstrip("/").encode()
    total = 0.0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if len(words) >= 3 and words[0] == b"postgres:" and words[2] == name:
            total += cpu_seconds(cmdline.parent)
    return total


def workers_of(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def level(port: int, master: int, plans_: list[dict], units: dict, leaders: int, officers: int,
          seconds: float, warmup: float, url: str, profile: str | None) -> dict:
    run = Run()
    clients = []
    for plan in plans_[:leaders]:
        c = Client(port)
        c.sign_in(plan["username"])
        clients.append((c, plan))
    officer_clients = []
    for i in range(officers):
        c = Client(port)
        account = OFFICERS[i % len(OFFICERS)]
        c.sign_in(account)
        officer_clients.append((c, units[account]))
    ids = [p["user_id"] for p in plans_[:leaders]]
    before = visits_by(url, ids)
    threads = [threading.Thread(target=leader_loop, args=(c, p, run, random.Random(i)), daemon=True)
               for i, (c, p) in enumerate(clients)]
    threads += [threading.Thread(target=officer_loop, args=(c, u, run), daemon=True) for c, u in officer_clients]
    for th in threads:
        th.start()
    time.sleep(warmup)
    workers = workers_of(master)
    spies = [] if not profile else [subprocess.Popen(  # sampled over the measured seconds only
        [str(BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "200", "--nonblocking",
         "--duration", str(int(seconds)), "--format", "raw", "-o", f"{profile}-{pid}.txt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in workers]
    cpu0, server0, t0 = worker_cpu(master), server_cpu(url), time.perf_counter()
    run.recording = True
    time.sleep(seconds)
    run.recording = False
    cpu1, server1, t1 = worker_cpu(master), server_cpu(url), time.perf_counter()
    n = len(run.times)
    run.stop = True
    for spy in spies:
        spy.wait()
    for th in threads:
        th.join(timeout=70)
    after = visits_by(url, ids)
    return {"leaders": leaders, "officers": officers, "requests": n, "rps": n / (t1 - t0),
            "p50": pct(run.times, 50), "p95": pct(run.times, 95), "p99": pct(run.times, 99),
            "cpu_ms": (cpu1 - cpu0) * 1000 / n, "server_ms": (server1 - server0) * 1000 / n,
            "errors": run.errors, "posted": run.posted,
            "stored": after - before, "restarted": workers != workers_of(master)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync",
                        help="gthread: one thread per worker that keeps connections open between requests "
                             "(keep-alive), as deploy/gunicorn.conf.py does not by default")
    parser.add_argument("--leaders", default="20,40,80")
    parser.add_argument("--officers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    # Long enough for every worker to have compiled its templates (Jinja compiles each on first use):
    # a compile inside the measured seconds would count as CPU of the requests.
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--profile", metavar="DIR",
                        help="also run py-spy on every worker during each level; flame graphs go to DIR")
    parser.add_argument("--app-dir", default=str(ROOT),
                        help="serve the app from this checkout (e.g. `git worktree add /tmp/before main`), "
                             "to compare code versions in alternating runs on the same database")
    parser.add_argument("--verify", action="store_true",
                        help="then run `flask coverage verify` (minutes at province scale)")
    args = parser.parse_args()
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    levels = [int(x) for x in args.leaders.split(",")]
    env = dict(os.environ, DATABASE_URL=args.database_url, FLASK_APP="wsgi.py", SECRET_KEY="bench-secret",
               LOGIN_LIMIT_PER_ADDRESS="100000 per minute", LOGIN_LIMIT_PER_ACCOUNT="100000 per minute")
    ensure_leaders(args.database_url, max(levels))
    plans_, units = plans(args.database_url, max(levels))
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                               "-w", str(args.workers), "-k", args.worker_class, "--threads", "1",
                               "-b", f"127.0.0.1:{port}",
                               "--access-logfile", "/dev/null", "--chdir", args.app_dir], env=env, cwd=args.app_dir)
    db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    try:
        for _ in range(150):
            try:
                Client(port).request("GET", "/auth/login")
                break
            except OSError:
                time.sleep(0.2)
        print(f"{db}, app from {args.app_dir}, gunicorn {args.workers} {args.worker_class} workers, "
              f"{args.seconds:.0f} s per level "
              f"(after {args.warmup:.0f} s warm-up), load average {os.getloadavg()[0]:.1f}")
        for n in levels:
            profile = f"{args.profile}/{db.lower()}-{n}" if args.profile else None
            r = level(port, server.pid, plans_, units, n, args.officers, args.seconds, args.warmup,
                      args.database_url, profile)
            lost = ("nothing lost" if r["stored"] == r["posted"]
                    else f"LOST: {r['posted']} answered 303, {r['stored']} stored")
            print(f"  {n:3d} leaders + {args.officers} officers: {r['rps']:6.1f} req/s   p50 {r['p50']:6.1f} ms   "
                  f"p95 {r['p95']:6.1f} ms   p99 {r['p99']:6.1f} ms   CPU/request {r['cpu_ms']:5.2f} ms"
                  + (f" + server {r['server_ms']:4.2f} ms" if db == "PostgreSQL" else "") + "   "
                  f"errors {len(r['errors'])}   {lost}" + ("   (a worker restarted)" if r["restarted"] else ""))
            for e in sorted(set(r["errors"]))[:5]:
                print("      error:", e[:300])
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not args.verify:
        return 0
    verify = subprocess.run([str(BIN / "flask"), "coverage", "verify"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    print(f"flask coverage verify: {'clean' if verify.returncode == 0 else 'PROBLEMS'}"
          f" {(verify.stdout + verify.stderr).strip().splitlines()[-1:] }")
    return 0


if __name__ == "__main__":
    sys.exit(main())
