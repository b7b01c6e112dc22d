"""app/numbers.py writes exactly what Babel's format_decimal and format_percent write."""
import random
from decimal import Decimal

import pytest
from babel.numbers import format_decimal, format_percent

from app.numbers import number_format


def _values():
    rng = random.Random(7)
    ties = [0.4475, 0.44745, 0.12345, 0.0005, 0.0015, 0.0025, 0.125, 0.135, 0.145, 1 / 3, 2 / 3]
    return ([0, 0.0, 1, 0.5, 12.3456, 123456.789, Decimal("0.8"), Decimal("0.125"), -0.5, float("nan")] + ties
            + [rng.random() for _ in range(2000)] + [i / 1000 for i in range(1001)]
            + [rng.randint(0, 10**6) / rng.randint(1, 10**6) for _ in range(1000)])


@pytest.mark.parametrize("locale", ["vi", "en", "hi"])
@pytest.mark.parametrize("digits", [0, 1])
def test_percentages_match_babel_to_the_last_digit(locale, digits):
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    fmt = number_format(locale, "percent", digits)
    for v in _values():
        assert fmt.share(v) == format_percent(v, pattern, locale=locale), v


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
def test_whole_numbers_match_babel(locale):
    rng = random.Random(3)
    fmt = number_format(locale, "decimal")
    for v in [0, 7, 999, 1000, 1851, 500291, 10**9, -1234, 12.3, 0.5] + [rng.randint(0, 10**8) for _ in range(2000)]:
        assert fmt.number(v) == format_decimal(v, locale=locale), v
    assert number_format("vi", "decimal").number(1851) == "1.851"
    assert number_format("vi", "decimal").number(10.3) == "10,3" and number_format("vi", "decimal").number(10.0) == "10"
    assert number_format("vi", "percent", 1).share(0.4471) == "44,7%"


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
def test_fractions_match_babel(locale):
    """Points short of a target (one decimal) and any other float: rounding ties included."""
    fmt = number_format(locale, "decimal")
    rng = random.Random(5)
    ties = [0.0005, 0.0015, 0.0025, 1.0625, 2.5, 0.1, 0.30000000000000004, 1e-7, 1e16, 123456.7895]
    for v in ties + [round(rng.uniform(0, 100), 1) for _ in range(2000)] + [rng.uniform(0, 10**7) for _ in range(2000)]:
        assert fmt.number(v) == format_decimal(v, locale=locale), v


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_negative_big_and_odd_values_match_babel(locale):
    """What the short paths leave to Babel (negatives, Decimals, infinities) and what they take on
    (big numbers, shares above 100%), in both of the app's languages."""
    rng = random.Random(11)
    values = ([-1, -7, -999, -1000, -1851, -500291, -10**9, -10**15, 10**15, 10**18, 2**63, -0.5, -0.0,
               -12.3456, -1234567.891, 1e15, 1.5e17, Decimal("-1234.5"), Decimal("1234567.125"), Decimal(10**12),
               float("inf"), float("-inf")]
              + [rng.randint(-10**12, 10**12) for _ in range(1000)]
              + [rng.uniform(-10**9, 10**9) for _ in range(1000)])
    number = number_format(locale, "decimal")
    for v in values:
        assert number.number(v) == format_decimal(v, locale=locale), v
    shares = values + [1.0, 1.5, 12.345, 1000.0] + [rng.uniform(-2, 20) for _ in range(1000)]
    for digits, pattern in ((0, "#,##0%"), (1, "#,##0.0%")):
        share = number_format(locale, "percent", digits)
        for v in shares:
            assert share.share(v) == format_percent(v, pattern, locale=locale), (v, digits)


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
@pytest.mark.parametrize("digits", [0, 1])
def test_a_share_from_its_two_whole_numbers_is_babels_share_of_their_quotient(locale, digits):
    """NumberFormat.ratio writes part / whole from the integers: every small fraction (ties such as
    1/8 and 5/10000 included), households up to a city's, and what it leaves to share()."""
    rng = random.Random(13)
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    fmt = number_format(locale, "percent", digits)
    pairs = ([(n, d) for d in range(1, 300) for n in range(0, d + 2)]
             + [(5, 10000), (15, 10000), (25, 10000), (1, 8), (3, 8), (1, 16), (1, 2000), (3, 2000), (10**8, 3)]
             + [(rng.randint(0, 5 * 10**6), rng.randint(1, 5 * 10**6)) for _ in range(5000)]
             + [(7, 10**9 + 7), (2**40, 3)])  # past the integer path's bound: share() writes them
    for part, whole in pairs:
        assert fmt.ratio(part, whole) == format_percent(part / whole, pattern, locale=locale), (part, whole)


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
def test_points_rounded_to_one_decimal_are_written_as_babel_writes_them(locale):
    rng = random.Random(17)
    fmt = number_format(locale, "decimal")
    values = [0.0, 0.1, 10.0, 46.0, 99.9, 100.0, 1234.5, 123456.7, -3.5] + [
        round(rng.uniform(0, 100), 1) for _ in range(5000)] + [round(rng.uniform(0, 10**7), 1) for _ in range(500)]
    for v in values:
        assert fmt.one_decimal(v) == format_decimal(v, locale=locale), v


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_languages_we_ship_take_the_short_paths(locale):
    # A coverage page writes about a thousand figures. Were a short path lost (a Babel release that
    # changes a pattern), every figure above would still match Babel, and each page would cost ~1 ms
    # more without a word: this says so.
    decimal = number_format(locale, "decimal")
    assert decimal.quick and decimal.fraction is not None
    assert number_format(locale, "percent", 0).quick and number_format(locale, "percent", 1).quick
