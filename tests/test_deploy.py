"""The deployment files in deploy/ as they are: the README's commands name them right, and they run —
PostgreSQL with a password, gunicorn as a user without a home reading the env file, nginx with TLS in
front, sign-in limits in Redis. The services test skips when nginx, redis-server, openssl or PostgreSQL
are missing, and fails instead with REQUIRE_SERVICES=1 (CI)."""
import glob
import http.client
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Below Linux's ephemeral ports (32768–60999), so that no port servers.free_port() picks in the other test
# worker, nor an outgoing connection's, is one of these while this module starts its servers. (A failure seen
# once in CI, likely from this: the fixture found 55462 listening at start, then a test's first request to it
# was refused.)
PG_PORT, REDIS_PORT, GUNICORN_PORT, HTTPS_PORT, HTTP_PORT, SECOND_PORT = 29460, 29461, 29462, 29463, 29464, 29465
HOST = "cnscd.example.vn"
# A user without a home and without write access to the code, like the unit's service user.
SERVICE_USER, SERVICE_GROUP = "nobody", "nogroup"
DB_PASSWORD = "m@t:khau/có%dấu?#&"  # every character that must be URL-encoded in DATABASE_URL


PASSWORD = "mat-khau-trien-khai"
SETUP_SCRIPT = f"""
from datetime import date
from app.auth.cli import create_user
from app.extensions import db
from app.units import operations as unit_ops
from tests.visits_helpers import make_team
province = unit_ops.create_unit("Tỉnh Hậu Giang", "province", None, "93")
district = unit_ops.create_unit("Thành phố Vị Thanh", "district", province, "930")
commune = unit_ops.create_unit("Phường I", "commune", district, "31318")
hamlet = unit_ops.create_unit("Khu vực 1", "hamlet", commune)
unit_ops.set_household_count(hamlet, 320, date(2024, 1, 1))
team, members = make_team(commune, [hamlet])
create_user("xa-trien-khai", "commune", commune, {PASSWORD!r})
leader = create_user("to-truong-trien-khai", "team_leader", commune, {PASSWORD!r})
leader.team_id, leader.member_id = team.id, members[0].id
create_user("thu-gioi-han", "commune", commune, {PASSWORD!r})
create_user("thu-hai-may", "commune", commune, {PASSWORD!r})
db.session.commit()
# A visit already recorded, so the backup test finds one whatever ran before it.
from app.catalogue.operations import active_services
from app.households.operations import create_household
from app.visits.operations import VisitData, create_visit
household = create_household(hamlet.id, "Hộ Sao Lưu Sẵn", "Số 1")
create_visit(VisitData(household=household, visited_on=date(2025, 3, 4),
                       results={{active_services()[0].id: "adopted"}}, member_ids=[members[0].id]),
             "setup-visit-0001", team.id, user=leader)
db.session.commit()
"""


def readme_deploy_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Deploying")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def unit_settings() -> dict[str, str]:
    settings = {}
    for line in (DEPLOY / "cnscd.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), value.strip())
    return settings


def read_env_file(path: Path) -> dict[str, str]:
    """As systemd's EnvironmentFile and deploy/flask read it: KEY=value lines, # comments."""
    env = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


def test_the_readme_and_the_deployment_files_agree(runner):
    section = readme_deploy_section()
    unit = unit_settings()
    named = set(re.findall(r"\bdeploy/[\w.-]+", section))
    assert {"deploy/make-env", "deploy/flask", "deploy/cnscd.service", "deploy/nginx-cnscd.conf",
            "deploy/gunicorn.conf.py", "deploy/cnscd.env.example"} <= named
    for path in named:
        assert (ROOT / path).is_file(), f"the README names {path}, which does not exist"

    home, user = unit["WorkingDirectory"], unit["User"]
    env_file = unit["EnvironmentFile"]
    assert unit["ExecStart"] == f"{home}/.venv/bin/gunicorn -c {home}/deploy/gunicorn.conf.py"
    assert f"cd {home}" in section and f"--shell /usr/sbin/nologin {user}" in section
    assert "cp deploy/cnscd.service /etc/systemd/system/" in section
    assert f"sudo -u {user} deploy/flask db upgrade" in section
    assert env_file in section
    flask_wrapper = (DEPLOY / "flask").read_text()
    assert f"CNSCD_ENV_FILE:-{env_file}}}" in flask_wrapper
    make_env = (DEPLOY / "make-env").read_text()
    assert f'"--output", default="{env_file}"' in make_env
    assert f'"--group", default="{unit["Group"]}"' in make_env
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "CapabilityBoundingSet"):
        assert key in unit
    assert "createuser --pwprompt" in section

    # nginx -> gunicorn's address; static files from the code's folder; bodies above the app's limit.
    nginx = (DEPLOY / "nginx-cnscd.conf").read_text()
    gunicorn_conf = (DEPLOY / "gunicorn.conf.py").read_text()
    bind = re.search(r'^bind = "([^"]+)"', gunicorn_conf, re.M).group(1)
    assert re.search(rf"upstream cnscd {{\s*server {re.escape(bind)};\s*}}", nginx)
    assert "proxy_pass http://cnscd;" in nginx
    assert f"alias {home}/app/static/;" in nginx and (ROOT / "app" / "static").is_dir()
    # nginx serves the static files itself: it compresses them (Debian's nginx.conf leaves CSS and JS as they are).
    static = re.search(r"location /static/ {([^}]*)}", nginx).group(1)
    assert "gzip on;" in static and "gzip_vary on;" in static
    assert {"text/css", "application/javascript", "image/svg+xml"} <= set(
        re.search(r"gzip_types ([^;]+);", static).group(1).split())
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert body_mb * 1024 * 1024 > runner.app.config["MAX_CONTENT_LENGTH"]
    for header in ("Host $host", "X-Forwarded-Host $host", "X-Forwarded-Port $server_port",
                   "X-Forwarded-Proto $scheme", "X-Forwarded-For $proxy_add_x_forwarded_for"):
        assert f"proxy_set_header {header};" in nginx
    assert "Strict-Transport-Security" in nginx and "return 301 https://" in nginx
    assert "cp deploy/nginx-cnscd.conf /etc/nginx/sites-available/" in section

    # Every `deploy/flask GROUP COMMAND` the README gives is a command of the app.
    commands = set(re.findall(r"deploy/flask ([a-z-]+) ([a-z-]+)", section))
    assert ("db", "upgrade") in commands and ("coverage", "verify") in commands
    for group, command in commands:
        result = runner.invoke(args=[group, command, "--help"])
        assert result.exit_code == 0, (group, command, result.output)


def test_make_env_without_the_service_group_says_so_in_one_line_and_asks_nothing(tmp_path):
    output = tmp_path / "cnscd.env"
    proc = subprocess.run([str(DEPLOY / "make-env"), "--output", str(output), "--group", "khong-co-nhom-nay"],
                          input="", capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and not output.exists()
    assert proc.stderr.count("\n") == 1 and "no group 'khong-co-nhom-nay'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "password" not in proc.stderr + proc.stdout


def test_make_env_for_the_unix_socket_writes_a_url_without_a_password(tmp_path):
    import grp
    output = tmp_path / "cnscd.env"
    subprocess.run([str(DEPLOY / "make-env"), "--output", str(output), "--group", grp.getgrgid(os.getgid()).gr_name,
                    "--db-host", "/var/run/postgresql"], input="", capture_output=True, text=True, timeout=30,
                   check=True)
    settings = read_env_file(output)
    assert settings["DATABASE_URL"] == "postgresql://cnscd@/cnscd?host=/var/run/postgresql"
    assert len(settings["SECRET_KEY"]) == 64
    assert "deploy/make-env --db-host /var/run/postgresql" in readme_deploy_section()


# --- the services -------------------------------------------------------------------------------


def _missing_services() -> list[str]:
    missing = [name for name in ("nginx", "redis-server", "openssl", "runuser")
               if not shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("PostgreSQL server binaries")
    if os.geteuid() != 0:
        missing.append("root (to run gunicorn as another user)")
    return missing


def _require_services():
    if os.environ.get("TEST_DB") == "postgres":
        pytest.skip("runs once, in the SQLite pass: it starts a PostgreSQL cluster of its own")
    missing = _missing_services()
    if not missing:
        # The service user must be able to run the virtual environment's Python (a venv made from a
        # Python under /root, mode 700, cannot be).
        probe = subprocess.run(["runuser", "-u", SERVICE_USER, "--", str(ROOT / ".venv" / "bin" / "python"),
                                "-c", f"import flask; open({str(ROOT / 'wsgi.py')!r}).close()"],
                               cwd="/", capture_output=True, text=True)
        if probe.returncode != 0:
            missing.append(f"code and a .venv the user {SERVICE_USER} can read and run "
                           f"({probe.stderr.strip()[-200:]})")
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but missing: {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")


def _which(name: str) -> str:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 20):
    import socket
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{log.read_text() if log.exists() else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text() if log.exists() else ''}")


class Browser:
    """Just enough of a browser: HTTPS to nginx checked against the test's certificate, the public
    Host, cookies, and the Referer of the page a form was on."""

    def __init__(self, cafile: Path):
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.cookies: dict[str, str] = {}
        self.origin = f"https://{HOST}:{HTTPS_PORT}"

    def connection(self):
        return http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=self.context, timeout=30)

    def headers(self) -> dict:
        return {"Host": f"{HOST}:{HTTPS_PORT}"}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                referer: str | None = None):
        conn = self.connection()
        h = {**self.headers(), **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if referer:
            h["Referer"] = self.origin + referer
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp, data

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path: str, fields: list[tuple[str, str]], page: str):
        from urllib.parse import urlencode
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"}, referer=page)

    def sign_in(self, username: str, password: str):
        _resp, html = self.get("/auth/login")
        return self.post_form("/auth/login", [("username", username), ("password", password),
                                              ("csrf_token", csrf_token(html))], "/auth/login")


def csrf_token(html: str) -> str:
    return re.search(r'name="(?:\w+-)?csrf_token" type="hidden" value="([^"]+)"', html).group(1)


class FormFields(HTMLParser):
    """The fields of the page's form that carries an idempotency key (the visit form)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self.options: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                self.options.setdefault(a["name"], []).append(a.get("value", ""))
                if "checked" in a:
                    self.fields.setdefault(a["name"], []).append(a.get("value", ""))
            elif kind not in ("submit", "button", "search"):
                self.fields[a["name"]] = [a.get("value") or ""]
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@pytest.fixture(scope="module")
def deployment():
    """PostgreSQL, Redis, gunicorn and nginx started from deploy/'s files; yields a dict of handles."""
    _require_services()
    work = Path(tempfile.mkdtemp(prefix="cnscd-deploy-"))
    os.chmod(work, 0o755)
    procs: list[subprocess.Popen] = []
    pgbin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    pgdata = work / "pg"
    pgdata.mkdir()
    shutil.chown(pgdata, "postgres", "postgres")
    os.chmod(pgdata, 0o700)
    pg_started = False
    try:
        # PostgreSQL as Debian sets it up: passwords over TCP (scram-sha-256), the admin on the socket.
        _run(["runuser", "-u", "postgres", "--", f"{pgbin}/initdb", "-D", str(pgdata), "-U", "postgres",
              "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
        _run(["runuser", "-u", "postgres", "--", f"{pgbin}/pg_ctl", "-D", str(pgdata), "-w", "-l",
              str(pgdata / "log"), "-o", f"-c listen_addresses=127.0.0.1 -p {PG_PORT} -k {pgdata} "
                                         "-c fsync=off -c full_page_writes=off", "start"])
        pg_started = True
        psql = ["runuser", "-u", "postgres", "--", f"{pgbin}/psql", "-h", str(pgdata), "-p", str(PG_PORT),
                "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
        _run(psql + [f"CREATE ROLE cnscd LOGIN PASSWORD '{DB_PASSWORD}'"])
        _run(psql + ["CREATE DATABASE cnscd OWNER cnscd"])

        redis_log = work / "redis.log"
        redis = subprocess.Popen([_which("redis-server"), "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--logfile", str(redis_log)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        procs.append(redis)
        _wait_for_port(REDIS_PORT, redis, redis_log)

        # The env file as the README makes it, then limits small enough to reach in a test.
        env_file = work / "etc" / "cnscd.env"
        _run([str(DEPLOY / "make-env"), "--output", str(env_file), "--group", SERVICE_GROUP,
              "--db-port", str(PG_PORT), "--redis-url", f"redis://127.0.0.1:{REDIS_PORT}/0"],
             input=DB_PASSWORD + "\n")
        assert oct(env_file.stat().st_mode & 0o777) == "0o640"
        with env_file.open("a") as f:
            f.write("LOGIN_LIMIT_PER_ACCOUNT=2/minute\n")
        settings = read_env_file(env_file)
        assert len(settings["SECRET_KEY"]) == 64 and "m%40t%3Akhau%2F" in settings["DATABASE_URL"]

        def as_service_user(*cmd, **kw):
            env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
                   "CNSCD_ENV_FILE": str(env_file), **kw.pop("env", {})}
            return ["runuser", "-u", SERVICE_USER, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                    *cmd]

        flask = str(DEPLOY / "flask")
        _run(as_service_user(flask, "db", "upgrade"), cwd="/")
        # A commune with a hamlet, a team and two accounts, through the app's own functions (the demo
        # seed would take half a minute).
        setup = work / "setup.py"
        setup.write_text(SETUP_SCRIPT)
        setup.chmod(0o644)
        _run(as_service_user(flask, "shell"), cwd="/", input=f"exec(open({str(setup)!r}).read())\n")

        # gunicorn as the unit starts it: its user, its directory, its ExecStart, the env file.
        unit = unit_settings()
        home = unit["WorkingDirectory"]
        exec_start = unit["ExecStart"].replace(home, str(ROOT)).split()
        # Two servers on the same database and Redis, as the README's "Two servers" sets them up: the
        # first with two workers, the second with one.
        servers = []
        for port, workers in ((GUNICORN_PORT, 2), (SECOND_PORT, 1)):
            log_path = work / f"gunicorn-{port}.log"
            with log_path.open("w") as log:
                proc = subprocess.Popen(
                    as_service_user(*exec_start, env={
                        **settings, "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers {workers}"}),
                    cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(proc)
            servers.append((port, proc, log_path))

        # nginx with the repository's server block: only ports, certificate and paths replaced.
        cert, key = work / "cert.pem", work / "key.pem"
        _run([_which("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-days", "1", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
              "-keyout", str(key), "-out", str(cert)])
        site = (DEPLOY / "nginx-cnscd.conf").read_text()
        site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
        site = (site.replace("listen 443 ssl;", f"listen 127.0.0.1:{HTTPS_PORT} ssl;")
                .replace("listen 80;", f"listen 127.0.0.1:{HTTP_PORT};")
                .replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(cert))
                .replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key))
                .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{GUNICORN_PORT}; server 127.0.0.1:{SECOND_PORT};")
                .replace(f"{home}/", f"{ROOT}/"))
        assert f"127.0.0.1:{GUNICORN_PORT}" in site and str(cert) in site
        (work / "nginx-tmp").mkdir()
        shutil.chown(work / "nginx-tmp", SERVICE_USER, SERVICE_GROUP)
        (work / "site.conf").write_text(site)
        nginx_log = work / "nginx-error.log"
        (work / "nginx.conf").write_text(f"""
user {SERVICE_USER} {SERVICE_GROUP};
worker_processes 1;
pid {work}/nginx.pid;
error_log {nginx_log};
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;  # as Debian's nginx.conf does
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/nginx-tmp/body;
    proxy_temp_path {work}/nginx-tmp/proxy;
    fastcgi_temp_path {work}/nginx-tmp/fastcgi;
    uwsgi_temp_path {work}/nginx-tmp/uwsgi;
    scgi_temp_path {work}/nginx-tmp/scgi;
    include {work}/site.conf;
}}
""")
        nginx = subprocess.Popen([_which("nginx"), "-c", str(work / "nginx.conf"), "-p", str(work),
                                  "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        procs.append(nginx)
        _wait_for_port(HTTPS_PORT, nginx, nginx_log)
        for port, proc, log_path in servers:
            _wait_for_port(port, proc, log_path)
        yield {"cert": cert, "logs": [log_path for _p, _proc, log_path in servers], "redis_port": REDIS_PORT,
               "redis": redis, "work": work, "pg": (pgbin, pgdata), "env_file": env_file,
               "as_service_user": as_service_user}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:  # nothing to keep: no graceful shutdown
                os.killpg(proc.pid, 9) if proc.pid == os.getpgid(proc.pid) else proc.kill()
                proc.wait(timeout=15)
        if pg_started:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{pgbin}/pg_ctl", "-D", str(pgdata), "-m",
                            "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def test_the_deployment_files_serve_the_app_through_nginx_over_https(deployment):
    browser = Browser(deployment["cert"])

    # Plain HTTP is sent to HTTPS; HTTPS answers carry HSTS.
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
    conn.request("GET", "/auth/login", headers={"Host": HOST})
    resp = conn.getresponse()
    assert resp.status == 301 and resp.headers["Location"] == f"https://{HOST}/auth/login"
    resp, _html = browser.get("/auth/login")
    assert resp.status == 200 and "max-age=31536000" in resp.headers["Strict-Transport-Security"]
    resp, css = browser.get("/static/css/app.css")
    assert resp.status == 200 and css
    for path in ("/static/css/app.css", "/static/js/htmx-feedback.js"):  # served by nginx, compressed
        resp, _body = browser.request("GET", path, headers={"Accept-Encoding": "gzip"})
        assert resp.status == 200 and resp.headers["Content-Encoding"] == "gzip", (path, resp.headers)
        assert "Accept-Encoding" in resp.headers["Vary"]

    # A leader signs in and records a visit: every POST passes the CSRF referrer check behind nginx.
    resp, _ = browser.sign_in("to-truong-trien-khai", PASSWORD)
    assert resp.status == 302, _
    assert "Secure" in " ".join(resp.headers.get_all("Set-Cookie"))
    resp, page = browser.get("/visits/new")
    assert resp.status == 200
    form = FormFields()
    form.feed(page)
    fields = [(name, value) for name, values in form.fields.items() for value in values
              if not name.startswith("svc-") and name not in ("household_id", "members")]
    service = next(name for name in form.options if name.startswith("svc-"))
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    fields = [(n, v) for n, v in fields if n not in ("visited_on", "new_name", "new_hamlet")] + [
        ("visited_on", today), ("household_id", "new"), ("new_name", "Hộ Kiểm Thử Triển Khai"),
        ("members", form.options["members"][0]), (service, "adopted")]
    if "new_hamlet" in form.options:  # a choice only when the team serves several hamlets
        fields.append(("new_hamlet", next(v for v in form.options["new_hamlet"] if v)))
    resp, body = browser.post_form("/visits/new", fields, "/visits/new")
    assert resp.status in (302, 303), body
    _resp, visits = browser.get("/visits/")
    assert "Hộ Kiểm Thử Triển Khai" in visits

    # A commune officer uploads a 2 MB list of hamlets: the app's own page answers, not nginx's 413.
    officer = Browser(deployment["cert"])
    resp, _ = officer.sign_in("xa-trien-khai", PASSWORD)
    assert resp.status == 302
    resp, unit_page = officer.get("/")
    resp, unit_page = officer.get(resp.headers["Location"].replace(officer.origin, ""))
    import_path = re.search(r'href="(/units/\d+/import)"', unit_page).group(1)
    _resp, import_page = officer.get(import_path)
    rows = "".join(f"Ấp Kiểm Thử {i:06d} {'x' * 60},,120,2024-01-01\n" for i in range(25000))
    data = ("Tên,Mã,Số hộ,Ngày hiệu lực\n" + rows).encode()
    assert len(data) > 2 * 1024 * 1024
    boundary = "cnscdboundary7e3f"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{csrf_token(import_page)}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"ap.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    resp, html = officer.request("POST", import_path, body,
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"}, referer=import_path)
    assert resp.status != 413 and resp.status < 500, html[:500]
    assert "Content-Security-Policy" in resp.headers and 'name="file"' in html  # the app's import page

    # Three wrong passwords for one account, sent at once to both workers: one limit, kept in Redis.
    results = []

    def attempt():
        results.append(Browser(deployment["cert"]).sign_in("thu-gioi-han", "sai-mat-khau")[0].status)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    attempt()
    assert sorted(results[:2]) == [401, 401] and results[2] == 429, results
    import redis
    keys = redis.Redis(port=deployment["redis_port"]).keys("*user:thu-gioi-han*")
    assert keys, "the sign-in limit is not kept in Redis"

    log = "".join(path.read_text() for path in deployment["logs"])
    assert "sign-in failed for 'thu-gioi-han'" in log and "rate limit 2 per 1 minute reached" in log
    assert re.search(r'"POST /visits/new HTTP/1.0" 30[23] ', log), log[-2000:]  # the access log is on
    assert "Traceback" not in log and "control" not in log.lower(), log[-3000:]


class Direct(Browser):
    """A browser whose requests reach one gunicorn server directly, with the headers nginx adds."""

    def __init__(self, port: int, cookies: dict):
        self.port, self.cookies, self.origin = port, cookies, f"https://{HOST}:{HTTPS_PORT}"

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def headers(self) -> dict:
        return {"Host": HOST, "X-Forwarded-Host": HOST, "X-Forwarded-Port": str(HTTPS_PORT),
                "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}


def test_two_servers_on_one_database_share_sessions_forms_counts_and_limits(deployment):
    cookies: dict[str, str] = {}
    one, two = Direct(GUNICORN_PORT, cookies), Direct(SECOND_PORT, cookies)

    # A form made on one server is accepted by the other; so is the session it starts.
    _resp, page = one.get("/auth/login")
    resp, body = two.post_form("/auth/login", [("username", "xa-trien-khai"), ("password", PASSWORD),
                                               ("csrf_token", csrf_token(page))], "/auth/login")
    assert resp.status == 302, body
    resp, _ = one.get("/")
    unit_path = resp.headers["Location"].replace(one.origin, "").replace(f"https://{HOST}", "")
    resp, unit_page = one.get(unit_path)
    assert resp.status == 200
    hamlet = re.search(r'href="(/units/\d+)"[^>]*>Khu vực 1<', unit_page).group(1)

    # A household count changed through one server shows on the other's next coverage page (each
    # worker keeps the counts' roll-up in memory: the second server has read it before the change).
    coverage = "/coverage/" + unit_path.rstrip("/").rsplit("/", 1)[1]
    resp, before = two.get(coverage)
    assert resp.status == 200 and "320" in before and "1.234" not in before
    _resp, page = one.get(hamlet)
    version = re.search(r'name="count-version" type="hidden" value="([^"]*)"', page).group(1)
    resp, body = one.post_form(f"{hamlet}/households", [("count-households", "1234"),
                                                        ("count-effective_on", "2025-01-01"),
                                                        ("count-version", version),
                                                        ("count-csrf_token", csrf_token(page))], hamlet)
    assert resp.status in (302, 303), body
    _resp, after = two.get(coverage)
    assert "1.234" in after

    # Signed out through one server, the session's cookie no longer opens a page on the other (each worker
    # keeps the signed-in account in memory: the second server has it from the page just above). A copy
    # of the cookie stands for the same session left open on another phone.
    elsewhere = Direct(GUNICORN_PORT, dict(cookies))
    _resp, page = elsewhere.get(coverage)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # the footer's sign-out form
    resp, _body = elsewhere.post_form("/auth/logout", [("csrf_token", token)], coverage)
    assert resp.status in (302, 303)
    resp, _body = two.get(coverage)
    assert resp.status == 302 and "/auth/login" in resp.headers["Location"]

    # The sign-in limit (2 a minute in the test's env file) counts across both servers.
    statuses = [Direct(port, {}).sign_in("thu-hai-may", "sai-mat-khau")[0].status
                for port in (GUNICORN_PORT, SECOND_PORT, GUNICORN_PORT)]
    assert statuses == [401, 401, 429], statuses

    # Redis stopped: people still sign in (each worker counts in memory meanwhile), no error page.
    deployment["redis"].terminate()
    deployment["redis"].wait(timeout=10)
    resp, body = Direct(SECOND_PORT, {}).sign_in("to-truong-trien-khai", PASSWORD)
    assert resp.status == 302, body[:300]


def test_a_backup_restored_as_the_readme_says_holds_the_visits_and_verifies(deployment):
    section = readme_deploy_section()
    assert "umask 077 && pg_dump --format=custom --file=/var/backups/cnscd/" in section
    assert "pg_restore --no-owner --role=cnscd --dbname=cnscd " in section
    pgbin, pgdata = deployment["pg"]
    work = deployment["work"]
    conn = ["-h", str(pgdata), "-p", str(PG_PORT), "-U", "postgres"]
    backups = work / "backups"
    backups.mkdir(mode=0o700)
    shutil.chown(backups, "postgres", "postgres")
    dump = backups / "cnscd.dump"
    _run(["runuser", "-u", "postgres", "--", "sh", "-c",
          f"umask 077 && {pgbin}/pg_dump {' '.join(conn)} --format=custom --file={dump} cnscd"])
    assert oct(dump.stat().st_mode & 0o777) == "0o600"  # personal data: only postgres reads it

    _run(["runuser", "-u", "postgres", "--", f"{pgbin}/createdb", *conn, "-O", "cnscd", "cnscd_restored"])
    _run(["runuser", "-u", "postgres", "--", f"{pgbin}/pg_restore", *conn, "--no-owner", "--role=cnscd",
          "--dbname=cnscd_restored", str(dump)])
    restored_env = work / "etc" / "restored.env"
    restored_env.write_text(deployment["env_file"].read_text().replace("/cnscd\n", "/cnscd_restored\n"))
    shutil.chown(restored_env, "root", SERVICE_GROUP)
    restored_env.chmod(0o640)
    as_service_user = deployment["as_service_user"]
    flask = str(DEPLOY / "flask")
    env = {"CNSCD_ENV_FILE": str(restored_env)}
    verified = _run(as_service_user(flask, "coverage", "verify", env=env), cwd="/")
    assert "cnscd_restored" in read_env_file(restored_env)["DATABASE_URL"]
    def visits_in(database: str) -> list[str]:
        return _run(["runuser", "-u", "postgres", "--", f"{pgbin}/psql", *conn, "-At", "-d", database, "-c",
                     "SELECT h.head_name FROM visits v JOIN households h ON h.id = v.household_id "
                     "ORDER BY v.id"]).stdout.split("\n")

    # Every visit of the live database is in the restored one (the setup's, and any an earlier test logged).
    restored = visits_in("cnscd_restored")
    assert "Hộ Sao Lưu Sẵn" in restored, verified.stdout
    assert restored == visits_in("cnscd"), verified.stdout
