"""One Vietnamese order for every sorted list: app.text.sort_key, and the pages and exports using it."""
import csv
import io
import re
import unicodedata
from datetime import date

import pytest

from app.extensions import db as _db
from app.text import sort_key
from app.units import operations as unit_ops

HAMLETS = ["Khu vực 10", "Ấp Đông Bình", "Ấp Bắc", "Ấp An", "Ấp Dừa"]
# Khu vực 1 and 2 are the conftest tree's own hamlets of Phường I.
IN_ORDER = ["Ấp An", "Ấp Bắc", "Ấp Dừa", "Ấp Đông Bình", "Khu vực 1", "Khu vực 2", "Khu vực 10"]


def test_letters_follow_the_vietnamese_alphabet_not_code_points():
    names = ["Ấp Đông Bình", "Ấp Bắc", "Ấp An", "Ấp Dừa", "Ấp Ông Cả", "Ấp Ơn", "Ấp Ô Môn", "Ấp Zê", "Ấp Ư"]
    assert sorted(names, key=sort_key) == ["Ấp An", "Ấp Bắc", "Ấp Dừa", "Ấp Đông Bình", "Ấp Ô Môn",
                                           "Ấp Ông Cả", "Ấp Ơn", "Ấp Ư", "Ấp Zê"]
    assert sorted(["ơ", "ô", "o", "ă", "â", "a", "đ", "d", "e", "ê"], key=sort_key) == \
        ["a", "ă", "â", "d", "đ", "e", "ê", "o", "ô", "ơ"]


def test_numbers_sort_by_their_value_and_before_letters():
    assert sorted(["Khu vực 10", "Khu vực 2", "Khu vực 1", "Khu vực A", "Khu vực 02b"], key=sort_key) == \
        ["Khu vực 1", "Khu vực 2", "Khu vực 02b", "Khu vực 10", "Khu vực A"]
    assert sorted(["Khu phố 3B", "Khu phố 12", "Khu phố 3A", "Khu phố 3"], key=sort_key) == \
        ["Khu phố 3", "Khu phố 3A", "Khu phố 3B", "Khu phố 12"]


def test_a_space_sorts_first_then_numbers_then_letters_then_other_signs_and_no_name_breaks_the_order():
    """Punctuation and digits of other scripts ("²", "٣") are kept in names: they sort, after the letters."""
    names = ["Tổ (mới)", "Tổ 2-B", "Tổ 2 A", "Tổ An", "Tổ ²", "Tổ ٣"]
    assert sorted(names, key=sort_key) == ["Tổ 2 A", "Tổ 2-B", "Tổ An", "Tổ (mới)", "Tổ ²", "Tổ ٣"]
    assert sorted(["Ấp 1²", "Ấp 1"], key=sort_key) == ["Ấp 1", "Ấp 1²"]  # a number ends at its last ASCII digit
    assert sort_key(None) == sort_key("")  # a unit without a name sorts as an empty one
    assert sorted(["Ấp AN", "Ấp An", "Ấp an"], key=sort_key) == ["Ấp an", "Ấp An", "Ấp AN"]  # lower case first


def test_tones_only_break_ties_of_the_letters():
    # Tones in dictionary order (none, huyền, hỏi, ngã, sắc, nặng), and only after the letters differ:
    # "Ấp Anh" follows every "An…" whatever its tone.
    assert sorted(["Ấp Ạn", "Ấp Án", "Ấp Anh", "Ấp Ãn", "Ấp Ản", "Ấp Àn", "Ấp An"], key=sort_key) == \
        ["Ấp An", "Ấp Àn", "Ấp Ản", "Ấp Ãn", "Ấp Án", "Ấp Ạn", "Ấp Anh"]
    assert sorted(["Ấp An Bình", "Ấp Anh", "Ấp An"], key=sort_key) == ["Ấp An", "Ấp An Bình", "Ấp Anh"]


def test_case_and_decomposed_input_do_not_change_the_order():
    decomposed = "A\u0302\u0301p \u0110o\u0302ng"  # Ấp Đông typed with combining marks
    assert sort_key(decomposed)[:2] == sort_key("Ấp Đông")[:2]
    assert sorted(["ấp bắc", "Ấp An", "ẤP CÁ"], key=sort_key) == ["Ấp An", "ấp bắc", "ẤP CÁ"]
    # A đ typed as d with a combining stroke is still đ, after every d.
    assert sorted(["d\u0335ông", "Dương", "Đa"], key=sort_key) == ["Dương", "Đa", "d\u0335ông"]


def test_the_tone_decides_before_the_case_does():
    # Upper-case sorts after lower-case only when the letters and tones tie: a capital's code point
    # never lets it jump a lower tone.
    assert sorted(["àn", "An"], key=sort_key) == ["An", "àn"]
    assert sorted(["ản", "Àn"], key=sort_key) == ["Àn", "ản"]
    assert sorted(["ạn", "Án"], key=sort_key) == ["Án", "ạn"]
    # Letters and tones tie: lower-case first.
    assert sorted(["AN", "An", "an"], key=sort_key) == ["an", "An", "AN"]


def test_names_equal_but_for_their_code_points_keep_one_order_whatever_the_input_order():
    composed = "Ấp Đông"
    decomposed = unicodedata.normalize("NFD", composed)
    assert sorted([composed, decomposed], key=sort_key) == sorted([decomposed, composed], key=sort_key)


@pytest.fixture
def hamlets(tree):
    made = []
    for i, name in enumerate(HAMLETS):
        hamlet = unit_ops.create_unit(name, "hamlet", tree.commune)
        unit_ops.set_household_count(hamlet, 10 + i, date(2024, 1, 1))
        made.append(hamlet)
    _db.session.commit()
    return made


def _order(html: str, names: list[str]) -> list[str]:
    """The names in the order the page first shows them (each name's first whole-word match)."""
    found = {}
    for name in names:
        m = re.search(r">\s*" + re.escape(name) + r"\s*<", html)
        assert m, name
        found[name] = m.start()
    return sorted(names, key=found.get)


def test_area_coverage_report_and_csv_list_hamlets_in_the_same_vietnamese_order(tree, hamlets, login_as, client):
    login_as("commune", tree.commune)
    area = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert _order(area, IN_ORDER) == IN_ORDER
    coverage = client.get(f"/coverage/{tree.commune.id}").get_data(as_text=True)
    assert _order(coverage, IN_ORDER) == IN_ORDER
    desc = client.get(f"/coverage/{tree.commune.id}?sort=name&dir=desc").get_data(as_text=True)
    assert _order(desc, IN_ORDER) == IN_ORDER[::-1]
    report = client.get(f"/reports/{tree.commune.id}/monthly?month=2024-10").get_data(as_text=True)
    assert _order(report, IN_ORDER) == IN_ORDER
    rows = list(csv.reader(io.StringIO(
        client.get(f"/reports/{tree.commune.id}/monthly.csv?month=2024-10").data.decode("utf-8-sig"))))
    names = [r[2] for r in rows[1:] if r[2] in IN_ORDER]
    assert names == IN_ORDER
