"""A long table shown a page of rows at a time: which rows, and where the page links go.

A province on the two-level map lists every commune under it (Cần Thơ 103, Hồ Chí Minh City 168):
the whole table is still sorted and totalled, but only one page of it is written out, so the page
costs what a page of rows costs however large the province (bench/README.md, "Rows by the page")."""
from dataclasses import dataclass

from flask_babel import gettext
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.numbers import number_format

ROWS_PER_PAGE = 20


@dataclass(frozen=True)
class RowPage:
    number: int  # 1-based
    count: int  # rows in the whole table
    size: int = ROWS_PER_PAGE

    @classmethod
    def asked(cls, count: int, raw: str | None, size: int = ROWS_PER_PAGE) -> "RowPage":
        """The page asked for in the query string; a slip of the finger (not a number, 0, past the
        end) shows the nearest page that exists rather than an error or an empty table."""
        try:
            number = int((raw or "1").strip())
        except ValueError:
            number = 1
        last = cls(1, count, size).pages
        return cls(min(max(number, 1), last), count, size)

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def stop(self) -> int:
        return min(self.start + self.size, self.count)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    def of(self, rows: list) -> list:
        return rows[self.start:self.stop]


@pass_context
def row_pager(context, rows: RowPage, href, hx, hx_attrs: Markup, label: str) -> Markup:
    """The links between the pages of a table (previous, "21–40 of 95", next), written in Python.

    Fast path: faster than a Jinja macro imported from _macros.html (the plain way, kept in
    tests/test_coverage_paging.py), which cost ~140 µs a table (678 Python calls): the import looked the
    macros' module up, and its `_` and `|number` could not see the page's language, so each string and
    number went through flask-babel's context. This takes the numbers' language from the page's
    context, as the menu does (app/templating.py) and translates its four strings once each. Nothing when the table fits
    on one page. `href(n)` is the link to page n, `hx(n)` what htmx asks for (the same address when `hx`
    is `href`), `hx_attrs` where it swaps. tests/test_coverage_paging.py holds it to the macro byte for
    byte in both languages."""
    if rows.pages <= 1:
        return Markup("")
    number = number_format(context["_locale_id"], "decimal").number

    def link(n: int, rel: str, text: str) -> str:
        to = href(n)
        via = to if hx is href else hx(n)
        return f'<a href="{escape(to)}" hx-get="{escape(via)}" {escape(hx_attrs)} rel="{rel}">{text}</a>'

    edge = '<span class="pager-edge"></span>'
    # As Jinja's `_` with autoescape: the catalogue's text as markup, the values put in it escaped.
    back, forward = gettext("Previous"), gettext("Next")  # outside f-strings: extractable
    previous = link(rows.previous, "prev", f"‹ {back}") if rows.previous else edge
    following = link(rows.next, "next", f"{forward} ›") if rows.next else edge
    if rows.stop > rows.start + 1:
        count = Markup(gettext("%(first)s–%(last)s of %(count)s")) % dict(
            first=number(rows.start + 1), last=number(rows.stop), count=number(rows.count))
    else:
        count = Markup(gettext("%(first)s of %(count)s")) % dict(first=number(rows.stop), count=number(rows.count))
    return Markup(f'\n<nav class="pager rows-pager" aria-label="{escape(label)}">\n  {previous}\n'
                  f'  <span class="pager-count">{count}</span>\n  {following}\n</nav>\n')
