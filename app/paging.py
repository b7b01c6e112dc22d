"""A long table shown a page of rows at a time: which rows, and where the page links go.

A province on the two-level map lists every commune under it (Cần Thơ 103, Hồ Chí Minh City 168):
the whole table is still sorted and totalled, but only one page of it is written out, so the page
costs what a page of rows costs however large the province (bench/README.md, "Rows by the page")."""
from dataclasses import dataclass

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
