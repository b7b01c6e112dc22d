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
from xml.parsers import expat

from flask_babel import lazy_gettext as _l

from app.forms import FIRST_YEAR, LAST_YEAR
from app.rules import whole_number
from app.text import clean, fold

MAX_ROWS = 20000
# What a spreadsheet program takes for the start of a formula in a cell we write (reports, templates).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Limits that keep one upload's cost small whatever the file claims; a real list of a commune's
# hamlets or members is far inside every one of them.
MAX_FILE_BYTES = 5 * 1024 * 1024     # as MAX_CONTENT_LENGTH, also for files given to the CLI
MAX_LINES = 2 * MAX_ROWS             # rows read, blank ones included
MAX_COLUMNS = 200
MAX_LINE_CHARS = 10_000              # one CSV line
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_UNZIPPED = 30 * 1024 * 1024  # all members together, as their headers declare
XLSX_MAX_RATIO = 100                 # unpacked ÷ packed for a member over 1 MB; XML packs 5-20×
XLSX_MAX_STRINGS = 100_000           # shared strings, all held in memory by the reader
XLSX_MAX_ELEMENTS = 2_000_000        # XML elements in one member
XLSX_MAX_LOOSE = 100_000             # elements outside rows and strings (the reader keeps those)
XLSX_MAX_IN_ROW = 8 * MAX_COLUMNS    # elements inside one row or one shared string


class SpreadsheetError(ValueError):
    """The upload is not a spreadsheet we can read; the message is for the user."""


@dataclass
class SheetRow:
    line: int
    values: dict[str, object]
    errors: list[str] = field(default_factory=list)


def header_key(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(value or ""))).strip("_")


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(_l("The file has more than %(n)s rows. Split it.", n=MAX_ROWS))


def read_rows(filename: str, data: bytes, aliases: dict[str, str]) -> list[SheetRow]:
    """Rows as {canonical column: raw value}; `aliases` maps folded header names to columns.

    The file is read row by row and reading stops at the first limit it passes, so its cost is
    bounded by the limits, not by what the file claims or hides.
    """
    name = (filename or "").lower()
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(_l("The file is larger than 5 MB. Split it and upload the parts."))
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
        if line > MAX_LINES:
            raise _too_many_rows()
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
            raise _too_many_rows()
    if header_line is None:
        raise SpreadsheetError(_l("The file is empty."))
    return rows


# --- XLSX ------------------------------------------------------------------------------------------

def _not_a_workbook() -> SpreadsheetError:
    return SpreadsheetError(_l("This file is not a readable Excel workbook."))


def _too_big_unpacked() -> SpreadsheetError:
    return SpreadsheetError(_l("The workbook is too large once unpacked. Keep only the sheet with the list "
                               "and save it again."))


def _xlsx_table(data: bytes):
    """(line, cells) of the first sheet, streamed, after the whole archive passed `_check_xlsx`."""
    from openpyxl import load_workbook
    try:
        _check_xlsx(zipfile.ZipFile(io.BytesIO(data)))
    except SpreadsheetError:
        raise
    except Exception as exc:  # a damaged archive raises anything from zipfile, zlib or expat
        raise _not_a_workbook() from exc
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
    except Exception as exc:  # openpyxl raises its own InvalidFileException and friends
        raise _not_a_workbook() from exc
    return _guarded(enumerate(rows, start=1), wb.close)


def _guarded(rows, close):
    """Rows as they are parsed; a file that turns out unreadable half-way gets the same message."""
    try:
        while True:
            try:
                line, cells = next(rows)
            except StopIteration:
                return
            except (SpreadsheetError, MemoryError):
                raise
            except Exception as exc:
                raise _not_a_workbook() from exc
            yield line, list(cells)
    finally:
        close()


def _check_xlsx(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose unpacked size, shape or XML would cost more than the limits allow.

    This runs before openpyxl opens anything: openpyxl itself reads every sheet's start to find
    its size, pads each row to the declared width and keeps shared strings in memory. Declared
    sizes can be trusted here: zipfile never unpacks a member past its declared size (and the CRC
    check refuses the truncated member).
    """
    infos = archive.infolist()
    if len(infos) > XLSX_MAX_MEMBERS:
        raise _not_a_workbook()
    if sum(i.file_size for i in infos) > XLSX_MAX_UNZIPPED:
        raise _too_big_unpacked()
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
            raise _too_big_unpacked()
    for info in infos:
        if not info.is_dir():
            _check_xml_member(archive, info)


class _Refused(Exception):
    def __init__(self, error: SpreadsheetError):
        self.error = error


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def _cell_ref(ref: str) -> tuple[int, int] | None:
    """'B12' -> (column 2, row 12); None for anything else."""
    m = _CELL_REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col, int(m.group(2))


def _check_xml_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one member through expat, counting what openpyxl would later build from it."""
    with archive.open(info) as member:
        head = member.read(4)
        # Pictures and other binary parts are never parsed as XML; anything that could be is checked.
        if not (head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<" or head[:2] in (b"\xff\xfe", b"\xfe\xff")):
            return
        state = {"elements": 0, "loose": 0, "rows": 0, "strings": 0, "inside": 0, "depth": 0,
                 "container_depth": 0}

        def start(tag, attrs):
            local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
            state["elements"] += 1
            state["depth"] += 1
            if state["elements"] > XLSX_MAX_ELEMENTS:
                raise _Refused(_too_big_unpacked())
            if state["container_depth"]:
                state["inside"] += 1
                if state["inside"] > XLSX_MAX_IN_ROW:
                    raise _Refused(SpreadsheetError(_l("A row of the sheet has more than %(n)s columns.",
                                                       n=MAX_COLUMNS)))
                if local == "c":
                    ref = _cell_ref(attrs.get("r", "A1"))
                    if ref is not None and ref[0] > MAX_COLUMNS:
                        raise _Refused(SpreadsheetError(_l("A row of the sheet has more than %(n)s columns.",
                                                           n=MAX_COLUMNS)))
                return
            if local == "row":
                state["rows"] += 1
                number = attrs.get("r", "")
                if state["rows"] > MAX_LINES or (number.isdigit() and int(number) > MAX_LINES):
                    raise _Refused(_too_many_rows())
            elif local == "si":
                state["strings"] += 1
                if state["strings"] > XLSX_MAX_STRINGS:
                    raise _Refused(_too_big_unpacked())
            else:
                state["loose"] += 1
                if state["loose"] > XLSX_MAX_LOOSE:
                    raise _Refused(_too_big_unpacked())
                if local == "dimension":
                    _check_dimension(attrs.get("ref", ""))
                return
            state["container_depth"] = state["depth"]
            state["inside"] = 0

        def end(tag):
            if state["container_depth"] == state["depth"]:
                state["container_depth"] = 0
            state["depth"] -= 1

        def doctype(*args):
            raise _Refused(_not_a_workbook())  # an xlsx never declares one; entities are its only use

        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        try:
            parser.Parse(head, False)
            while chunk := member.read(64 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Refused as refused:
            raise refused.error from None
        except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise _not_a_workbook() from exc


def _check_dimension(ref: str) -> None:
    """The sheet's declared extent, e.g. 'A1:H240': openpyxl pads every row to it."""
    corners = [_cell_ref(part) for part in ref.split(":")] if ref else []
    if not corners or None in corners:
        return  # openpyxl ignores a dimension it cannot read
    col, row = corners[-1]
    if row > MAX_LINES:
        raise _Refused(_too_many_rows())
    if col > MAX_COLUMNS:
        raise _Refused(SpreadsheetError(_l("A row of the sheet has more than %(n)s columns.", n=MAX_COLUMNS)))


# --- CSV -------------------------------------------------------------------------------------------

CSV_DELIMITERS = (",", ";", "\t")


def _csv_table(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(_l("The CSV file must be saved as UTF-8 (in Excel: Save as, CSV UTF-8). "
                                  "Line %(line)d is not UTF-8 text.",
                                  line=data[:exc.start].count(b"\n") + 1)) from exc
    if "\x00" in text:
        raise SpreadsheetError(_l("This file is not a text CSV file."))
    return _csv_rows(text, _delimiter(text))


def _csv_reader(text: str, delimiter: str):
    # Standard quoting only: a cell in double quotes, a double quote inside it doubled. Apostrophes
    # are letters here ('Ấp Mới'), never quotes, whatever a sniffer would guess.
    return csv.reader(_bounded_lines(text), delimiter=delimiter, quotechar='"', doublequote=True,
                      skipinitialspace=False, strict=True)


def _lines(text: str):
    """The text's lines with their endings, one at a time (io.StringIO would copy the whole text
    at four bytes a character); a file from an old Mac ends its lines with CR alone."""
    end = "\n" if "\n" in text or "\r" not in text else "\r"
    start = 0
    while start < len(text):
        stop = text.find(end, start)
        stop = len(text) if stop < 0 else stop + 1
        yield text[start:stop]
        start = stop


def _bounded_lines(text: str):
    for number, line in enumerate(_lines(text), start=1):
        if number > MAX_LINES:
            raise _too_many_rows()
        if len(line) > MAX_LINE_CHARS:
            raise SpreadsheetError(_l("Line %(line)d of the CSV file is longer than %(n)s characters.",
                                      line=number, n=MAX_LINE_CHARS))
        yield line


def _delimiter(text: str) -> str:
    """Comma, semicolon (Excel in Vietnamese) or tab: the one that splits the first rows evenly."""
    best, best_score = ",", (0, 0)
    for delimiter in CSV_DELIMITERS:
        reader = _csv_reader(text, delimiter)
        widths = []
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    widths.append(len(row))
                if len(widths) >= 20:
                    break
        except (csv.Error, SpreadsheetError):
            pass  # a delimiter that breaks the quoting is not the file's, unless none fits
        if not widths or widths[0] < 2:
            continue
        score = (sum(w == widths[0] for w in widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(text: str, delimiter: str):
    reader = _csv_reader(text, delimiter)
    line = 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SpreadsheetError(_l("Line %(line)d of the CSV file could not be read: a quoted cell must end with "
                                  "a quote (\") and a quote inside it must be doubled (\"\").",
                                  line=line)) from exc


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe, so it stays text.

    Control characters a worksheet cannot hold (older data may carry them in a unit's name) go.
    """
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


def help_sheet(book, title: str, lines: list[tuple[str, bool]], columns: list[tuple[str, str]]):
    """The sheet after a blank workbook's first that says how to fill it (the member list, the reorganization plan):
    its lines (text, in bold or not) across two columns, then each column's header, in bold, beside what it takes.
    Returns the sheet, for what else a workbook says under them."""
    from openpyxl.styles import Font
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True)
    for text, strong in lines:
        sheet.append([neutralise(text)])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=2)
        if strong:
            sheet.cell(row=sheet.max_row, column=1).font = bold
    for header, text in columns:
        sheet.append([header, neutralise(text)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
    return sheet


def text_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def int_cell(value: object) -> int | None:
    """'1.851', '1,851', '1 851', 1851 and 1851.0 are all 1851; None when blank; ValueError when not a count."""
    return whole_number(value)


def date_cell(value: object) -> date | None:
    """Excel dates, ISO 2024-05-23 and Vietnamese 23/05/2024; None when blank; ValueError otherwise,
    also for a year outside the forms' (app.forms: 0001-01-01 parses, then overflows date arithmetic)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    found = _date_of(value)
    if found is None or not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise ValueError(value)
    return found


def _date_of(value: object) -> date | None:
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
    return None
