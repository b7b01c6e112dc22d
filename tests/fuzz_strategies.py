"""Hypothesis strategies for hostile input, shared by every fuzz test: text, numbers, dates, ids, files."""
import io
import unicodedata
from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.text import clean

# Names as Vietnamese keyboards and copy-paste produce them, decomposed or not.
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Đào")
TRICKY = [
    NFD_NAME, "Nguyễn Văn An", "\u200fNguyễn\u202e Văn", "\u202eAn", "An\x00", "\x00", "\u0301", "\u0323\u0301",
    "🇻🇳👩‍👩‍👧", "<script>x</script>", "' OR 1=1 --", "%_\\", "\r\n\t", "\ufeff", "\u2028", "ﬁ", "Ⅻ", "²",
]
# Strings a surrogate cannot enter (a Python str sent as UTF-8 cannot hold one), so lone combining
# marks, bidi controls and NUL are what breaks composition and databases instead.
_PARTS = st.sampled_from(["a", "Đ", "ấ", "ễ", "\u0301", "\u0303", "\u0323", "\u200f", "\u200e", "\u202e",
                          "\u2066", "\x00", "\x07", " ", "\u00a0", "\t", "\n", "<", ">", "&", "\"", "'",
                          "%", "_", "\\", "😀", "٣"])
nasty_text = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=_PARTS, max_size=40),
    st.sampled_from(TRICKY),
    st.just(""), st.just("   "), st.just("\u200f\u202e\x00"),
    st.just("x" * 10_000), st.just("ễ" * 300),
)
BAD_NUMBERS = ["1.851", "1,851", "1 851", "-5", "0", "1e9", "٣", "٣٤", "²", "NaN", "nan", "Infinity", "-0",
               "0x1F", "1_000", str(2**70), str(-2**70), "99999999999", "1.5", "1,5", "50%", "", " ", "\x00",
               "12\x00", "1e999999"]
number_text = st.one_of(st.sampled_from(BAD_NUMBERS), st.integers(-10**12, 10**12).map(str), nasty_text)
BAD_DATES = ["2024-02-30", "30/02/2024", "23/05/2024", "", " ", "9999-99-99", "9999-12-31", "0001-01-01",
             "0000-00-00", "2024-13-01", "2024-1-1", "٢٠٢٤-٠١-٠١", "2024-05-23T00:00", "\x002024-01-01",
             (date.today() + timedelta(days=400)).isoformat(), (date.today() + timedelta(days=1)).isoformat()]
date_text = st.one_of(st.sampled_from(BAD_DATES), st.dates().map(date.isoformat), nasty_text)
BAD_MONTHS = ["2024-10", "2024-13", "2024-00", "1899-12", "9999-12", "10/2024", "2024-1", "٢٠٢٤-١٠", "",
              "2024-10\n", "\x002024-10", f"{date.today().year + 1}-01"]
month_text = st.one_of(st.sampled_from(BAD_MONTHS), nasty_text)
# Record ids as they arrive in forms and links: real ones mixed with strings no database likes.
id_text = st.one_of(st.sampled_from(["0", "-1", "²", "٣", str(2**31), str(2**63), str(2**70), "1e3", "", "x"]),
                    nasty_text)
url_id = st.one_of(st.integers(0, 10**6), st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**70]))

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
FUZZ_FEW = settings(FUZZ, max_examples=15)


def _xlsx_bytes(rows) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@st.composite
def spreadsheet_upload(draw, header: list[str], valid_row=None):
    """(filename, bytes): random bytes, truncated or damaged workbooks, CSV with NUL, junk cells, and
    (given `valid_row`, a strategy for one good row) lists that should go through."""
    kinds = ["bytes", "truncated", "damaged", "csv", "csv_nul", "latin1", "xlsx", "long", "empty", "header_only",
             "wrong_ext"]
    kind = draw(st.sampled_from(kinds + (["valid_xlsx", "valid_csv"] * 3 if valid_row is not None else [])))
    cells = st.lists(st.one_of(nasty_text, number_text, date_text), min_size=len(header), max_size=len(header))
    if kind.startswith("valid"):
        rows = draw(st.lists(valid_row, min_size=1, max_size=4))
        kind = "xlsx" if kind == "valid_xlsx" else "csv_clean"
    else:
        rows = draw(st.lists(cells, min_size=1, max_size=4))
    if kind == "bytes":
        return draw(st.sampled_from(["a.xlsx", "a.csv"])), draw(st.binary(max_size=300))
    if kind in ("truncated", "damaged"):
        good = _xlsx_bytes([header] + [[_xml_safe(c[:200]) for c in r] for r in rows])
        # A fraction, not a length: a workbook's size varies with the time it is saved at.
        cut = 10 + int(draw(st.floats(0, 1)) * (len(good) - 12))
        if kind == "truncated":
            return "a.xlsx", good[:cut]
        return "a.xlsx", good[:cut] + b"\x00garbage\xff" + good[cut + 11:]
    if kind == "xlsx":
        return "a.xlsx", _xlsx_bytes([header] + [[_xml_safe(c[:500]) for c in r] for r in rows])
    text = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in [header] + rows)
    if kind == "csv":
        return "a.csv", text.encode("utf-8")
    if kind == "csv_clean":  # what a spreadsheet program saves: no NUL
        return "a.csv", text.replace("\x00", "").encode("utf-8")
    if kind == "csv_nul":
        return "a.csv", text.encode("utf-8").replace(b",", b",\x00", 1)
    if kind == "latin1":
        return "a.csv", "Tên ấp,Số hộ\nẤp Một,12\n".encode("utf-16")
    if kind == "long":
        return "a.csv", (",".join(header) + "\n" + "x,1\n" * 25_000).encode()
    if kind == "empty":
        return "a.csv", b""
    if kind == "header_only":
        return "a.csv", ",".join(header).encode()
    return "a.exe", text.encode("utf-8")


def _xml_safe(value: str) -> str:
    # openpyxl refuses characters XML 1.0 cannot hold; a workbook made in Excel cannot contain them either.
    return "".join(ch for ch in value if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))


def count(db, *models) -> tuple:
    """Row counts of the models' tables, to prove a refused submission wrote nothing."""
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models)


def assert_clean(value: str | None) -> None:
    """A stored name as app.text.clean leaves it: NFC, no NUL, control or bidi characters."""
    if value is None:
        return
    assert value == clean(value), repr(value)
    assert value == unicodedata.normalize("NFC", value)
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value), repr(value)


def shown(page: str, typed: str) -> bool:
    """Whether the cleaned typed value is in the re-rendered page, as Jinja escapes it."""
    from markupsafe import escape
    value = clean(typed)
    return not value or str(escape(value)) in page


# Names that pass validation once cleaned, but carry what keyboards and copy-paste slip in.
name_text = st.one_of(
    st.sampled_from([NFD_NAME, "Nguyễn Văn An", "\u200fNguyễn\u202e Văn", "Lê\x00 Thị", "🇻🇳 Ấp Một", "<b>An</b>"]),
    st.text(alphabet=_PARTS, max_size=30).map(lambda t: "Tên " + t),
)


@st.composite
def form_data(draw, valid: dict, hostile: dict):
    """A form's fields: a random few (none, some or all) get hostile values, the others valid ones,
    so both the refusals and the accepted submissions get exercised."""
    names = sorted(valid)
    bad = draw(st.sets(st.sampled_from(names), max_size=len(names)))
    return {n: draw(hostile[n] if n in bad else valid[n]) for n in names}
