"""Test fixtures: the app on a real database (SQLite by default, PostgreSQL with TEST_DB=postgres),
built by the real migrations, a client, and a `login_as(role, unit)` helper."""
import atexit
import os
import shutil
import tempfile
from datetime import date

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from app import create_app
from app.activities.topics import insert_default_topics
from app.auth.cli import create_user
from app.catalogue.operations import insert_default_services
from app.extensions import db as _db
from app.units import operations as unit_ops
from app.units.models import AdminUnit
from tests import table_reset

PASSWORD = "mat-khau-thu-nghiem"
# CI tries the same examples on every run, so a red build is the code's doing and can be rerun, and
# keeps no database of examples; a developer's runs stay random and remember what failed.
hypothesis_settings.register_profile("cnscd-ci", derandomize=True, database=None, deadline=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("cnscd-ci")
# The coverage triggers (and PostgreSQL functions) as the migrations left them: name -> definition.
MIGRATED_TRIGGERS: dict[str, str] = {}


def _database_url() -> str:
    if os.environ.get("TEST_DB") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("TEST_DB=postgres needs TEST_DATABASE_URL", returncode=2)
        from app.config import database_url
        return _worker_database(database_url(url))
    folder = tempfile.mkdtemp(prefix="cnscd-test-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # each run's database goes with it
    return f"sqlite:///{os.path.join(folder, 'test.db')}"


def _worker_database(url: str) -> str:
    """Under pytest-xdist (`-n 2`) each worker gets a database of its own beside the named one,
    `cnscd_test_gw0`, `cnscd_test_gw1`…, created on first use; without xdist, the named one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_{worker}"
    engine = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.exit(f"cannot make the PostgreSQL test database {name}: {exc}", returncode=2)
    finally:
        engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _reset_schema(url: str) -> None:
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as exc:
            pytest.exit(f"cannot reach the PostgreSQL test database: {exc}", returncode=2)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def app():
    url = _database_url()
    _reset_schema(url)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        # Every test signs in from 127.0.0.1; the per-account limit stays as in production.
        "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "SERVER_NAME": None,
        # scrypt costs 0.15 s a hash and as much a sign-in; test_auth holds production to scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    with app.app_context():
        from flask_migrate import upgrade

        from app.coverage import store
        upgrade()  # the real migrations build the schema, so they are tested on every run
        # What they installed, before any test rebuilds the triggers from app code.
        with _db.engine.connect() as conn:
            MIGRATED_TRIGGERS.update(store.definitions(conn))
        # A migration turns SQLite's foreign keys off on its connection (rebuilding a referenced table), as
        # `flask db upgrade` does in its own process: the tests' connections start afresh, as the app's do.
        _db.engine.dispose()
    app.test_client_class = FreshContextClient  # every client the tests make, the fixture's and their own
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    from app.extensions import limiter
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        empty_database()


def empty_database() -> None:
    """Every table as a test finds it: empty but for the default services and topics."""
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            table_reset.empty(conn, tables)
        else:
            for t in tables:
                conn.execute(sa.text(f'DELETE FROM "{t}"'))
        # The default services come from a data migration: every test starts with them.
        insert_default_services(conn)
        insert_default_topics(conn)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


class FreshContextClient(FlaskClient):
    """The test client, each request in an app context of its own, as a served request has: what a view
    leaves uncommitted is rolled back when its request ends, as in production, instead of staying visible to
    the test through the `db` fixture's session (a view that forgot to commit would pass). The test's own
    session then reads afresh what the request committed."""

    def open(self, *args, **kwargs):
        outer = has_app_context()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if outer:
            _db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Tree:
    """A small province: two districts, three communes, hamlets with household counts."""

    def __init__(self):
        self.province = unit_ops.create_unit("Tỉnh Hậu Giang", "province", None, "93")
        self.district = unit_ops.create_unit("Thành phố Vị Thanh", "district", self.province, "930")
        self.other_district = unit_ops.create_unit("Huyện Châu Thành A", "district", self.province, "931")
        self.commune = unit_ops.create_unit("Phường I", "commune", self.district, "31318")
        self.sibling_commune = unit_ops.create_unit("Phường III", "commune", self.district, "31321")
        self.other_commune = unit_ops.create_unit("Thị trấn Một Ngàn", "commune", self.other_district, "31338")
        self.hamlet = unit_ops.create_unit("Khu vực 1", "hamlet", self.commune)
        self.hamlet2 = unit_ops.create_unit("Khu vực 2", "hamlet", self.commune)
        self.other_hamlet = unit_ops.create_unit("Ấp Nhơn Xuân", "hamlet", self.other_commune)
        for unit, n in ((self.hamlet, 320), (self.hamlet2, 410), (self.other_hamlet, 530)):
            unit_ops.set_household_count(unit, n, date(2024, 1, 1))
        _db.session.commit()

    def refresh(self):
        for name, value in vars(self).items():
            if isinstance(value, AdminUnit):
                setattr(self, name, _db.session.get(AdminUnit, value.id))


@pytest.fixture
def tree(db):
    return Tree()


@pytest.fixture
def login_as(app, client, db):
    """Create a user with the role, bound to the unit, and sign the test client in as them."""
    counter = {"n": 0}

    def _login(role: str, unit: AdminUnit, username: str | None = None, locale: str = "vi", http=None):
        counter["n"] += 1
        username = username or f"{role}-{counter['n']}"
        user = create_user(username, role, unit, PASSWORD, full_name=f"Người dùng {counter['n']}")
        user.locale = locale
        _db.session.commit()
        c = http or client
        resp = c.post("/auth/login", data={"username": username, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return user

    return _login


def only_services(*specs):
    """Make exactly these services active, reusing the default catalogue's rows where codes match.

    Each spec is a dict of Service columns with at least `code`; the others are switched off, so a
    test sees the columns it expects while the migration's default catalogue stays in place.
    """
    from app.visits.models import Service
    _db.session.execute(sa.update(Service).values(active=False))
    out = []
    for spec in specs:
        service = _db.session.scalar(sa.select(Service).where(Service.code == spec["code"]))
        if service is None:
            service = Service(**spec)
            _db.session.add(service)
        else:
            for k, v in spec.items():
                setattr(service, k, v)
        service.active = True
        out.append(service)
    _db.session.flush()
    return out


@pytest.fixture
def team(db, tree):
    """A team serving tree.hamlet, with members: (team, [members])."""
    from tests.visits_helpers import make_team
    return make_team(tree.commune, [tree.hamlet])


@pytest.fixture
def leader(app, db, tree, team):
    """The team's leader, signed in, as a browser (tests/test_visits.py has its own `leader`)."""
    from tests.visits_helpers import sign_in_as
    return sign_in_as(app, "team_leader", tree.commune, team[0], team[1][0])[0]
