"""The coverage table's figure cells, formatted in one Python pass instead of a Jinja macro per row.

Fast path: faster than the plain macro (a district page's ~25 rows × 10 services were ~750 filter
calls and ~500 gettext calls through Jinja's call machinery, most of the page's render time).
The adult section's cells likewise (a district page's ~25 rows × 6 figures and × the services with
learners who came away with them working, ~10 ms of its render through the template's loops).
tests/test_coverage_cells.py holds both equal to those macros; bench/README.md ("Fast paths") has the figures.

A row's cells are a pure function of the locale, the services shown and the figures the row holds: each
worker keeps the markup of the rows it wrote (bounded), so a page opened again writes only the rows whose
figures changed (a table row cost ~40 µs of formatting, ~half of its cost; bench/README.md, round 13)."""
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.numbers import number_format

# A row's markup by everything it shows: the writer's locale and services, the row's households, reached,
# and per service its adopted, share and target (the gap is share − target); a table row and a card also
# by the unit's name and address, a card by the service chosen.
# The adult section's two rows of a unit likewise, as a pair, by its name and everything its figures show.
_KEPT: dict[tuple, Markup | tuple[str, str]] = {}
_KEPT_MAX = 4096  # a page of 20 rows keeps ~60 (cells, row, card), ~2.4 KB each: ~10 MB; emptied whole when full


def _kept(key: tuple, write, *args):
    """write(*args), or what it wrote last under `key`."""
    markup = _KEPT.get(key)
    if markup is None:
        if len(_KEPT) >= _KEPT_MAX:
            _KEPT.clear()
        markup = _KEPT[key] = write(*args)
    return markup


class CellWriter:
    """Writes a row's <td> cells as the table's markup; strings translated and escaped once.

    The strings go through `_` (flask_babel's gettext) so that `make extract-messages` finds them."""

    def __init__(self, services):
        self.locale = locale = str(get_locale() or "vi")
        self.codes = [s.code for s in services]
        self.kept_as = (locale, tuple(self.codes))
        self.number = number_format(locale, "decimal").number
        self.points = number_format(locale, "decimal").one_decimal
        self.share = number_format(locale, "percent", 1).share
        self.ratio = number_format(locale, "percent", 1).ratio
        below, met = escape(_("Below target:")), escape(_("target met"))  # outside f-strings: extractable
        self.below = f'<span aria-hidden="true">▼ </span><span class="visually-hidden">{below} </span>'
        self.adopted = str(escape(_("%(n)s hh")))
        self.short = str(escape(_("%(gap)s pts short")))
        self.met = f'<span class="sub gap">{met}</span>'
        self.met_text, self.reach = str(met), str(escape(_("Reach")))

    def percent(self, value) -> str:
        return "–" if value is None else self.share(value)

    def _figures(self, row) -> tuple:
        """What the row's markup shows of its figures, as the key it is kept under (see the module's note).
        A row made from a tally gives what its figures are made of (CoverageRow.tallied_key), so a row
        kept already is written without making them; its key is a tuple where the other form has a number."""
        tallied = row.tallied_key()
        if tallied is not None:
            return self.kept_as, tallied
        services = row.services
        return (self.kept_as, row.households, row.reached,
                *[(f.adopted, f.share, f.target_share) for f in (services[code] for code in self.codes)])

    def cells(self, row) -> Markup:
        """The row's cells, as this worker last wrote them for the same figures."""
        return _kept(("cells", self._figures(row)), self._cells, row)

    def body(self, rows, urls, code: str | None) -> tuple[list[Markup], list[Markup]]:
        """The table's body rows and, where a service is chosen (`code`), the phone's cards: each unit's
        name (a link to its page where its url is) with its figures; each row's key made once for both."""
        table_rows, cards = [], []
        for row, url in zip(rows, urls, strict=True):
            figures = self._figures(row)
            table_rows.append(_kept(("row", figures, row.name, url), self._table_row, row, url))
            if code:
                cards.append(_kept(("card", figures, row.name, url, code), self._card_item, row, url, code))
        return table_rows, cards

    def table_row(self, row, url: str | None) -> Markup:
        """One body row of the table (as `body` writes it)."""
        return self.body([row], [url], None)[0][0]

    def card_item(self, row, url: str | None, code: str) -> Markup:
        """One phone card for the chosen service (as `body` writes it)."""
        return self.body([row], [url], code)[1][0]

    def _unit_name(self, row, url: str | None, plain: str) -> str:
        name = escape(row.name)
        if url:
            url = escape(url)
            return (f'<a href="{url}" hx-get="{url}" hx-target="#coverage" hx-swap="innerHTML show:window:top" '
                    f'hx-push-url="true">{name}</a>')
        return plain.format(name)

    def _table_row(self, row, url: str | None) -> Markup:
        lagging = ' class="lagging"' if row.below_any_target else ""
        return Markup(f'<tr{lagging}><th scope="row">{self._unit_name(row, url, "{}")}</th>{self._cells(row)}</tr>')

    def _card_item(self, row, url: str | None, code: str) -> Markup:
        below, share, meta = self.card(row, code)
        return Markup(f'<li class="{" below" if below else ""}"><div class="unit-card-head">'
                      f'{self._unit_name(row, url, "<strong>{}</strong>")}{share}</div>{meta}</li>')

    def _cells(self, row) -> Markup:
        # Formatted numbers hold only digits, separators and the locale's % sign: nothing to escape.
        # A share is its row's adopters over its households (app/coverage/queries.py), written from
        # the two whole numbers (NumberFormat.ratio: the same digits as from the float).
        number, ratio, households = self.number, self.ratio, row.households
        reach = "–" if not households else ratio(row.reached, households)
        out = [f'<td class="num">{number(households)}</td><td class="num">{number(row.reached)}</td>'
               f'<td class="num">{reach}</td>']
        services = row.services
        for code in self.codes:
            f = services[code]
            share = "–" if f.share is None else ratio(f.adopted, households)
            adopted = self.adopted % {"n": number(f.adopted)}
            gap = f.gap
            if gap is None:
                out.append(f'<td class="num cov"><span class="share">{share}</span>'
                           f'<span class="sub">{adopted}</span></td>')
                continue
            if gap < 0:
                # As the template did: points short, rounded to one decimal.
                points = self.short % {"gap": self.points(round(-gap * 100, 1))}
                out.append(f'<td class="num cov below"><span class="share">{self.below}{share}</span>'
                           f'<span class="sub">{adopted}</span><span class="sub gap">{points}</span></td>')
            else:
                out.append(f'<td class="num cov"><span class="share">{share}</span>'
                           f'<span class="sub">{adopted}</span>{self.met}</td>')
        return Markup("".join(out))

    def card(self, row, code: str) -> tuple[bool, Markup, Markup]:
        """A phone's card for one unit and the chosen service: (below target, the share, the line under it)."""
        f, households, number = row.services[code], row.households, self.number
        gap = f.gap
        below = gap is not None and gap < 0
        share = "–" if f.share is None else self.ratio(f.adopted, households)
        reach = "–" if not households else self.ratio(row.reached, households)
        meta = [f'<p class="meta">{self.adopted % {"n": number(f.adopted)}} / {number(households)}']
        if gap is not None:
            meta.append(" · " + (self.short % {"gap": self.points(round(-gap * 100, 1))} if below else self.met_text))
        meta.append(f" · {self.reach} {reach}</p>")
        return below, Markup(f'<span class="share">{self.below if below else ""}{share}</span>'), Markup("".join(meta))

    def shares(self, row) -> Markup:
        """A trend table's cells: households, reach and each service's share, nothing more."""
        out = [f'<td class="num">{self.number(row.households)}</td>',
               f'<td class="num">{self.percent(row.reach_share)}</td>']
        out += [f'<td class="num">{self.percent(row.services[code].share)}</td>' for code in self.codes]
        return Markup("".join(out))

    # --- The adult section (coverage/_adults.html): a stacked table, each cell labelled for phones ---

    def _adult_labels(self) -> list[str]:
        if not hasattr(self, "_labels"):
            self._labels = [str(escape(label)) for label in (
                _("Adults"), _("Attendances (month)"), _("Named learners"), _("Share of adults"),
                _("Online dossiers (month)"), _("Share of dossiers"))]
        return self._labels

    def adult_cells(self, f, named_target: float | None, online_target: float | None) -> Markup:
        """One unit's adult figures (app.coverage.adults.AdultFigures); a share under the province's
        target marked `below`."""
        adults, attendances, named, named_share, online, online_share = self._adult_labels()

        def share(value, target, label):
            below = " below" if target is not None and value is not None and value < target else ""
            return f'<td class="num{below}" data-label="{label}">{self.percent(value)}</td>'

        return Markup(f'<td class="num" data-label="{adults}">{self.number(f.adults)}</td>'
                      f'<td class="num" data-label="{attendances}">{self.number(f.attendances)}</td>'
                      f'<td class="num" data-label="{named}">{self.number(f.named)}</td>'
                      + share(f.named_share, named_target, named_share)
                      + f'<td class="num" data-label="{online}">{self.number(f.online)}</td>'
                      + share(f.online_share, online_target, online_share))

    def working_cells(self, f, services) -> Markup:
        """Per service, the learners who came away with it working."""
        working, number = f.working, self.number
        labels = self._service_labels(services)
        return Markup("".join(f'<td class="num" data-label="{label}">{number(working.get(code, 0))}</td>'
                              for code, label in labels))

    def adult_body(self, rows, total, total_name: str, named_target: float | None, online_target: float | None,
                   services) -> tuple[Markup, Markup]:
        """The adult section's two tables' bodies (coverage/_adults.html): per unit (app.coverage.adults.AdultRow)
        then the total (named `total_name`), a row of its figures and a row of the services working, each
        as the template's loop laid it out. A unit's two rows are kept per worker by everything they show."""
        labels = tuple(self._service_labels(services))
        shown = (self.kept_as, named_target, online_target, labels)
        figures, working = [], []
        last = len(rows)
        for i, row in enumerate([*rows, total]):
            f, is_total = row.figures, i == last
            name = total_name if is_total else row.unit.name
            key = ("adult", shown, name, is_total, f.adults, f.attendances, f.named, f.online, f.online_counted,
                   f.commune_dossiers, tuple([f.working.get(code, 0) for code, _label in labels]))
            pair = _kept(key, self._adult_pair, f, name, is_total, named_target, online_target, services)
            figures.append(pair[0])
            working.append(pair[1])
        return Markup("".join(figures)), Markup("".join(working))

    def _adult_pair(self, f, name: str, is_total: bool, named_target, online_target, services) -> tuple[str, str]:
        total = ' class="total"' if is_total else ""
        head = f'\n      <tr{total}><th scope="row">{escape(name)}</th>'
        return (f"{head}{self.adult_cells(f, named_target, online_target)}</tr>\n    ",
                f"{head}{self.working_cells(f, services)}</tr>\n    ")

    def _service_labels(self, services) -> list[tuple[str, str]]:
        """(code, escaped name) of each service, made once per page (a name is translated on each read)."""
        key = tuple(s.code for s in services)
        if getattr(self, "_labels_key", None) != key:
            self._labels_key, self._labels_of = key, [(s.code, str(escape(s.name))) for s in services]
        return self._labels_of
