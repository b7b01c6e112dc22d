"""Password policy: long enough, and not one of the passwords every attacker tries first."""
from flask_babel import gettext as _

MIN_LENGTH = 10
# The commonest passwords in public breach lists, plus the local favourites.
COMMON = {
    "123456", "123456789", "12345678", "password", "qwerty", "123123", "111111", "1234567890",
    "1234567", "12345", "000000", "abc123", "password1", "iloveyou", "qwerty123", "admin",
    "admin123", "123456a", "matkhau", "matkhau123", "abcd1234", "1qaz2wsx", "qwertyuiop",
    "88888888", "66666666", "vietnam", "vietnam123", "anhyeuem", "iloveyou123", "password123",
    "1234512345", "0123456789", "9876543210", "11111111", "aaaaaaaaaa", "123456789a",
    "passw0rd", "welcome1", "changeme", "letmein123",
}


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    if password.lower() in COMMON or len(set(password)) < 4:
        return _("This password is too common. Choose another.")
    return None
