"""Read the CSV and XLSX lists that communes keep, and the values typed into them.

Shared by every import (units, hamlets, members): one reader, one set of cell parsers, the same
messages. Line numbers are those a person sees in Excel or a text editor.
"""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from app.text import clean, fold

MAX_ROWS = 20000


class SpreadsheetError(ValueError):
    """The upload is not a spreadsheet we can read; the message is for the user."""


@dataclass
class SheetRow:
    line: int
    values: dict[str, object]
    errors: list[str] = field(default_factory=list)


def header_key(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(value or ""))).strip("_")


def read_rows(filename: str, data: bytes, aliases: dict[str, str]) -> list[SheetRow]:
    """Rows as {canonical column: raw value}; `aliases` maps folded header names to columns."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        table = _xlsx_table(data)
    elif name.endswith((".csv", ".txt")):
        table = _csv_table(data)
    else:
        raise SpreadsheetError(_l("Upload an Excel file (.xlsx) or a CSV file (.csv)."))
    header_line = None
    columns: list[str | None] = []
    rows: list[SheetRow] = []
    for line, cells in table:
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        if header_line is None:
            columns = [aliases.get(header_key(c)) for c in cells]
            if not any(columns):
                raise SpreadsheetError(_l("The first row must name the columns (for example: %(cols)s).",
                                          cols=", ".join(sorted(set(aliases.values())))))
            header_line = line
            continue
        values = {col: cells[i] if i < len(cells) else None for i, col in enumerate(columns) if col}
        rows.append(SheetRow(line=line, values=values))
        if len(rows) > MAX_ROWS:
            raise SpreadsheetError(_l("The file has more than %(n)s rows. Split it.", n=MAX_ROWS))
    if header_line is None:
        raise SpreadsheetError(_l("The file is empty."))
    return rows


def _xlsx_table(data: bytes):
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise SpreadsheetError(_l("This file is not a readable Excel workbook.")) from exc
    except Exception as exc:  # openpyxl raises its own InvalidFileException and friends
        raise SpreadsheetError(_l("This file is not a readable Excel workbook.")) from exc
    ws = wb.worksheets[0]
    return [(i, list(row)) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)]


def _csv_table(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(_l("The CSV file must be saved as UTF-8.")) from exc
    if "\x00" in text:
        raise SpreadsheetError(_l("This file is not a text CSV file."))
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise SpreadsheetError(_l("The CSV file could not be read: %(err)s", err=str(exc))) from exc


def text_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def int_cell(value: object) -> int | None:
    """'1.851', '1,851', '1 851', 1851 and 1851.0 are all 1851; None when blank; ValueError when not a count."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    text = clean(str(value)).replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)
    if not re.fullmatch(r"\d{1,9}", text):
        raise ValueError(value)
    return int(text)


def date_cell(value: object) -> date | None:
    """Excel dates, ISO 2024-05-23 and Vietnamese 23/05/2024; None when blank; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean(str(value))
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)
