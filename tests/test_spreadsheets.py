"""Reading uploaded spreadsheets: hostile workbooks are refused before they cost memory or time,
and CSV files are read with standard quoting whatever their delimiter."""
import functools
import io
import time
import tracemalloc
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from app.spreadsheets import MAX_ROWS, SpreadsheetError, date_cell, read_rows
from app.units.importer import HAMLET_COLUMNS
from app.units.models import AdminUnit, HouseholdCount
from tests.fuzz_strategies import count

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Tên ấp</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>Số hộ</t></is></c></row>')
BUDGET = 50 * 1024 * 1024


@functools.cache
def _base_workbook() -> bytes:
    wb = Workbook()
    wb.active.append(["Tên ấp", "Số hộ"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook(sheet_xml: str | None = None, extra: dict[str, bytes] | None = None,
             level: int = 9) -> bytes:
    """A real openpyxl workbook with its first sheet's XML replaced and members added, as an attacker
    would hand-edit one."""
    src = zipfile.ZipFile(io.BytesIO(_base_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_xml is not None:
                data = sheet_xml.encode()
            dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def sheet(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}'
            f'<sheetData>{rows}</sheetData></worksheet>')


def hamlet_rows(first: int, last: int) -> str:
    return "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>Ấp {i}</t></is></c><c r="B{i}"><v>{i}</v></c></row>'
                   for i in range(first, last + 1))


@functools.cache
def hidden_rows_workbook() -> bytes:
    """The attack's file: a small workbook with 400,000 rows and no dimension to warn of them. Its XML
    is broken at the very end, so a reader that does not stop at the limit reports that instead."""
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>' for i in range(2, 400_002))
    return workbook(sheet(HEADER_ROW + rows + "<row><c><v>"))


def hostile_files() -> dict[str, tuple[str, bytes]]:
    far = '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'
    wide = '<row r="2">' + "<c><v>1</v></c>" * 5000 + "</row>"
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lololololololololol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}<row r="2"><c t="inlineStr"><is><t>&lol2;</t>'
              '</is></c><c><v>1</v></c></row></sheetData></worksheet>')
    strings = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'
               + "".join(f"<si><t>{i}</t></si>" for i in range(120_000)) + "</sst>")
    return {
        "dimension A1:XFD2000": ("a.xlsx", workbook(sheet(HEADER_ROW, "A1:XFD2000"))),
        "dimension A1:XFD1048576": ("a.xlsx", workbook(sheet(HEADER_ROW, "A1:XFD1048576"))),
        "400,000 hidden rows": ("a.xlsx", hidden_rows_workbook()),
        "a row numbered 1048576": ("a.xlsx", workbook(sheet(HEADER_ROW + far))),
        "a row of 5,000 cells": ("a.xlsx", workbook(sheet(HEADER_ROW + wide))),
        "120,000 shared strings": ("a.xlsx", workbook(extra={"xl/sharedStrings.xml": strings.encode()})),
        "a member of 20 MB of zeros": ("a.xlsx", workbook(extra={"xl/media/zeros.bin": b"\0" * 20_000_000})),
        "members of 40 MB unpacked": ("a.xlsx", workbook(extra={f"xl/media/{i}.png": bytes(range(256)) * 40_000
                                                                for i in range(4)})),
        "entities in a DOCTYPE": ("a.xlsx", workbook(laughs)),
        "400,000 CSV lines": ("a.csv", "Tên ấp,Số hộ\n".encode() + b"x,1\n" * 400_000),
        "4 MB of newlines": ("a.csv", "Tên ấp,Số hộ\n".encode() + b"\n" * (4 * 1024 * 1024)),
        "a CSV line of a million cells": ("a.csv", "Tên ấp,Số hộ\n".encode() + b"x," * 1_000_000),
    }


def upload(client, commune, name, data):
    return client.post(f"/units/{commune.id}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_hostile_uploads_are_refused_quickly_within_50_mb_and_write_nothing(client, db, tree, login_as):
    login_as("commune", tree.commune)
    files = hostile_files()
    before = count(db, AdminUnit, HouseholdCount)
    for label, (name, data) in files.items():
        tracemalloc.start()
        try:
            started = time.monotonic()
            resp = upload(client, tree.commune, name, data)
            seconds = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert resp.status_code == 400, label
        assert 'class="error"' in resp.get_data(as_text=True), label
        # The body itself (up to 5 MB) is part of the request; what it unpacks to must not be.
        assert peak < BUDGET, f"{label}: {peak / 2**20:.0f} MB"
        assert seconds < 20, f"{label}: {seconds:.1f} s"
    assert count(db, AdminUnit, HouseholdCount) == before


@pytest.mark.parametrize("dimension", ["A1:XFD2000", "A1:XFD1048576", "A1:B1048576"])
def test_a_declared_dimension_beyond_the_limits_is_refused_before_any_cell_is_read(app, dimension):
    # The only row below the header is broken: reaching it would give another message.
    data = workbook(sheet(HEADER_ROW + '<row r="2"><c r="A2" t="n"><v>x</v></c></row>', dimension))
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("a.xlsx", data, HAMLET_COLUMNS)
    assert "more than" in str(refused.value)


def test_the_workbook_hiding_400000_rows_is_refused_with_the_row_limit(app):
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("a.xlsx", hidden_rows_workbook(), HAMLET_COLUMNS)
    assert str(refused.value) == f"The file has more than {MAX_ROWS} rows. Split it."


def test_rows_are_counted_while_reading_and_reading_stops_past_the_limit(app):
    # An honest dimension inside the limits, so only the count kept while reading can stop it.
    last = MAX_ROWS + 2
    data = workbook(sheet(HEADER_ROW + hamlet_rows(2, last), f"A1:B{last}"), level=1)
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("a.xlsx", data, HAMLET_COLUMNS)
    assert str(refused.value) == f"The file has more than {MAX_ROWS} rows. Split it."
    within = workbook(sheet(HEADER_ROW + hamlet_rows(2, 51), "A1:B51"))
    with app.test_request_context():
        rows = read_rows("a.xlsx", within, HAMLET_COLUMNS)
    assert [(r.line, r.values) for r in rows[:2]] == [(2, {"name": "Ấp 2", "households": 2}),
                                                       (3, {"name": "Ấp 3", "households": 3})]
    assert len(rows) == 50


def test_a_highly_compressed_member_is_refused_before_it_is_unpacked(app):
    data = workbook(extra={"xl/worksheets/sheet2.xml": b"<a/>" + b" " * 5_000_000})
    assert len(data) < 100_000
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("a.xlsx", data, HAMLET_COLUMNS)
    assert "too large once unpacked" in str(refused.value)


def test_a_workbook_declaring_xml_entities_is_refused(app):
    _, data = hostile_files()["entities in a DOCTYPE"]
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("a.xlsx", data, HAMLET_COLUMNS)
    assert str(refused.value) == "This file is not a readable Excel workbook."


def plain_workbook(rows) -> bytes:
    """A workbook of these rows as openpyxl writes it (each text in its cell)."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_ordinary_workbook_with_a_dimension_is_read(app):
    data = plain_workbook([["Tên ấp", "Số hộ", "Ngày hiệu lực"], ["Ấp Mới", 120, "01/06/2024"],
                           ["Ấp 'Chợ'", "1.851", None]])
    with app.test_request_context():
        rows = read_rows("ds.xlsx", data, HAMLET_COLUMNS)
    assert [r.values for r in rows] == [{"name": "Ấp Mới", "households": 120, "effective_date": "01/06/2024"},
                                        {"name": "Ấp 'Chợ'", "households": "1.851", "effective_date": None}]


def test_a_workbook_as_excel_saves_it_with_its_text_in_the_shared_strings_is_read(app):
    # openpyxl writes each text into its cell; Excel and LibreOffice write it once in
    # xl/sharedStrings.xml and the cells point to it.
    names = ["Tên ấp", "Số hộ", "Ấp Mới", "Ấp Hai"]
    strings = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="4" uniqueCount="4">'
               + "".join(f"<si><t>{n}</t></si>" for n in names) + "</sst>")
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>120</v></c></row>'
            '<row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3"><v>45</v></c></row>')
    src = zipfile.ZipFile(io.BytesIO(_base_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet(rows).encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            dst.writestr(info.filename, data)
        dst.writestr("xl/sharedStrings.xml", strings.encode())
    with app.test_request_context():
        read = read_rows("ds-ap.xlsx", out.getvalue(), HAMLET_COLUMNS)
    assert [(r.line, r.values) for r in read] == [(2, {"name": "Ấp Mới", "households": 120}),
                                                  (3, {"name": "Ấp Hai", "households": 45})]


def test_blank_rows_are_skipped_and_the_line_numbers_stay_the_sheets(app):
    # A blank row above the header, one between the hamlets (cells of spaces count as blank) and the
    # formatted but empty rows Excel leaves at the end.
    data = plain_workbook([[None, None], ["Tên ấp", "Số hộ"], ["Ấp Mới", 120], ["  ", None], ["Ấp Hai", 45],
                           [None, ""], [None, None]])
    with app.test_request_context():
        rows = read_rows("ds.xlsx", data, HAMLET_COLUMNS)
    assert [(r.line, r.values) for r in rows] == [(3, {"name": "Ấp Mới", "households": 120}),
                                                  (5, {"name": "Ấp Hai", "households": 45})]


def test_an_excel_file_whose_name_lost_its_extension_is_read_as_excel(app):
    # A phone's chat app may save a received workbook as "ds-ap" (or name it .csv): its content decides.
    data = plain_workbook([["Tên ấp", "Số hộ"], ["Ấp Mới", 120]])
    with app.test_request_context():
        for name in ("ds-ap", "ds-ap.csv"):
            assert [r.values for r in read_rows(name, data, HAMLET_COLUMNS)] == [
                {"name": "Ấp Mới", "households": 120}], name


# --- CSV -------------------------------------------------------------------------------------------

def csv_values(app, text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    with app.test_request_context():
        return [(r.line, r.values) for r in read_rows("ds.csv", data, HAMLET_COLUMNS)]


def test_a_row_shorter_than_the_header_reads_its_missing_cells_as_empty(app):
    # A file whose editor dropped the empty cells at the end of a line.
    assert csv_values(app, "Tên ấp;Số hộ;Ngày hiệu lực\nẤp Mới\nẤp Hai;30\n") == [
        (2, {"name": "Ấp Mới", "households": None, "effective_date": None}),
        (3, {"name": "Ấp Hai", "households": "30", "effective_date": None})]


def test_apostrophes_in_csv_names_are_letters_not_quotes(app):
    assert csv_values(app, "Tên ấp,Số hộ\n'Ấp Mới',12\n'Ấp Hai',30\n") == [
        (2, {"name": "'Ấp Mới'", "households": "12"}), (3, {"name": "'Ấp Hai'", "households": "30"})]


def test_doubled_quotes_in_a_semicolon_csv_are_one_quote(app):
    assert csv_values(app, 'Tên ấp;Số hộ\n"Ấp ""Chợ"", khu B";120\n') == [
        (2, {"name": 'Ấp "Chợ", khu B', "households": "120"})]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_files_with_or_without_bom_read_alike(app, delimiter):
    text = delimiter.join(["Tên ấp", "Số hộ"]) + "\r\n" + delimiter.join(['"Ấp 1, 2; 3"', '"1.851"']) + "\r\n"
    expected = [(2, {"name": "Ấp 1, 2; 3", "households": "1.851"})]
    assert csv_values(app, text) == expected
    assert csv_values(app, text.encode("utf-8-sig")) == expected


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers_of_what_follows(app):
    assert csv_values(app, 'Tên ấp,Số hộ\n"Ấp\nMới",12\nẤp Hai,30\n') == [
        (2, {"name": "Ấp\nMới", "households": "12"}), (4, {"name": "Ấp Hai", "households": "30"})]


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252", "utf-16"])
def test_a_csv_not_saved_as_utf8_gets_a_message_saying_so(app, encoding):
    data = "Tên ấp,Số hộ\nẤp Mới,12\n".encode(encoding, errors="replace")
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", data, HAMLET_COLUMNS)
    assert "UTF-8" in str(refused.value)


def test_a_broken_quote_is_refused_naming_its_line(app):
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", 'Tên ấp,Số hộ\nẤp Một,1\n"Ấp "Hai",2\n'.encode(), HAMLET_COLUMNS)
    assert str(refused.value).startswith("Line 3 of the CSV file could not be read")
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", 'Tên ấp,Số hộ\nẤp Một,1\nẤp Hai,2\n"Ấp Ba,3\n'.encode(), HAMLET_COLUMNS)
    assert str(refused.value).startswith("Line 4 of the CSV file could not be read")


def test_a_broken_quote_on_the_first_line_names_line_1(app):
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", '"Tên ấp"x,Số hộ\nẤp Một,1\n'.encode(), HAMLET_COLUMNS)
    assert str(refused.value).startswith("Line 1 of the CSV file could not be read")


def test_a_csv_line_of_10000_characters_is_read_and_one_longer_refused_naming_it(app):
    name = "Ấp " + "a" * (10_000 - len("Ấp ,12\n"))
    assert csv_values(app, f"Tên ấp,Số hộ\n{name},12\n") == [(2, {"name": name, "households": "12"})]
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", f"Tên ấp,Số hộ\n{name}a,12\n".encode(), HAMLET_COLUMNS)
    assert str(refused.value) == "Line 2 of the CSV file is longer than 10000 characters."


@pytest.mark.parametrize("typed, read", [
    ("2024-05-23", date(2024, 5, 23)), ("23/05/2024", date(2024, 5, 23)), ("23-05-2024", date(2024, 5, 23)),
    ("23.05.2024", date(2024, 5, 23)), (" 1/1/1900 ", date(1900, 1, 1)), ("31/12/2999", date(2999, 12, 31)),
    (datetime(2024, 5, 23, 8, 30), date(2024, 5, 23)), (date(2024, 5, 23), date(2024, 5, 23)),
    (None, None), ("", None), ("   ", None),
])
def test_a_date_cell_reads_what_excel_and_people_write(typed, read):
    assert date_cell(typed) == read


@pytest.mark.parametrize("typed", ["31/02/2024", "2024-13-01", "23/05/24", "0001-01-01", "31/12/1899",
                                   "01/01/3000", "hôm qua", datetime(1899, 12, 31)])
def test_a_date_cell_that_is_no_date_or_out_of_the_years_is_refused(typed):
    with pytest.raises(ValueError):
        date_cell(typed)


def test_a_csv_from_an_old_mac_ends_its_lines_with_cr_alone_and_is_read(app):
    assert csv_values(app, "Tên ấp;Số hộ\rẤp Một;12\rẤp Hai;30") == [
        (2, {"name": "Ấp Một", "households": "12"}), (3, {"name": "Ấp Hai", "households": "30"})]


def test_a_csv_with_a_line_that_is_not_utf8_names_that_line(app):
    data = "Tên ấp,Số hộ\nẤp Một,12\n".encode() + b"\xc2p Hai,30\n" + b"Ap Ba,4\n"  # line 3 typed in another encoding
    with app.test_request_context(), pytest.raises(SpreadsheetError) as refused:
        read_rows("ds.csv", data, HAMLET_COLUMNS)
    assert "Line 3 is not UTF-8 text." in str(refused.value)


def _csv(rows: list[str], header: str = "Tên ấp,Số hộ,Ghi chú") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_the_limits_are_where_they_say(app):
    """Each limit lets through a file exactly at it and refuses one a step past it."""
    from app.spreadsheets import MAX_COLUMNS
    max_file_bytes, max_lines = 5 * 1024 * 1024, 40_000  # as the messages and the README say
    with app.test_request_context():
        # Rows: 20,000 below the header are read, 20,001 are refused.
        assert len(read_rows("a.csv", _csv([f"Ấp {i},{i}," for i in range(MAX_ROWS)]), HAMLET_COLUMNS)) == MAX_ROWS
        with pytest.raises(SpreadsheetError, match="20000"):
            read_rows("a.csv", _csv([f"Ấp {i},{i}," for i in range(MAX_ROWS + 1)]), HAMLET_COLUMNS)
        # Lines, blank ones included: 40,000 are read, 40,001 are refused.
        blank_to = ["Ấp 1,1,"] + [""] * (max_lines - 2)  # with the header: 40,000 lines
        assert len(read_rows("a.csv", _csv(blank_to), HAMLET_COLUMNS)) == 1
        with pytest.raises(SpreadsheetError, match="20000"):
            read_rows("a.csv", _csv(blank_to + [""]), HAMLET_COLUMNS)
        # Bytes: a file of exactly 5 MB is read; one byte more is refused before it is read.
        rows, size = [], len(_csv([]))
        while size + 400 < max_file_bytes:
            rows.append(f"Ấp {len(rows):05d},{len(rows)}," + "x" * 280)
            size += len(rows[-1].encode()) + 1
        data = _csv(rows)
        data = data[:-1] + b"x" * (max_file_bytes - len(data)) + b"\n"  # the last note fills it up
        assert len(data) == max_file_bytes and len(read_rows("a.csv", data, HAMLET_COLUMNS)) == len(rows)
        with pytest.raises(SpreadsheetError, match="5 MB"):
            read_rows("a.csv", data + b"\n", HAMLET_COLUMNS)
        # Columns: a sheet 200 columns wide (to GR) is read, 201 (to GS) is refused.
        assert MAX_COLUMNS == 200
        rows = read_rows("a.xlsx", workbook(sheet(HEADER_ROW + hamlet_rows(2, 3), "A1:GR3")), HAMLET_COLUMNS)
        assert [r.values for r in rows] == [{"name": "Ấp 2", "households": 2}, {"name": "Ấp 3", "households": 3}]
        with pytest.raises(SpreadsheetError, match=" 200 "):
            read_rows("a.xlsx", workbook(sheet(HEADER_ROW + hamlet_rows(2, 3), "A1:GS3")), HAMLET_COLUMNS)


def test_a_semicolon_file_whose_header_has_commas_is_read_by_its_rows_not_its_header(app):
    # The header alone splits into more cells at the commas; the rows below say it is a semicolon file.
    text = ("Tên ấp;Số hộ;Ghi chú (nếu có, ghi rõ, ví dụ: mới, cũ)\n"
            "Ấp Một;120;mới\nẤp Hai;85;\nẤp Ba, xóm Chợ;40;cũ\n")
    assert csv_values(app, text) == [(2, {"name": "Ấp Một", "households": "120"}),
                                     (3, {"name": "Ấp Hai", "households": "85"}),
                                     (4, {"name": "Ấp Ba, xóm Chợ", "households": "40"})]
