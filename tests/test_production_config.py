"""Production settings: no silent wrong database, no demo data in a real one, forms that work behind
nginx, and log lines an operator can act on."""
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_HOST = "cnscd.example.vn"


def _production_env(**extra) -> dict:
    """The environment of a shell where the env file was not loaded."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CNSCD_DEV", "FLASK_DEBUG", "SECRET_KEY")}
    env.update(FLASK_APP="wsgi.py", **extra)
    return env


def test_a_flask_command_without_database_url_outside_development_stops_with_one_clear_line(tmp_path):
    out = tmp_path / "report.csv"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "report", "monthly", "--unit", "93", "--month", "2026-01",
         "--format", "csv", "--output", str(out)],
        cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL is not set" in lines[0], proc.stderr
    assert not out.exists()  # no report of zeros from a fresh SQLite file


def test_gunicorn_without_database_url_stops_with_the_status_the_unit_does_not_restart(tmp_path):
    """Exit status 4 (deploy/cnscd.service: RestartPreventExitStatus=4), not workers restarted forever."""
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "gunicorn"), "--bind", "127.0.0.1:29466", "--workers", "1",
             "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("gunicorn kept restarting its workers")
    assert proc.returncode == 4
    assert "Error: DATABASE_URL is not set" in proc.stderr and "App failed to load" in proc.stderr
    assert "RestartPreventExitStatus=4" in (ROOT / "deploy" / "cnscd.service").read_text()


def test_the_app_refuses_to_start_without_a_database_outside_development(monkeypatch):
    monkeypatch.delenv("CNSCD_DEV", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": None})
    # The development flag (set by the Makefile) keeps `make run` working with no set-up.
    monkeypatch.setenv("CNSCD_DEV", "1")
    assert create_app({"SQLALCHEMY_DATABASE_URI": None}).config["SQLALCHEMY_DATABASE_URI"].endswith("instance/app.db")


def test_a_server_started_with_the_development_secret_key_says_so_in_its_log(tmp_path, caplog):
    """The session cookies of a server left on the development SECRET_KEY can be forged by anyone who read
    the code: its log says so at start, and says nothing once a key is set (or in tests and debug runs)."""
    import logging
    url = f"sqlite:///{tmp_path / 'x.db'}"
    warning = "SECRET_KEY is the development default"
    with caplog.at_level(logging.WARNING):
        create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "dev-only-change-me"})
    assert sum(warning in r.getMessage() for r in caplog.records) == 1
    for quiet in ({"SECRET_KEY": "a-real-secret-from-the-env-file"},
                  {"SECRET_KEY": "dev-only-change-me", "TESTING": True},
                  {"SECRET_KEY": "dev-only-change-me", "DEBUG": True}):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            create_app({"SQLALCHEMY_DATABASE_URI": url} | quiet)
        assert not any(warning in r.getMessage() for r in caplog.records), quiet


def test_the_instance_folder_is_made_only_for_a_sqlite_file_inside_it(tmp_path, monkeypatch):
    """A service user may not write to the code's folder: on PostgreSQL nothing is created there."""
    import app as app_package
    instance = tmp_path / "instance"
    monkeypatch.setattr(app_package, "INSTANCE_DIR", instance)
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u:p@127.0.0.1:1/none"})
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'elsewhere.db'}"})
    assert not instance.exists()
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'app.db'}"})
    assert instance.is_dir()


def test_demo_seed_refuses_a_database_with_units_it_did_not_make(runner, db, tree):
    """Units imported for a real province, accounts not made yet: no made-up hamlets, no demo accounts."""
    from app.auth.models import User
    from app.units.models import AdminUnit
    units_before = db.session.scalar(db.select(db.func.count()).select_from(AdminUnit))
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "demo data is loaded only into an empty database" in result.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AdminUnit)) == units_before


@pytest.fixture(scope="module")
def proxied_app(app):
    """The app as deployed: PROXY_COUNT=1 behind nginx, CSRF on."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": True, "PROXY_COUNT": 1})


def _through_nginx(proxied_app, host_headers: dict, origin: str):
    """Sign in the way a browser does through nginx: gunicorn is reached at 127.0.0.1:8000 (the Host nginx
    would pass by default), the browser's page is at `origin`."""
    client = proxied_app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", **host_headers}
    page = client.get("/auth/login", base_url="https://127.0.0.1:8000", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/auth/login", base_url="https://127.0.0.1:8000",
                       headers={**headers, "Referer": f"{origin}/auth/login"},
                       data={"username": "xa-proxy", "password": PASSWORD, "csrf_token": token})


@pytest.fixture
def proxy_user(db, tree):
    from app.auth.cli import create_user
    create_user("xa-proxy", "commune", tree.commune, PASSWORD)
    db.session.commit()


def test_sign_in_behind_nginx_passing_the_host_and_port_is_accepted(proxied_app, proxy_user):
    # deploy/nginx-cnscd.conf passes the public host (and the port, for a server not on 443).
    resp = _through_nginx(proxied_app, {"X-Forwarded-Host": PUBLIC_HOST}, f"https://{PUBLIC_HOST}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    resp = _through_nginx(proxied_app, {"X-Forwarded-Host": PUBLIC_HOST, "X-Forwarded-Port": "8443"},
                          f"https://{PUBLIC_HOST}:8443")
    assert resp.status_code == 302, resp.get_data(as_text=True)


def test_a_csrf_rejection_is_logged_with_its_reason(proxied_app, proxy_user, caplog):
    """nginx without the host headers: the form is refused (the referrer names another host than the one
    gunicorn sees), and the log says why instead of nothing."""
    with caplog.at_level(logging.WARNING):
        resp = _through_nginx(proxied_app, {}, f"https://{PUBLIC_HOST}")
    assert resp.status_code == 400 and "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "CSRF rejected POST /auth/login from 203.0.113.9" in logged
    assert "The referrer does not match the host." in logged
    assert f"'127.0.0.1:8000', referrer host '{PUBLIC_HOST}'" in logged


def test_failed_sign_ins_and_the_limit_are_logged_without_the_password(client, db, tree, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(11):
            client.post("/auth/login", data={"username": "  Xa-Doan-Mo  ", "password": "doan-thu-mat-khau"})
    messages = [r.getMessage() for r in caplog.records]
    failed = [m for m in messages if m.startswith("sign-in failed")]
    assert len(failed) == 10 and failed[0] == "sign-in failed for 'xa-doan-mo' from 127.0.0.1"
    assert any(m.startswith("rate limit 10 per 1 minute reached on POST /auth/login for 'xa-doan-mo'")
               for m in messages), messages
    assert not any("doan-thu-mat-khau" in m for m in messages)


def test_log_times_carry_their_zone(app):
    from flask.logging import default_handler
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "x", None, None)
    assert re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] WARNING app: x$",
                    default_handler.format(record))


def test_the_worker_s_loaded_app_is_left_out_of_full_garbage_collections(tmp_path):
    """What loading the app made lives as long as the worker; the collector's full passes skip it, so
    a request does not pay for walking it all (the tail of a city's province page)."""
    script = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60, capture_output=True, text=True,
                          env=_production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", SECRET_KEY="x" * 32))
    assert proc.returncode == 0, proc.stderr
    frozen, tracked = map(int, proc.stdout.split())
    assert frozen > 50_000 and tracked < frozen / 10
