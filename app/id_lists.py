"""A list of ids in a statement: one array value on PostgreSQL (`= ANY(:ids)`), an expanding IN elsewhere.

Fast path: faster than SQLAlchemy's expanding IN on PostgreSQL, whose text holds a placeholder per id,
so every length of list is another statement for psycopg to parse (it caches short texts only) and for
the server to plan; with one array parameter the text never changes and is prepared once (a province
page's 95 communes: their tallies' statement 2.6 → 2.0 ms; bench/README.md, "Fast paths"). SQLite has
no arrays: it keeps the expanding IN, in chunks under its limit of bound values.
tests/test_id_lists.py holds both forms to the same rows.
"""
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.extensions import db

CHUNK = 500  # ids per statement where they are bound one by one (SQLite)


def chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    """The ids a statement's worth at a time, for an IN whose values are bound one by one."""
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _expanding(column, name: str):
    return column.in_(sa.bindparam(name, expanding=True))


def _array(column, name: str):
    return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.Integer)))


class IdListStatement:
    """A statement built once per form: `build(among)` where `among(column, name)` is the condition
    "column is one of the ids bound as `name`"."""

    def __init__(self, build: Callable):
        self.forms = {"postgresql": build(_array), "default": build(_expanding)}

    def chunked(self, ids: list[int]) -> Iterator[tuple[sa.Executable, list[int]]]:
        """(statement, ids) to run for this database: the whole list at once on PostgreSQL."""
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            yield self.forms["postgresql"], list(ids)
            return
        for chunk in chunks(ids):
            yield self.forms["default"], chunk
