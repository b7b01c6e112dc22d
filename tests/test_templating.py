"""The number, percent and date filters: the fast paths write exactly what Babel writes."""
import random
from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_decimal, format_percent

from app.templating import locale_format


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
    fmt = locale_format(locale, "percent", digits)
    for v in _values():
        assert fmt.share(v) == format_percent(v, pattern, locale=locale), v


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
def test_whole_numbers_match_babel(locale):
    rng = random.Random(3)
    fmt = locale_format(locale, "decimal")
    for v in [0, 7, 999, 1000, 1851, 500291, 10**9, -1234, 12.3, 0.5] + [rng.randint(0, 10**8) for _ in range(2000)]:
        assert fmt.number(v) == format_decimal(v, locale=locale), v
    assert locale_format("vi", "decimal").number(1851) == "1.851"
    assert locale_format("vi", "decimal").number(10.3) == "10,3" and locale_format("vi", "decimal").number(10.0) == "10"
    assert locale_format("vi", "percent", 1).share(0.4471) == "44,7%"


@pytest.mark.parametrize("locale", ["vi", "en", "en_IN"])
def test_fractions_match_babel(locale):
    """Points short of a target (one decimal) and any other float: rounding ties included."""
    fmt = locale_format(locale, "decimal")
    rng = random.Random(5)
    ties = [0.0005, 0.0015, 0.0025, 1.0625, 2.5, 0.1, 0.30000000000000004, 1e-7, 1e16, 123456.7895]
    for v in ties + [round(rng.uniform(0, 100), 1) for _ in range(2000)] + [rng.uniform(0, 10**7) for _ in range(2000)]:
        assert fmt.number(v) == format_decimal(v, locale=locale), v


def test_filters_in_a_request_follow_the_user_language(app):
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ n|number }} {{ s|percent }} {{ d|date }} {{ d|date('MM/yyyy') }}").render
        assert render(n=1851, s=0.4471, d=date(2024, 5, 23)) == "1.851 44,7% 23/05/2024 05/2024"
