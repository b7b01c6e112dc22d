"""Usernames in one canonical form, so one person has one account and one sign-in limit.

The same function keys the account at creation, at sign-in and in the per-account rate limit:
a name typed with a zero-width space, a soft hyphen or in capitals is the same name.
"""
import unicodedata

# Characters that show nothing but make a different string. Every format (Cf), control (Cc),
# surrogate, private-use and unassigned character goes (zero-width space and joiners, soft hyphen,
# word joiner, BOM, bidi controls, NUL), and so do the default-ignorable code points of other
# categories: combining grapheme joiner, Hangul fillers, variation selectors.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_IGNORABLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0,
              *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def _visible(value: str) -> str:
    return "".join(ch for ch in value
                   if unicodedata.category(ch) not in _DROPPED_CATEGORIES and ord(ch) not in _IGNORABLE)


def normalise_username(value: str | None) -> str:
    """NFKC, invisible and control characters removed, case folded, whitespace collapsed.

    Invisible characters go first (one between a letter and its accent would block composition)
    and again last, as NFKC and case folding can, rarely, produce one.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", _visible(value))
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(_visible(text).split())
