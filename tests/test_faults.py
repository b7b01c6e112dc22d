"""Faults the app survives: the database locked or restarting, a worker killed mid-post, a full disk.

The tests that need gunicorn or PostgreSQL's server binaries skip with the reason when those are
missing, and fail instead when REQUIRE_SERVICES=1 (CI sets it).
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.units.models import AdminUnit
from app.visits.models import Visit
from tests import servers
from tests.test_concurrency import _fresh_form, _seed, _sign_in

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# Ports of this suite's own servers (a throwaway PostgreSQL, gunicorn), below the ephemeral ports (see
# test_deploy.py).
GUNICORN_PORTS = iter(range(29432, 29449))
VIETNAMESE_TRY_AGAIN = "Vui lòng thử lại sau ít phút"


def _missing(reason: str):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _port() -> int:
    for port in GUNICORN_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in this suite's range")


@contextlib.contextmanager
def gunicorn(url: str, log_path: Path, workers: int = 2, worker_class: str = "sync", **env):
    """gunicorn on `url` in this suite's port range; always stopped afterwards."""
    try:
        import gunicorn as _gunicorn  # noqa: F401
    except ImportError:
        _missing("gunicorn is not installed")
    with servers.gunicorn(url, log_path, port=_port(), workers=workers, worker_class=worker_class,
                          **env) as (base, proc):
        yield base, proc


def _visit_post(s, base, household_id, member_id, note):
    csrf, key = _fresh_form(s, base)
    return {"household_id": str(household_id), "visited_on": "2024-06-14", "members": [str(member_id)],
            "note": note, "svc-vneid": "guided", "save": "1", "csrf_token": csrf, "key": key}


def _visits(db, key=None):
    db.session.rollback()
    query = sa.select(sa.func.count(Visit.id))
    if key is not None:
        query = query.where(Visit.idempotency_key == key)
    return db.session.scalar(query)


# --- A fault of our own: a 500 page in Vietnamese, the request's writes undone, the error logged ---------

def test_an_unexpected_error_is_a_vietnamese_500_page_that_undoes_the_request_s_writes(app, db, caplog):
    from app import create_app
    from app.extensions import db as _db
    from app.units.operations import create_unit
    broken = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")},
                         "WTF_CSRF_ENABLED": False, "PROPAGATE_EXCEPTIONS": False})

    def half_done():
        create_unit("Tỉnh Dở Dang", "province", None, "99")
        _db.session.flush()
        raise RuntimeError("a bug")

    broken.add_url_rule("/half-done", "half_done", half_done)
    resp = broken.test_client().get("/half-done")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "Đã có lỗi xảy ra" in body and "a bug" not in body
    assert any("Exception on /half-done" in r.getMessage() and r.exc_info for r in caplog.records)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(AdminUnit.code == "99")) == 0


def test_a_value_refused_by_a_check_of_the_database_is_a_422_page_and_nothing_of_the_request_is_kept(
        app, db, tree, caplog):
    """The forms check each value before the database does; a form that lacked a check would meet the
    database's own rule (here a hamlet's household count below zero): the user is told in Vietnamese that
    nothing was saved (422, not a server error), the request's other writes are undone, the error is logged."""
    from app import create_app
    from app.extensions import db as _db
    from app.units.models import HouseholdCount
    from app.units.operations import create_unit
    hamlet_id = tree.hamlet.id
    lacking = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")},
                          "WTF_CSRF_ENABLED": False, "PROPAGATE_EXCEPTIONS": False})

    def unchecked_count():
        create_unit("Tỉnh Dở Dang", "province", None, "99")
        _db.session.add(HouseholdCount(unit_id=hamlet_id, households=-5, effective_on=date(2026, 3, 1)))
        _db.session.flush()
        return "saved"

    lacking.add_url_rule("/unchecked-count", "unchecked_count", unchecked_count, methods=["POST"])
    resp = lacking.test_client().post("/unchecked-count")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422, body[:300]
    assert "Chưa lưu" in body and "nên chưa có gì được lưu" in body and "households_range" not in body
    assert any(r.levelname == "ERROR" and "refused a value on POST /unchecked-count" in r.getMessage()
               for r in caplog.records)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit).where(AdminUnit.code == "99")) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdCount).where(
        HouseholdCount.unit_id == hamlet_id, HouseholdCount.households < 0)) == 0


# --- SQLite: a writer that cannot get the lock in time gets a 503, whatever the worker class ---------

@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_a_visit_posted_while_sqlite_is_locked_gets_503_then_its_retry_is_recorded_once(
        app, db, tree, tmp_path, worker_class):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database lock; PostgreSQL waits per household")
    users, households = _seed(tree)
    path = db.engine.url.database
    with gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log", worker_class=worker_class,
                  SQLITE_BUSY_TIMEOUT_MS="300", RETRY_AFTER_SECONDS="2") as (base, _proc):
        s = _sign_in(base, users[0][0])
        data = _visit_post(s, base, households[0], users[0][1], "Khoá ghi")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database's write lock
        try:
            started = time.monotonic()
            resp = s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert resp.status_code == 503, resp.text[:500]
        assert resp.headers["Retry-After"] == "2"
        assert VIETNAMESE_TRY_AGAIN in resp.text and 'lang="vi"' in resp.text
        assert waited < 5
        assert _visits(db) == 0
        # What the form's script does after Retry-After: the same post, the same key.
        resp = s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30)
        assert resp.status_code == 303
        assert s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30).headers["Location"] \
            == resp.headers["Location"]
        assert _visits(db, data["key"]) == 1 and _visits(db) == 1
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log and "database unavailable, answered 503" in log


@pytest.mark.parametrize("form", ["/visits/new", "/activities/classes/new", "/activities/shifts/new"])
def test_the_field_forms_load_their_resend_script_from_a_file(app, db, tree, team, form):
    """The resend-on-503 script is a static file (the CSP forbids inline scripts) and the form is a
    plain POST form still, so it works without JavaScript: on each form a team logs its work with."""
    from tests.visits_helpers import sign_in_as
    leader, _user = sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])
    html = leader.get(form).get_data(as_text=True)
    assert re.search(r'<script src="/static/js/resend\.js[^"]*" defer></script>', html)
    assert re.search(r'<form method="post"[^>]*data-resend', html) and "<script>" not in html
    assert 'id="resend-status"' in html
    script = leader.get("/static/js/resend.js")
    assert script.status_code == 200
    body = script.get_data(as_text=True)
    assert "503" in body and "Retry-After" in body and 'name === "find"' in body


# --- a full disk during an import --------------------------------------------------------------------

def test_a_full_disk_during_an_import_says_so_and_imports_nothing(app, db, tree, login_as):
    """SQLite's page limit (PRAGMA max_page_count) raises the very error of a full disk, SQLITE_FULL
    'database or disk is full', part-way through the import's writes."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a full disk is simulated with SQLite's page limit")
    from tests.test_units import upload
    login_as("commune", tree.commune)
    rows = "\n".join(f"Ấp Đầy Đĩa {i:03d};{100 + i}" for i in range(300))
    client = app.test_client()
    login_as("commune", tree.commune, http=client)
    resp = upload(client, tree.commune.id, ("Tên ấp;Số hộ\n" + rows + "\n").encode("utf-8-sig"), "ds-ap.csv")
    assert resp.status_code == 200
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    units_before = db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    db.session.rollback()
    with db.engine.connect() as connection:  # no free pages left over by earlier tests to write into
        connection.exec_driver_sql("VACUUM")

    def limit(dbapi_connection, _record, _proxy):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 3}")

    sa.event.listen(db.engine, "checkout", limit)
    try:
        resp = client.post(f"/units/{tree.commune.id}/import/confirm", data={"payload": payload})
    finally:
        sa.event.remove(db.engine, "checkout", limit)
        db.engine.dispose()  # the limit stays on the connections that had it
    html = resp.get_data(as_text=True)
    assert resp.status_code == 507, html[:500]
    assert "Ổ đĩa của máy chủ đã đầy" in html and "toàn bộ thay đổi đã được huỷ" in html
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == units_before
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(AdminUnit.name.like("Ấp Đầy Đĩa%"))) == 0


# --- a gunicorn worker killed mid-post ---------------------------------------------------------------

def _workers(arbiter_pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == arbiter_pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def test_a_worker_killed_mid_post_leaves_nothing_and_the_retry_records_one_visit(app, db, tree, tmp_path):
    """The worker is stopped in the middle of the post: on PostgreSQL after the visit's rows are written
    (its commit waits: the deferred coverage trigger needs a row the test holds), on SQLite while it
    waits for the write lock.
    SIGKILL; the browser's retry with the same key records the visit once."""
    users, households = _seed(tree)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    postgres = db.engine.dialect.name == "postgresql"
    with gunicorn(url, tmp_path / "gunicorn.log", workers=1) as (base, proc):
        s = _sign_in(base, users[0][0])
        first = _visit_post(s, base, households[0], users[0][1], "Lượt đầu")
        assert s.post(base + "/visits/new", data=first, allow_redirects=False, timeout=30).status_code == 303
        data = {**_visit_post(s, base, households[0], users[0][1], "Lượt bị ngắt"), "visited_on": "2024-06-01"}
        if postgres:
            holder = sa.create_engine(url).connect()
            holder.execute(sa.text("SELECT 1 FROM household_reach WHERE household_id = :h FOR UPDATE"),
                           {"h": households[0]})
        else:
            holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        outcome = {}

        def post():
            try:
                outcome["status"] = s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30)
            except requests.RequestException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=post)
        thread.start()
        try:
            if postgres:  # wait until the worker's insert waits on the held row
                for _ in range(100):
                    # The reach trigger runs at COMMIT (deferred): the visit's rows are all written by then.
                    waiting = holder.execute(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND pid <> pg_backend_pid()")).scalar()
                    if waiting:
                        break
                    time.sleep(0.05)
                assert waiting == 1
            else:
                time.sleep(1.0)
            workers = _workers(proc.pid)
            assert workers
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            thread.join(20)
        finally:
            if postgres:
                holder.rollback()
                holder.close()
            else:
                holder.execute("ROLLBACK")
                holder.close()
        assert "error" in outcome or outcome["status"].status_code >= 500, outcome
        assert _visits(db, data["key"]) == 0  # nothing half-written remains
        assert _visits(db) == 1
        # The browser retries the same form; the arbiter has started a new worker meanwhile.
        for _ in range(50):
            try:
                resp = s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert resp.status_code == 303, resp.text[:300]
        assert s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30).status_code == 303
        assert _visits(db, data["key"]) == 1 and _visits(db) == 2
        visit = db.session.scalar(sa.select(Visit).where(Visit.idempotency_key == data["key"]))
        assert visit.note == "Lượt bị ngắt" and len(visit.services) == 1 and len(visit.members) == 1


# --- the PostgreSQL server restarted in the middle of a run of visit posts --------------------------

def _as_postgres(*args, **kwargs):
    command = [str(a) for a in args]
    if os.geteuid() == 0:  # initdb and the server refuse to run as root
        command = ["runuser", "-u", "postgres", "--"] + command
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60, **kwargs)


@pytest.fixture
def own_postgres():
    """A throwaway PostgreSQL cluster on a free port, which the test may stop and start."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _missing(f"PostgreSQL server binaries not found in {PG_BIN} (set PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("runuser is needed to run PostgreSQL as the postgres user")
    data = Path(tempfile.mkdtemp(prefix="cnscd-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    _as_postgres(PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    port = servers.free_port()  # another run on this machine may hold any fixed port
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c full_page_writes=off"

    def start():
        _as_postgres(PG_BIN / "pg_ctl", "-D", data, "-l", data / "server.log", "-w", "-o", options, "start")

    def stop():
        _as_postgres(PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")

    try:
        start()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", start, stop
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            stop()
        shutil.rmtree(data, ignore_errors=True)


def test_visits_posted_while_postgresql_restarts_get_503_and_are_each_recorded_once(own_postgres, tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db as _db
    from tests.conftest import Tree
    url, start, stop = own_postgres
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "faults-test"})
    with other.app_context():
        upgrade()
        users, households = _seed(Tree())
    with gunicorn(url, tmp_path / "gunicorn.log", workers=2, RETRY_AFTER_SECONDS="1") as (base, _proc):
        s = _sign_in(base, users[0][0])
        forms = [_visit_post(s, base, households[i % len(households)], users[0][1], f"Lượt {i}") for i in range(8)]
        statuses, unavailable = [], []
        stopped = threading.Event()

        def post_all():
            for i, data in enumerate(forms):
                if i == 3:
                    stopped.wait(20)  # the rest are posted while the server is down or coming back
                while True:
                    try:
                        resp = s.post(base + "/visits/new", data=data, allow_redirects=False, timeout=30)
                    except requests.RequestException as exc:  # the app must answer, even now
                        statuses.append(repr(exc))
                        return
                    statuses.append(resp.status_code)
                    if resp.status_code != 503:
                        break
                    unavailable.append(resp)
                    time.sleep(0.3)  # the form's script waits Retry-After; quicker here

        poster = threading.Thread(target=post_all)
        poster.start()
        time.sleep(0.5)
        stop()
        stopped.set()
        time.sleep(2.0)
        start()
        poster.join(60)
    log = (tmp_path / "gunicorn.log").read_text()
    assert not [x for x in statuses if x not in (303, 503)], (statuses, log[-3000:])
    assert statuses.count(303) == len(forms)
    assert unavailable, "no post met the server down"
    for resp in unavailable:
        assert resp.headers["Retry-After"] == "1"
        assert VIETNAMESE_TRY_AGAIN in resp.text
    assert "Traceback" not in log, log[-3000:]
    with other.app_context():
        visits = list(_db.session.scalars(sa.select(Visit)))
        assert sorted(v.idempotency_key for v in visits) == sorted(f["key"] for f in forms)
        # Whole visits only: each with its service, its member and its audit event.
        assert all(len(v.services) == 1 and len(v.members) == 1 for v in visits)
        from app.audit.models import AuditEvent
        assert _db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.record_type == "visit")) == len(forms)
        _db.session.remove()
        _db.engine.dispose()
