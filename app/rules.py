"""The rules a value must follow to be stored, one definition per kind of value.

The web forms (through `CountField(rule=...)` and their own validators), the spreadsheet imports and the
CLI commands all call these functions, so a value the form refuses is refused by every other path
in, with the same message. The database holds the same limits as CHECK constraints.
"""
import re
import statistics

from flask_babel import format_decimal
from flask_babel import gettext as _

from app.dates import today_vn
from app.text import clean

# A hamlet has hundreds of households and the largest city about three million; ten million leaves
# room for any real unit while a typing slip (an extra zero run, 9×10¹⁸) is refused.
HOUSEHOLDS_MAX = 10_000_000
# Adults (aged 15 and over) of one unit: Vietnam has about 80 million, no unit counts more.
ADULTS_MAX = 100_000_000
# A hamlet has a few hundred households (DOMAIN.md: ~27 M households and ~80–100 k teams, one a hamlet as in
# Hậu Giang's 525, so ~300 a hamlet). With no other hamlet in its commune to compare with, a count above ten times
# a large hamlet's 500 is asked about before it is saved: a zero typed twice, most likely.
HAMLET_HOUSEHOLDS_UNLIKELY = 5_000
# Its adults (aged 15 and over): under three a household (3.6 people a household in the 2019 census, three in four
# of them 15 or older), so a hamlet has several hundred to a thousand or so; a large hamlet's 500 households have
# about 1,400, and the same tenfold margin over it gives 15,000.
HAMLET_ADULTS_UNLIKELY = 15_000
# People one team helps in a shift at the one-stop centre: a morning or a day, one to three members each helping
# someone every ten minutes or so, a few dozen at most. With no shift of the team's own to compare with, more than
# 100 is asked about before it is saved (155 for 15: a digit typed twice).
SHIFT_PEOPLE_UNLIKELY = 100
# People helped ten times the online dossiers the shift counts is asked about only from this many: a quiet
# morning's 20 people and 2 dossiers is ordinary (many come for an account or advice, not a dossier).
SHIFT_PEOPLE_OVER_DOSSIERS_FROM = 50
NAME_MAX = 200
UNIT_CODE_MAX = 20
FIRST_BIRTH_YEAR = 1920
MIN_MEMBER_AGE = 14
# ASCII letters and digits and - . _ : GSO codes are digits, communes' own hamlet codes letters
# and digits. Anything else (quotes, semicolons, look-alike letters) ends up in file names and links.
_UNIT_CODE = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)


class RuleError(ValueError):
    """The value breaks a rule; `message` is for the person who typed it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def whole_number(value: object) -> int | None:
    """'1.851', '1,851', '1 851', 1851 and 1851.0 are all 1851; None when blank; ValueError when not a count."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():  # also NaN and infinities
            raise ValueError(value)
        return int(value)
    text = clean(str(value)).replace(" ", "")
    # ASCII digits only: Python's \d (and int()) also read other scripts' digits ('١٢٣' as 123).
    if re.fullmatch(r"[0-9]{1,3}([.,][0-9]{3})+", text):
        text = re.sub(r"[.,]", "", text)
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise ValueError(value)
    return int(text)


def slip_of_a_digit(typed: int, reference: int | None) -> bool:
    """Ten times the reference or more, or a tenth of it or less: a digit typed twice or left out. The reference
    is the figure in effect before (a count, an adult population), or a commune's usual hamlet
    (`app.units.operations.usual_hamlet`). None or 0 is no reference: nothing is ten times 0."""
    return reference is not None and reference > 0 and (typed >= 10 * reference or 10 * typed <= reference)


def usual(figures) -> int | None:
    """The usual size among figures (a commune's hamlets, a team's shifts): their median above 0; None when none
    is. The median, not the mean: one slip among them (99,999 for 999) drags a mean far off, while the median stays
    where most of them are; a 0 (a figure entered before it was counted) is no size to compare with."""
    above_zero = [n for n in figures if n > 0]
    return round(statistics.median(above_zero)) if above_zero else None


def below_zero(value: object) -> bool:
    """Whether the text is a whole number with a minus sign ('-3', '−3', '- 1.200'): refused with its own message,
    since it is a whole number, only below zero."""
    text = clean(str(value)).replace(" ", "") if isinstance(value, str) else ""
    if text[:1] not in ("-", "\u2212") or not text[1:]:
        return False
    try:
        whole_number(text[1:])
    except ValueError:
        return False
    return True


def households(value: object) -> int | None:
    """A household count as typed or as a spreadsheet cell: None when blank, else 0..HOUSEHOLDS_MAX."""
    return _count(value, HOUSEHOLDS_MAX, lambda limit: _(
        "The number of households must be a whole number from 0 to %(max)s, e.g. 1.851.", max=limit))


def adults(value: object) -> int | None:
    """An adult population as typed or as a spreadsheet cell: None when blank, else 0..ADULTS_MAX."""
    return _count(value, ADULTS_MAX, lambda limit: _(
        "The number of adults must be a whole number from 0 to %(max)s, e.g. 1.851.", max=limit))


def _count(value: object, maximum: int, refusal) -> int | None:
    """None when blank, else a whole number from 0 to maximum; `refusal(the maximum, formatted)` says why not."""
    try:
        number = whole_number(value)
    except ValueError:
        number = -1
    if number is not None and not 0 <= number <= maximum:
        raise RuleError(refusal(format_decimal(maximum)))
    return number


def birth_year(value: object, this_year: int | None = None) -> int | None:
    """A member's year of birth: None when blank, else a year that makes them at least 14."""
    latest = (this_year or today_vn().year) - MIN_MEMBER_AGE
    try:
        year = whole_number(value)
    except ValueError:
        raise RuleError(_("The year of birth must be a year, e.g. 1990.")) from None
    if year is not None and not FIRST_BIRTH_YEAR <= year <= latest:
        raise RuleError(_("Enter a year between 1920 and %(latest)d.", latest=latest))
    return year


def unit_code(value: object) -> str:
    """An administrative unit's code: '' when blank, else letters, digits, '-', '.', '_', at most 20."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a GSO code typed into Excel as a number
    text = str(value).strip()
    if text and (len(text) > UNIT_CODE_MAX or not _UNIT_CODE.fullmatch(text)):
        raise RuleError(_("A code has at most %(n)d characters: letters A–Z, digits, '-', '.' or '_'.",
                          n=UNIT_CODE_MAX))
    return text


def has_letter_or_digit(name: str) -> bool:
    """Whether a name can be read and searched: accents alone, signs or a picture fold to nothing."""
    return any(ch.isalnum() for ch in name)


def unit_name(value: object) -> str:
    """A unit's name: required, at most NAME_MAX characters once cleaned, with a letter or digit."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    name = clean(str(value)) if value is not None else ""
    if not name:
        raise RuleError(_("The name is missing."))
    if len(name) > NAME_MAX:
        raise RuleError(_("The name is longer than %(n)d characters.", n=NAME_MAX))
    if not has_letter_or_digit(name):
        raise RuleError(_("The name needs at least one letter or digit."))
    return name


REASON_MIN = 10
# One to five letters said over and over ("hahaha", "test test test"): typed to get past the box, not a reason.
_REPEATED = re.compile(r"(.{1,5})\1+")


def reason(value: object) -> str:
    """A reason kept in the audit trail (reopening or correcting a closed month, dissolving a team, erasing a
    household): cleaned, at least REASON_MIN characters, and words: not only digits and signs, nor the same few
    letters over again."""
    text = clean(str(value)) if value is not None else ""
    letters = "".join(ch for ch in text if ch.isalpha()).casefold()
    if len(text) < REASON_MIN or len(set(letters)) < 3 or _REPEATED.fullmatch(letters):
        raise RuleError(_("Write the reason in words, at least %(n)d characters: it is kept in the audit trail for "
                          "whoever reads it later.", n=REASON_MIN))
    return text
