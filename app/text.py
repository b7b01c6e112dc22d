"""Text helpers for Vietnamese names: store NFC, search without diacritics."""
import unicodedata

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
