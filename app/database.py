"""The engine's hooks: SQLite's pragmas on every connection, PostgreSQL's read-only transactions
ending with COMMIT, a page read on PostgreSQL without a transaction until it writes, and PostgreSQL's
pooled connections checked at checkout without a round trip.

Fast path: a transaction that only ran SELECTs commits instead of rolling back, so psycopg keeps its
prepared statements; faster than the default rollback, after which every statement is parsed and
planned anew (bench/README.md, "Fast paths"). tests/test_db_transactions.py holds it to the plain
way's outcome: whatever wrote is still rolled back.
"""
from flask import Flask

from app.extensions import db


def init_app(app: Flask) -> None:
    _sqlite_pragmas(app)
    _postgres_keep_prepared(app)
    _postgres_checkout_check(app)
    _postgres_reads_outside_transactions(app)


def _sqlite_pragmas(app: Flask) -> None:
    """WAL and a busy timeout so field users writing at once wait instead of failing."""
    from sqlalchemy import event
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(app.config['SQLITE_BUSY_TIMEOUT_MS'])}")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten values are zeroed in the file, not left in free space: erased
            # personal data must not stay readable on disk (app.households.privacy).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()


def _postgres_keep_prepared(app: Flask) -> None:
    """End read-only transactions with COMMIT on PostgreSQL, so psycopg keeps its prepared statements.

    psycopg prepares a statement the fifth time a connection runs it; PostgreSQL then skips parsing
    and planning it, which is most of a short query's cost. But psycopg forgets every prepared
    statement at each ROLLBACK, and a request's session ends with one: no statement ever got to five.
    A transaction that only ran SELECTs ends the same either way, so it commits instead. One that
    ran anything else through SQLAlchemy, or failed, or was marked by `mark_written` (the bulk loader
    writes through the driver), is rolled back as before.
    """
    from sqlalchemy import event
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    import psycopg
    from psycopg.pq import TransactionStatus
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.info["wrote"] = False

        @event.listens_for(engine, "before_cursor_execute")
        def _on_execute(conn, _cursor, statement, _parameters, _context, executemany):
            # Runs before every statement: once the transaction has written, nothing left to find out.
            info = conn.info
            if not info.get("wrote") and not _plain_select(statement, executemany):
                info["wrote"] = True

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn):
            # SQLAlchemy tells of a rollback even on a connection it has just found broken.
            if conn.closed or conn.invalidated or conn.info.get("wrote", True):
                return
            driver = conn.connection.driver_connection
            if driver.closed or driver.info.transaction_status != TransactionStatus.INTRANS:
                return
            try:
                driver.commit()  # psycopg's own rollback then has nothing left to do
            except psycopg.Error:
                pass  # the rollback that follows deals with the connection as it would have


def _postgres_checkout_check(app: Flask) -> None:
    """Replace a pooled PostgreSQL connection the server has closed before a request uses it.

    A restarting or terminating server tells its connections so (an error message, then end of file),
    so the socket of a connection it closed reads as ready while the connection sits idle in the
    pool: one poll, no round trip, unlike pool_pre_ping's `SELECT 1` on every checkout. The pool then
    opens a new connection. A server that vanished without a word (a cut cable) is found by the first
    statement instead: that request answers 503 and the pool drops its connections
    (app.main.errors), as tests/test_faults.py holds.
    """
    from sqlalchemy import event, exc
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        engine = db.engine
        if engine.pool._pre_ping:
            return  # configured to ping anyway: nothing to add

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_conn, _record, _proxy):
            if dbapi_conn.closed or _ready_to_read(dbapi_conn.fileno()):
                raise exc.DisconnectionError("the server closed this pooled connection")


def _plain_select(statement: str, executemany: bool) -> bool:
    """A statement that only reads (SQLAlchemy writes INSERT, UPDATE, DELETE, WITH ... for anything else)."""
    return not executemany and statement[:32].lstrip()[:6].upper() == "SELECT"


# Statements that must run inside the transaction even when they only read: they lock until it ends.
_LOCKING = ("pg_advisory_xact_lock", " FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _postgres_reads_outside_transactions(app: Flask) -> None:
    """A page asked for with GET reads without a transaction on PostgreSQL, until it writes or locks.

    psycopg sends BEGIN before a transaction's first statement and the session ends it with COMMIT (or
    ROLLBACK): two round trips of a page's 3–7, each a wait on the network when the database is on
    another host, and two commands for the server (bench/README.md, round 14: on one machine the CPU
    this saves is inside the machine's noise). Under READ COMMITTED, PostgreSQL's default, every
    statement already sees its own snapshot, so reads outside a transaction see what they would inside
    one. What differs is what a transaction holds: its writes, undone together, and its locks. So a
    GET's connection starts in autocommit, and the first statement that writes or locks (anything but a
    plain SELECT), or streams its rows through a server-side cursor (which PostgreSQL declares only in a
    transaction), turns autocommit off before it runs: psycopg opens the transaction with it, and the
    request ends it as before. Other methods, and work outside a request (the CLI, tests' own
    statements), keep the transaction from the first statement. tests/test_db_transactions.py holds both.
    """
    from flask import has_request_context, request
    from sqlalchemy import event
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    import psycopg
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "checkout")
        def _per_request(dbapi_conn, record, _proxy):
            reads_outside = has_request_context() and request.method in SAFE_METHODS
            record.info["reads_outside"] = reads_outside
            if not dbapi_conn.closed:
                dbapi_conn.autocommit = reads_outside

        @event.listens_for(engine, "before_cursor_execute")
        def _transaction_from_first_write(conn, cursor, statement, _parameters, _context, executemany):
            info = conn.info
            if not info.get("reads_outside"):
                return  # in a transaction from the start, or already since an earlier write
            # A result streamed through a server-side cursor (yield_per) needs a transaction too: PostgreSQL
            # declares cursors only inside one.
            if (not _plain_select(statement, executemany) or any(lock in statement for lock in _LOCKING)
                    or isinstance(cursor, psycopg.ServerCursor)):
                info["reads_outside"] = False
                if conn.get_execution_options().get("isolation_level") is None:  # not asked for by the code
                    conn.connection.driver_connection.autocommit = False  # psycopg sends BEGIN before it


def _ready_to_read(fd: int) -> bool:
    """Whether an idle connection's socket has something to read: between requests the server sends
    nothing unless it is closing the connection."""
    import select
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def mark_written(connection) -> None:
    """Tell the read-only check above that this transaction wrote through the driver directly."""
    connection.info["wrote"] = True


def sqlite_write_lock_now(connection) -> None:
    """SQLite: take the database's write lock now (BEGIN IMMEDIATE), before a check that the insert after it
    relies on, rather than at the insert; a transaction already open goes on as it is. Nothing on PostgreSQL."""
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
