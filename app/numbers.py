"""Numbers and percentages as Babel writes them for a locale, with the pattern parsed once per process.

Fast path: whole numbers, plain decimals and non-negative shares are written with Python's own
formatting and the locale's separators; faster than Babel's format_decimal/format_percent, which
look the locale up and re-parse the pattern on every call (bench/README.md, "Fast paths"). Anything
else goes to Babel. tests/test_numbers.py holds it equal to Babel, in Vietnamese and English.
"""
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_decimal_symbol, parse_pattern

_PROBE = 1234567.5
_INF = float("inf")


class NumberFormat:
    """One locale's number or percent pattern, parsed once per process.

    A coverage page formats about a thousand figures; Babel re-parses the pattern and looks the
    locale's symbols up on every call. Whole numbers and non-negative percentages take a short path
    with the separators Babel gives for the locale, kept only if it formats a probe exactly as Babel
    does (a locale with other digit grouping keeps Babel for everything)."""

    def __init__(self, locale_id: str, pattern: str, digits: int):
        self.locale = Locale.parse(locale_id)
        self.pattern = parse_pattern(pattern or self.locale.decimal_formats[None])
        self.digits = digits
        self.quantum = Decimal(1).scaleb(-digits)
        self.percent = pattern.endswith("%")
        example = _PROBE if self.percent else int(_PROBE)
        probe = self.pattern.apply(example / 100 if self.percent else example, self.locale)
        self.separators = None
        if digits:
            candidate = str.maketrans({",": probe[1], ".": probe[-3]})
        else:
            candidate = str.maketrans({",": probe[1]})
        plain = f"{Decimal(str(example)).quantize(self.quantum):,.{digits}f}".translate(candidate)
        if plain in probe:
            self.prefix, self.suffix = probe.split(plain, 1)
            self.separators = candidate
        self.quick = self.separators is not None
        # The same symbols for the short paths that write a whole part and its decimals apart
        # (str.replace of one character costs a tenth of str.translate).
        self.group, self.decimal = probe[1], (probe[-3] if digits else None)
        self.ratio_unit = 10 ** digits
        self.ratio_scale = 100 * self.ratio_unit
        # Non-negative floats in a plain decimal pattern ("#,##0.###": a page's "10,3 points short"):
        # rounded as Babel does, trailing zeros dropped, kept only if a probe matches Babel.
        low, high = self.pattern.frac_prec
        self.fraction = None
        if self.quick and not self.percent and low == 0 and high > 0:
            self.fraction = Decimal(1).scaleb(-high)
            self.float_separators = str.maketrans({",": probe[1], ".": get_decimal_symbol(self.locale)})
            if self._float(_PROBE + 0.0625) != self.pattern.apply(_PROBE + 0.0625, self.locale):
                self.fraction = None

    def _float(self, value: float) -> str:
        text = f"{Decimal(str(value)).quantize(self.fraction):,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.translate(self.float_separators)

    def number(self, value) -> str:
        if self.quick and type(value) is int and value >= 0:
            return f"{value:,}".replace(",", self.group)
        if self.fraction is not None and type(value) is float and 0 <= value < _INF:
            return self._float(value)
        return self.pattern.apply(value, self.locale)

    def ratio(self, part: int, whole: int) -> str:
        """part / whole as share() writes it, from the two whole numbers: the same digits (rounded half
        to even, as Babel rounds the float's decimal), without the float's Decimal round trip.
        Exact while whole stays under 10**9 (a float's error is then far below a rounding boundary's
        distance); a coverage row's households are."""
        if not (self.quick and self.percent and type(part) is int and type(whole) is int
                and 0 <= part and 0 < whole < 10**9):
            return self.share(part / whole)
        q, r = divmod(part * self.ratio_scale, whole)
        if 2 * r > whole or (2 * r == whole and q & 1):
            q += 1
        if self.digits:
            integral, fraction = divmod(q, self.ratio_unit)
            text = f"{integral:,}".replace(",", self.group) + f"{self.decimal}{fraction:0{self.digits}d}"
        else:
            text = f"{q:,}".replace(",", self.group)
        return self.prefix + text + self.suffix

    def one_decimal(self, value: float) -> str:
        """A non-negative float already rounded to one decimal (round(x, 1): "10,3 points short"), as
        number() writes it, without the Decimal round trip: the float's shortest form has that one
        decimal, which is what `.1f` writes."""
        if self.fraction is None or type(value) is not float or not 0 <= value < 1e15:
            return self.number(value)
        text = f"{value:,.1f}"
        if text.endswith(".0"):
            text = text[:-2]
        return text.translate(self.float_separators)

    def share(self, value) -> str:
        if self.quick and type(value) in (int, float, Decimal) and 0 <= value < _INF:
            # As Babel does: the decimal written by str(), scaled, rounded half to even.
            scaled = Decimal(str(value)).scaleb(2).quantize(self.quantum)
            return self.prefix + f"{scaled:,.{self.digits}f}".translate(self.separators) + self.suffix
        return self.pattern.apply(value, self.locale)


@lru_cache(maxsize=64)
def number_format(locale_id: str, kind: str, digits: int = 0) -> NumberFormat:
    if kind == "decimal":
        return NumberFormat(locale_id, "", 0)
    return NumberFormat(locale_id, "#,##0." + "0" * digits + "%" if digits else "#,##0%", digits)
