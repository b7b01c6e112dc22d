"""Names as people type them: NFC stored, searched without diacritics."""
import unicodedata

from app.text import clean, clean_lines, fold


def test_clean_composes_decomposed_input():
    assert clean("Nguye\u0302\u0303n Va\u0306n An") == "Nguyễn Văn An"


def test_invisible_mark_between_letter_and_accent_does_not_leave_it_decomposed():
    value = clean("a\u200f\u0301")
    assert value == "á" and value == unicodedata.normalize("NFC", value)


def test_clean_drops_nul_and_collapses_spaces():
    assert clean("  Lê\x00 Thị\t\tHồng \n") == "Lê Thị Hồng"


def test_fold_finds_d_and_strips_marks():
    assert fold("Đặng Thị Ánh") == "dang thi anh"
    assert fold("NGUYỄN Văn An") == fold("nguyen van an")


def test_a_note_keeps_its_lines_each_cleaned_and_loses_blank_ends():
    # A visit's or a class's note: line breaks are the writer's; a Windows CRLF is one break.
    note = "\r\n  Hộ đã cài\x00 VNeID \r\nCần  quay lại\u200f\n\n"
    assert clean_lines(note) == "Hộ đã cài VNeID\nCần quay lại"
    assert clean_lines(None) == ""
    assert clean_lines("Nguye\u0302\u0303n") == "Nguyễn"


def test_nothing_given_is_an_empty_text_not_an_error():
    """A field the form did not send reaches the filters as None."""
    assert (clean(None), clean_lines(None), fold(None)) == ("", "", "")
