"""Text helpers for Vietnamese names: store NFC, search without diacritics."""
import unicodedata
from functools import lru_cache

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean(value: str | None) -> str:
    """NFC, control and format characters (NUL, RTL marks) dropped, whitespace collapsed."""
    if value is None:
        return ""
    # Drop invisible characters before composing: a stray RTL mark between a letter and its
    # accent would otherwise block NFC composition and leave a decomposed name behind.
    value = "".join(" " if ch in "\t\r\n" else ch for ch in value
                    if ch in "\t\r\n" or unicodedata.category(ch) not in _CONTROL)
    value = unicodedata.normalize("NFC", value)
    return " ".join(value.split())


def clean_lines(value: str | None) -> str:
    """clean() line by line, for free text whose line breaks matter (a visit's note)."""
    if value is None:
        return ""
    return "\n".join(clean(line) for line in value.replace("\r\n", "\n").split("\n")).strip("\n")


def fold(value: str | None) -> str:
    """Lower-case ASCII key for search: 'Nguyễn Văn Đạt' -> 'nguyen van dat'."""
    value = clean(value).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.lower()


# --- Vietnamese collation ------------------------------------------------------------------------
# One order for every sorted list, page and export: the Vietnamese alphabet (a ă â b c d đ e ê g h i
# k l m n o ô ơ p q r s t u ư v x y; f j w z, which only loan words use, at their Latin places), tones
# only when the letters tie (none, huyền, hỏi, ngã, sắc, nặng: the dictionary order), case after that.
# A run of digits sorts as its number ("Khu vực 2" before "Khu vực 10"), before any letter; a space
# sorts before everything, so "Ấp An" < "Ấp An Bình" < "Ấp Anh". Code-point order would put every
# name starting with Ấ or Đ after Z.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# Combining marks that make another letter (ă â ê ô ơ ư) rather than a tone.
_LETTER_MARKS = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}
_MARKED = {("a", "breve"): "ă", ("a", "circumflex"): "â", ("e", "circumflex"): "ê",
           ("o", "circumflex"): "ô", ("o", "horn"): "ơ", ("u", "horn"): "ư"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_SPACE, _NUMBER, _LETTER, _OTHER = 0, 1, 2, 3


def _letters(value: str):
    """(kind, primary, tone, is_upper) per letter, number or other character of a cleaned name."""
    decomposed = unicodedata.normalize("NFD", clean(value))
    i, n = 0, len(decomposed)
    while i < n:
        ch = decomposed[i]
        if ch.isdigit() and ch.isascii():
            j = i
            while j < n and decomposed[j].isdigit() and decomposed[j].isascii():
                j += 1
            yield _NUMBER, int(decomposed[i:j]), 0, False
            i = j
            continue
        i += 1
        marks = []
        while i < n and unicodedata.combining(decomposed[i]):
            marks.append(decomposed[i])
            i += 1
        if ch.isspace():
            yield _SPACE, 0, 0, False
            continue
        lower = ch.lower()
        if lower == "đ" or lower == "d" and "\u0335" in marks:  # a decomposed đ is rare but possible
            lower = "đ"
        for mark in marks:
            if mark in _LETTER_MARKS:
                lower = _MARKED.get((lower, _LETTER_MARKS[mark]), lower)
        tone = next((_TONES[m] for m in marks if m in _TONES), 0)
        if lower in _LETTER_RANK:
            yield _LETTER, _LETTER_RANK[lower], tone, ch != lower
        else:
            yield _OTHER, ord(lower), tone, ch != lower


@lru_cache(maxsize=8192)
def sort_key(value: str | None) -> tuple:
    """Key for sorting Vietnamese names: sorted(names, key=sort_key).

    Letters and numbers first, then tones, then case, then the text itself (so equal keys never
    depend on the input order). Remembered per worker: a coverage page sorts the same unit names
    on every request (a pure function of its text; a tuple, never changed)."""
    parts = list(_letters(value or ""))
    return (tuple((kind, primary) for kind, primary, _tone, _up in parts),
            tuple(tone for _k, _p, tone, _up in parts),
            tuple(up for _k, _p, _t, up in parts),
            value or "")


def by_name(items: list, descending: bool = False) -> list:
    """Units (or rows with name, name_folded and id) in the order the coverage pages list them:
    Vietnamese name order, ties by folded name and id (ascending, whichever the direction)."""
    ordered = sorted(items, key=lambda u: (u.name_folded, u.id))
    ordered.sort(key=lambda u: sort_key(u.name), reverse=descending)
    return ordered
