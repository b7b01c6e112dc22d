"""CPU per request on the saturation mix, in-process, two versions of the code alternating (issue 18, item 2).

    .venv/bin/python bench/request_cpu.py --database-url postgresql://postgres@127.0.0.1:55432/copy \
        --app-dir /tmp/before --app-dir .
    (a worktree first needs its catalogue compiled: cd /tmp/before && pybabel compile -d translations)
    options: --batches 16  --rounds 10  (a round: 4 leader loops and 1 officer loop, 14 requests)
             --calls (then Python calls per request, counted under cProfile: they do not drift)

`bench/saturation.py` measures throughput under load, but on a shared 2-core machine its CPU per request
swings by ±20% between identical runs: it cannot show a change of 10%. This script takes the same mix
without the load: each `--app-dir` (a checkout; `git worktree add /tmp/before REV`) runs in a process of
its own with Flask's test client (no HTTP server, so no socket or gunicorn cost: what is left is the
app's), and the processes take turns, a batch of rounds each, so a drift of the machine falls on both.
A round is what `saturation.py`'s clients do: four team leaders (`sat-leader-0..3`, added on the first
run) each GET the visit form, POST a visit (CSRF token, fresh key, the team's next household) and GET the
visit's page; then one officer (tg-province, tg-district, tg-commune in turn) GETs the coverage page and
its htmx trend. Pages are asked for compressed, as a browser asks (bench/encoding.py). Per version it
prints the median over batches of the CPU per request of each kind and of the whole mix, and for
PostgreSQL the server's CPU per request (its backends for this database, from /proc). Writes visits: run
it on a copy. Its own noise, the same checkout given twice (3 Dec 2026): 6% on the workers' CPU, 10% on
the server's; smaller changes need many runs, or one process switching between the two ways
(bench/reads_outside_transactions.py does).
"""
import argparse
import cProfile
import gc
import itertools
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from encoding import ACCEPT_ENCODING, decoded

HERE = Path(__file__).resolve().parent
KINDS = ("form", "post", "visit", "coverage", "trend")
LEADERS_PER_ROUND = 4


def worker(app_dir: str, url: str) -> None:
    """Serve batches: read a number of rounds on stdin, run them, print the CPU spent per kind."""
    sys.path.insert(0, app_dir)
    sys.path.insert(1, str(HERE))
    import logging
    logging.disable(logging.WARNING)
    from saturation import OFFICERS, PASSWORD, csrf, plans, today
    from werkzeug.datastructures import MultiDict

    from app import create_app
    from app.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": "bench-secret",
                      "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute"})
    # As wsgi.py does in every gunicorn worker: what loading made is left out of the collector's full
    # passes. Without it each request here paid ~0.5 ms of collections that a served request does not.
    gc.collect()
    gc.freeze()
    leaders, units = plans(url, LEADERS_PER_ROUND)
    compressed = {"Accept-Encoding": ACCEPT_ENCODING}  # as a browser asks (bench/encoding.py)

    def signed_in(username):
        client = app.test_client()
        token = csrf(client.get("/auth/login").data)
        resp = client.post("/auth/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
        assert resp.status_code == 302 and "/auth/login" not in resp.headers["Location"], username
        return client

    leader_clients = [(signed_in(p["username"]), p) for p in leaders]
    officer_clients = [(signed_in(name), units[name]) for name in OFFICERS]
    rng = random.Random(1)
    spent = {k: [0.0, 0] for k in KINDS}
    profiles = {}  # kind -> cProfile.Profile while Python calls are counted (a "calls N" line)

    def timed(kind, call, *args, **kwargs):
        profile = profiles.get(kind)
        t = time.process_time()
        if profile is not None:
            profile.enable()
        resp = call(*args, **kwargs)
        if profile is not None:
            profile.disable()
        spent[kind][0] += time.process_time() - t
        spent[kind][1] += 1
        return resp

    def leader(client, plan):
        page = timed("form", client.get, "/visits/new", headers=compressed)
        assert page.status_code == 200, page.status_code
        token = csrf(decoded(page.data, page.headers.get("Content-Encoding")))
        household = plan["households"][plan["next"] % len(plan["households"])]
        plan["next"] += 1
        fields = [("csrf_token", token), ("key", uuid.uuid4().hex), ("visited_on", today()),
                  ("household_id", str(household)), ("note", f"cpu bench {uuid.uuid4().hex[:8]}")]
        fields += [("members", str(m)) for m in plan["members"][:rng.choice((1, 2))]]
        fields += [(f"svc-{code}", rng.choice(("guided", "guided", "adopted")))
                   for code in rng.sample(plan["codes"], rng.choice((1, 2, 2, 3)))]
        fields.append(("save", "1"))
        resp = timed("post", client.post, "/visits/new", data=MultiDict(fields), headers=compressed)
        assert resp.status_code == 303, (resp.status_code, resp.data[:300])
        assert timed("visit", client.get, resp.headers["Location"], headers=compressed).status_code == 200

    def officer(client, unit_id):
        assert timed("coverage", client.get, f"/coverage/{unit_id}", headers=compressed).status_code == 200
        assert timed("trend", client.get, f"/coverage/{unit_id}/trend",
                     headers=compressed | {"HX-Request": "true"}).status_code == 200

    officers = itertools.cycle(officer_clients)  # the officer's turn carries from batch to batch

    def rounds(n):
        for _ in range(n):
            for client, plan in leader_clients:
                leader(client, plan)
            officer(*next(officers))

    rounds(6)  # warm-up: templates compiled, statements prepared, caches filled
    import app as package
    print("ready", package.__file__, flush=True)
    for line in sys.stdin:
        for k in KINDS:
            spent[k] = [0.0, 0]
        counting = line.startswith("calls ")
        if counting:
            profiles.update((k, cProfile.Profile()) for k in KINDS)
        rounds(int(line.split()[-1]))
        if counting:
            calls = {k: pstats.Stats(profiles.pop(k)).total_calls / spent[k][1] for k in KINDS}
            print(json.dumps(calls), flush=True)
        else:
            print(json.dumps(spent), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--app-dir", action="append",
                        help="a checkout to run (twice for before/after); default: this one")
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per batch")
    parser.add_argument("--processes", type=int, default=2,
                        help="processes per version, their batches pooled: two processes of the same code "
                             "differ by up to ~8%% on this machine (memory layout), which one process per "
                             "version would count as the code's")
    parser.add_argument("--calls", action="store_true",
                        help="then one more batch per process under cProfile: Python calls per request, which "
                             "do not drift with the machine's speed")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.database_url)
        return 0
    sys.path.insert(0, str(HERE))
    from saturation import ensure_leaders, server_cpu
    ensure_leaders(args.database_url, LEADERS_PER_ROUND)
    dirs = [str(Path(d).resolve()) for d in (args.app_dir or [str(HERE.parent)])]
    for d in dirs:
        # A checkout made with `git worktree add` has no compiled catalogue (the .mo files are not in git):
        # its pages would come out in English, shorter and cheaper than the Vietnamese ones compared with.
        if not (Path(d) / "translations" / "vi" / "LC_MESSAGES" / "messages.mo").is_file():
            raise SystemExit(f"{d} has no compiled Vietnamese catalogue: (cd {d} && "
                             f"{Path(sys.executable).parent}/pybabel compile -d translations)")
    procs, version = [], []  # version[k]: which of dirs process k runs
    for k in range(args.processes * len(dirs)):
        d = dirs[k % len(dirs)]
        version.append(k % len(dirs))
        p = subprocess.Popen([sys.executable, __file__, "--worker", d, "--database-url", args.database_url],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=d,
                             env=dict(os.environ, PYTHONHASHSEED="0"))  # the same dict and set orders in each
        ready = p.stdout.readline().split()
        if ready[:1] != ["ready"] or not ready[1].startswith(d + "/"):
            raise SystemExit(f"the worker for {d} did not start, or runs another checkout's app: {ready}")
        procs.append(p)
    per_kind = [{k: [] for k in KINDS} for _ in dirs]
    mix, server = [[] for _ in dirs], [[] for _ in dirs]
    for b in range(args.batches):
        for k in (range(len(procs)) if b % 2 == 0 else reversed(range(len(procs)))):
            i = version[k]
            s0 = server_cpu(args.database_url)
            procs[k].stdin.write(f"{args.rounds}\n")
            procs[k].stdin.flush()
            spent = json.loads(procs[k].stdout.readline())
            s1 = server_cpu(args.database_url)
            n = sum(c for _, c in spent.values())
            for k, (cpu, count) in spent.items():
                per_kind[i][k].append(cpu * 1000 / count)
            mix[i].append(sum(cpu for cpu, _ in spent.values()) * 1000 / n)
            server[i].append((s1 - s0) * 1000 / n)
    calls = [{k: [] for k in KINDS} for _ in dirs]
    if args.calls:
        for k, p in enumerate(procs):
            p.stdin.write(f"calls {args.rounds}\n")
            p.stdin.flush()
            for kind, n in json.loads(p.stdout.readline()).items():
                calls[version[k]][kind].append(n)
    for p in procs:
        p.stdin.close()
        p.wait()
    pg = args.database_url.startswith("postgres")
    print(f"{'PostgreSQL' if pg else 'SQLite'}: {args.batches} batches of {args.rounds} rounds in each of "
          f"{args.processes} processes per version (14 requests a round), taking turns; "
          f"load average {os.getloadavg()[0]:.1f}. Medians, ms of CPU per request:")
    print(f"  {'version':40s} " + " ".join(f"{k:>8s}" for k in KINDS) + "      mix" + ("   server" if pg else ""))
    for i, d in enumerate(dirs):
        print(f"  {d[-40:]:40s} " + " ".join(f"{statistics.median(per_kind[i][k]):8.2f}" for k in KINDS)
              + f" {statistics.median(mix[i]):8.2f}" + (f" {statistics.median(server[i]):8.2f}" if pg else ""))
    if args.calls:
        print(f"Python calls per request (cProfile, {args.rounds} rounds in each process):")
        print(f"  {'version':40s} " + " ".join(f"{k:>8s}" for k in KINDS) + "      mix")
        for i, d in enumerate(dirs):
            per = {k: statistics.mean(calls[i][k]) for k in KINDS}
            mixed = (LEADERS_PER_ROUND * (per["form"] + per["post"] + per["visit"]) + per["coverage"] + per["trend"]) \
                / (3 * LEADERS_PER_ROUND + 2)
            print(f"  {d[-40:]:40s} " + " ".join(f"{per[k]:8.0f}" for k in KINDS) + f" {mixed:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
