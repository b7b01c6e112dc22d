"""How transactions end on PostgreSQL: read-only ones commit (so psycopg keeps its prepared
statements), and anything that wrote is still rolled back when asked."""
import time

import pytest
import sqlalchemy as sa

from app.database import mark_written
from app.units.models import AdminUnit


@pytest.fixture
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    return db


def _prepared(conn) -> int:
    return conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def _units(conn) -> list[str]:
    return list(conn.execute(sa.select(AdminUnit.__table__.c.name)).scalars())


def test_read_only_transactions_keep_prepared_statements(pg):
    query = sa.select(AdminUnit.__table__.c.id).where(AdminUnit.__table__.c.id == sa.bindparam("id"))
    with pg.engine.connect() as conn:
        for i in range(6):  # psycopg prepares a statement the fifth time it runs
            conn.execute(query, {"id": i}).all()
            conn.rollback()
        assert _prepared(conn) >= 1


def test_orm_write_then_rollback_is_discarded(pg):
    pg.session.add(AdminUnit(name="Ấp Thử", name_folded="", level="hamlet", path=""))
    pg.session.flush()
    pg.session.rollback()
    with pg.engine.connect() as conn:
        assert "Ấp Thử" not in _units(conn)


def test_core_write_then_rollback_is_discarded(pg):
    with pg.engine.connect() as conn:
        conn.execute(AdminUnit.__table__.insert(),
                     {"name": "Xã Thử", "name_folded": "", "level": "commune", "path": ""})
        conn.rollback()
        assert "Xã Thử" not in _units(conn)


def test_driver_write_marked_then_rollback_is_discarded(pg):
    with pg.engine.connect() as conn:
        conn.execute(sa.select(1)).all()
        mark_written(conn)
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute("INSERT INTO admin_units (name, name_folded, level, path, depth) "
                        "VALUES ('Ấp COPY', '', 'hamlet', '', 0)")
        conn.rollback()
        assert "Ấp COPY" not in _units(conn)


def test_failed_transaction_rolls_back(pg):
    with pg.engine.connect() as conn:
        conn.execute(sa.select(1)).all()
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text("SELECT 1 / 0")).all()
        conn.rollback()
        assert conn.execute(sa.select(1)).scalar() == 1


def test_connection_lost_mid_transaction_rolls_back_cleanly(pg):
    with pg.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with pg.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa.exc.OperationalError):
            conn.execute(sa.select(1)).all()
        conn.rollback()
    with pg.engine.connect() as conn:  # the pool hands out a working connection again
        assert conn.execute(sa.select(1)).scalar() == 1


def test_pooled_connections_the_server_closed_are_replaced_before_a_request_uses_them(pg):
    # What a server restart does to every idle connection in the pool, done to this pool's alone.
    held = [pg.engine.connect() for _ in range(3)]
    pids = {c.execute(sa.text("SELECT pg_backend_pid()")).scalar() for c in held}
    for c in held:
        c.close()  # back into the pool, idle
    killer = sa.create_engine(pg.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                     {"pids": list(pids)})
        conn.commit()
    killer.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the sockets
    again = [pg.engine.connect() for _ in range(3)]
    try:
        # No error: each closed connection was swapped for a new one at checkout, without a ping.
        assert not pids & {c.execute(sa.text("SELECT pg_backend_pid()")).scalar() for c in again}
    finally:
        for c in again:
            c.close()


# --- GET pages read without a transaction until they write or lock (app/database.py) ---------------

def _status(pg):
    from psycopg.pq import TransactionStatus
    return TransactionStatus(pg.session.connection().connection.driver_connection.info.transaction_status).name


def _others_see(pg, name: str) -> bool:
    with pg.engine.connect() as conn:
        return name in _units(conn)


def _new_unit(name: str) -> AdminUnit:
    return AdminUnit(name=name, name_folded="", level="hamlet", path="")


def test_a_get_reads_without_a_transaction_and_a_post_inside_one(app, pg):
    query = sa.select(AdminUnit.__table__.c.id)
    for method, expected in (("GET", "IDLE"), ("HEAD", "IDLE"), ("POST", "INTRANS"), ("DELETE", "INTRANS")):
        pg.session.close()
        with app.test_request_context("/", method=method):
            pg.session.execute(query).all()
            assert _status(pg) == expected, method  # IDLE: no BEGIN was sent, nothing to end
            pg.session.close()
    pg.session.execute(query).all()  # outside a request (the CLI, a test's own statements): as ever
    assert _status(pg) == "INTRANS"


def test_a_get_that_writes_does_so_in_one_transaction_undone_whole(app, pg):
    pg.session.close()
    with app.test_request_context("/", method="GET"):
        pg.session.execute(sa.select(AdminUnit.__table__.c.id)).all()
        pg.session.add(_new_unit("Ấp Một"))
        pg.session.flush()
        assert _status(pg) == "INTRANS"  # the write opened the transaction
        pg.session.add(_new_unit("Ấp Hai"))
        pg.session.flush()
        assert not _others_see(pg, "Ấp Một")  # not committed statement by statement
        pg.session.rollback()
        assert not _others_see(pg, "Ấp Một") and not _others_see(pg, "Ấp Hai")
        pg.session.add(_new_unit("Ấp Ba"))
        pg.session.commit()
        assert _others_see(pg, "Ấp Ba")


def test_a_lock_taken_in_a_get_is_held_until_the_request_ends(app, pg):
    pg.session.close()
    with app.test_request_context("/", method="GET"):
        pg.session.execute(sa.select(sa.func.pg_advisory_xact_lock(424242, 7)))
        assert _status(pg) == "INTRANS"
        with pg.engine.connect() as other:
            assert other.execute(sa.select(sa.func.pg_try_advisory_xact_lock(424242, 7))).scalar() is False
            other.rollback()
        pg.session.commit()
        with pg.engine.connect() as other:
            assert other.execute(sa.select(sa.func.pg_try_advisory_xact_lock(424242, 7))).scalar() is True
            other.rollback()


def test_a_get_streaming_a_result_reads_it_inside_a_transaction(app, pg):
    # yield_per reads through a server-side cursor, which PostgreSQL declares only inside a transaction.
    pg.session.add_all([_new_unit(f"Ấp {i}") for i in range(5)])
    pg.session.commit()
    pg.session.close()
    with app.test_request_context("/", method="GET"):
        names = [u.name for u in pg.session.scalars(sa.select(AdminUnit).execution_options(yield_per=2))]
        assert len([n for n in names if n.startswith("Ấp ")]) == 5
        pg.session.close()


def test_a_signed_in_page_runs_its_statements_without_begin(app, pg, tree, login_as, client):
    from sqlalchemy import event
    login_as("province", tree.province)
    page = f"/coverage/{tree.province.id}"
    seen = []

    def after(conn, _cursor, statement, *_args):
        seen.append(conn.connection.driver_connection.info.transaction_status)

    event.listen(pg.engine, "after_cursor_execute", after)
    try:
        pg.session.commit()  # the connection goes back: the page checks one out as a request does
        assert client.get(page).status_code == 200
    finally:
        event.remove(pg.engine, "after_cursor_execute", after)
    from psycopg.pq import TransactionStatus
    assert len(seen) >= 3 and set(seen) == {TransactionStatus.IDLE}
