"""Configuration read from the environment, with an embedded SQLite default under instance/ for development."""
import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
# Set by the Makefile (`make run`, `make test`): without DATABASE_URL, use the SQLite file in instance/.
DEV_FLAG = "CNSCD_DEV"


class ConfigError(RuntimeError):
    """A setting production cannot do without is missing; the message is one line for the operator."""


def development_allowed(debug: bool, testing: bool) -> bool:
    return debug or testing or os.environ.get(DEV_FLAG) == "1"


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL so PostgreSQL always goes through psycopg 3."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'app.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    # None without DATABASE_URL: create_app then uses the development SQLite file, or refuses to start.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    # No `SELECT 1` before every request: app.database checks a PostgreSQL connection's socket at
    # checkout instead, and SQLite has no server to lose.
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # SQLite: how long a writer waits for the database's write lock before the request answers 503
    # (keep it well under gunicorn's --timeout, or the worker is killed while it waits).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000") or 10000)
    # The Retry-After of a 503 when the database is busy or unreachable.
    RETRY_AFTER_SECONDS = int(os.environ.get("RETRY_AFTER_SECONDS", "3") or 3)
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Uploads are spreadsheets of a commune's hamlets or members: a few hundred KB at most.
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # Behind nginx: how many proxies' X-Forwarded-For/-Proto to trust. Without it every user would
    # share the proxy's address (one sign-in limit for all) and HTTPS would look like HTTP.
    # Werkzeug's method for new password hashes; the test suite alone sets a fast one (it signs in
    # thousands of times), and a hash names its own method, so checking needs no setting.
    PASSWORD_HASH_METHOD = "scrypt"
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0") or 0)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a form opened in the field may be submitted hours later
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/javascript", "text/javascript",
                          "application/json", "image/svg+xml", "text/csv"]
    # zstd to the browsers that ask for it (Chromium since 123, Firefox since 126: the phones in the
    # field, and Python's requests), gzip to the rest (Safari). zstd level 3 writes about what gzip
    # level 6 does (a commune's 56 KB page: 6.7 against 6.5 KB) in a quarter of the CPU (bench/README.md,
    # round 19). No brotli: at the quality that matches gzip's size it costs more CPU than gzip.
    COMPRESS_ALGORITHM = ["zstd", "gzip"]
    COMPRESS_ZSTD_LEVEL = 3
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False
    # Redis down: each worker counts in its own memory meanwhile, rather than every sign-in failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Guessing one account's password is slowed per account; a whole office behind one address
    # (a commune's shared Wi-Fi) still gets room to sign in.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per minute")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "60 per minute")
    # New accounts sent per officer, staff (app/users/views.py) and team members (app/teams/views.py) together: each
    # refusal says whether a username exists.
    ACCOUNT_FORM_LIMIT = os.environ.get("ACCOUNT_FORM_LIMIT", "30 per minute")
