"""The HTML of every page each demo account reaches, written one file a page, so a restructuring can be
held to "the same pages before and after" (whitespace aside).

    .venv/bin/python bench/html_snapshot.py OUT_DIR            # seed a fresh SQLite file, crawl, write
    .venv/bin/python bench/html_snapshot.py --compare A B      # pages that differ; exit 1 if any

A copy outside a worktree (/work/tools/html_snapshot.py) crawls the app of the folder it is run from.

Seeds the demo (`app.demo.seed.seed_demo`) into a new SQLite file built by the real migrations, under
a stopped clock (10:00 on 2 December 2026 in Vietnam, so "today", the month and every shown time are
the same on every run). Then for each demo account it signs in with the Flask test client and crawls
every same-site link (`<a href>` without `download`) it can reach from `/`: GET only, skipping
sign-out, downloads (xlsx, csv, export) and static files, at most PER_KIND pages of each kind
(`/units/7` and `/units/9` are one kind; sort/dir parameters do not make a new page), as the phone
crawl in tests/browser/ does, and at most MAX_PAGES a user. A redirect is written as its target.

What legitimately varies between runs and is normalised before writing:
- CSRF tokens (hidden `csrf_token` and `<prefix>-csrf_token` fields and the `X-CSRFToken` htmx header) -> `CSRF`;
- any 32-hex-digit string (the visit form's idempotency key, a uuid4) -> `HEX32`;
- static digests (`/static/…?v=<digest>`) -> `?v=DIGEST`, so a CSS or JS change alone is no difference;
- whitespace: each run of whitespace becomes one space, and a line break goes between tags.

Each file holds the status line and the normalised body; `_index.txt` per account lists the pages in
crawl order. `--compare` reports pages missing on either side and the first lines of each diff.
"""
import argparse
import difflib
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

# The worktree this file is in, or (a copy kept elsewhere) the one it is run from.
ROOT = Path(__file__).resolve().parent.parent
ROOT = ROOT if (ROOT / "app").is_dir() else Path.cwd()
sys.path.insert(0, str(ROOT))

# Each demo account in Vietnamese, then two of them again in English (numbers and dates read differently).
ACCOUNTS = (("demo-admin", "vi"), ("demo-province", "vi"), ("demo-area", "vi"), ("demo-commune", "vi"),
            ("demo-commune-2", "vi"), ("demo-leader", "vi"), ("demo-member", "vi"),
            ("demo-area", "en"), ("demo-leader", "en"))
STOPPED_AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
MAX_PAGES = 200
PER_KIND = 2
SKIP = ("/auth/logout", ".xlsx", ".csv", "/export", "/static/")
SITE = "http://localhost"

CSRF_FIELD = re.compile(r'(<input[^>]*name="[\w-]*csrf_token"[^>]*value=")[^"]*(")|'
                        r'(<input[^>]*value=")[^"]*("[^>]*name="[\w-]*csrf_token")')
CSRF_HEADER = re.compile(r'("X-CSRFToken":\s*")[^"]*(")')
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
DIGEST = re.compile(r"(/static/[^\"'?\s>]*\?v=)[0-9A-Za-z_-]+")


def normalise(html: str) -> str:
    html = CSRF_FIELD.sub(lambda m: (m.group(1) or m.group(3)) + "CSRF" + (m.group(2) or m.group(4)), html)
    html = CSRF_HEADER.sub(r"\1CSRF\2", html)
    html = HEX32.sub("HEX32", html)
    html = DIGEST.sub(r"\1DIGEST", html)
    html = re.sub(r"\s+", " ", html)
    return re.sub(r">\s*<", ">\n<", html).strip() + "\n"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") and "download" not in attrs:
            self.hrefs.append(attrs["href"])


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _key(url: str) -> str:
    """The path and query of a same-site URL, without sorting parameters; None for another site."""
    parts = urlsplit(url)
    if parts.scheme and f"{parts.scheme}://{parts.netloc}" != SITE:
        return None
    if not parts.path.startswith("/"):
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("sort", "dir")]
    return parts.path + ("?" + urlencode(sorted(query)) if query else "")


def _kind(key: str) -> str:
    path, _sep, query = key.partition("?")
    return re.sub(r"\d+", "N", path) + "?" + ",".join(k for k, _v in parse_qsl(query))


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html) or \
        re.search(r'value="([^"]*)"[^>]*name="csrf_token"', html)
    return match.group(1) if match else ""


def _file_name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9=._-]+", "_", key.strip("/")) or "index"
    return name[:180] + ".html"


def crawl(app, username: str, password: str, locale: str) -> dict[str, str]:
    """key -> "status\\nnormalised body", in crawl order."""
    client = app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    resp = client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": _csrf_token(login)})
    if resp.status_code != 302:
        raise SystemExit(f"{username}: sign-in answered {resp.status_code}")
    if locale != "vi":
        page = client.get("/auth/password").get_data(as_text=True)
        client.post("/language", data={"lang": locale, "csrf_token": _csrf_token(page)})
    found: dict[str, str] = {}
    seen: set[str] = set()
    kinds: Counter = Counter()
    queue = ["/"]
    while queue and len(found) < MAX_PAGES:
        key = _key(queue.pop(0))
        if key is None or key in seen or kinds[_kind(key)] >= PER_KIND or any(s in key for s in SKIP):
            continue
        seen.add(key)
        kinds[_kind(key)] += 1
        resp = client.get(key)
        if resp.status_code in (301, 302, 303, 307, 308):
            target = resp.headers["Location"]
            found[key] = f"{resp.status_code} -> {_key(target) or target}\n"
            queue.insert(0, target)
            continue
        body = resp.get_data(as_text=True)
        found[key] = f"{resp.status_code} {resp.mimetype}\n" + normalise(body)
        if resp.mimetype == "text/html":
            queue.extend(h.split("#")[0] for h in _links(body) if h.split("#")[0])
    return found


def snapshot(out: Path) -> None:
    import time_machine

    db_dir = tempfile.mkdtemp(prefix="cnscd-html-")
    os.environ.pop("DATABASE_URL", None)
    try:
        _snapshot(out, db_dir, time_machine)
    finally:
        shutil.rmtree(db_dir, ignore_errors=True)


def _snapshot(out: Path, db_dir: str, time_machine) -> None:
    with time_machine.travel(STOPPED_AT, tick=False):
        from flask_migrate import upgrade

        from app import create_app
        from app.demo.seed import DEMO_PASSWORD, seed_demo
        from app.extensions import db
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_dir}/demo.db",
                          "SECRET_KEY": "html-snapshot", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                          "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
                          "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"})
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.remove()
        total = 0
        for username, locale in ACCOUNTS:
            pages = crawl(app, username, DEMO_PASSWORD, locale)
            folder = out / (username if locale == "vi" else f"{username}@{locale}")
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.html"):
                old.unlink()
            for key, text in pages.items():
                (folder / _file_name(key)).write_text(text, encoding="utf-8")
            (folder / "_index.txt").write_text("".join(f"{k}\t{_file_name(k)}\n" for k in pages),
                                               encoding="utf-8")
            total += len(pages)
            print(f"{folder.name}: {len(pages)} pages")
        print(f"{total} pages in {out}")


def compare(a: Path, b: Path, lines: int = 12) -> int:
    differ = 0
    users = sorted({p.name for p in a.iterdir() if p.is_dir()} | {p.name for p in b.iterdir() if p.is_dir()})
    for user in users:
        files_a = {p.name for p in (a / user).glob("*.html")} if (a / user).is_dir() else set()
        files_b = {p.name for p in (b / user).glob("*.html")} if (b / user).is_dir() else set()
        for name in sorted(files_a - files_b):
            differ += 1
            print(f"{user}/{name}: only in {a}")
        for name in sorted(files_b - files_a):
            differ += 1
            print(f"{user}/{name}: only in {b}")
        for name in sorted(files_a & files_b):
            text_a = (a / user / name).read_text(encoding="utf-8").splitlines()
            text_b = (b / user / name).read_text(encoding="utf-8").splitlines()
            if text_a != text_b:
                differ += 1
                diff = list(difflib.unified_diff(text_a, text_b, f"{a}/{user}/{name}", f"{b}/{user}/{name}",
                                                 n=1, lineterm=""))
                print(f"{user}/{name}: differs")
                print("\n".join("    " + line for line in diff[:lines]))
                if len(diff) > lines:
                    print(f"    … {len(diff) - lines} more diff lines")
    compared = sum(len(list((a / u).glob("*.html"))) for u in users if (a / u).is_dir())
    print(f"{differ} of {compared} pages differ" if differ else f"all {compared} pages are the same")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", help="folder to write the pages to")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two snapshot folders")
    args = parser.parse_args()
    if args.compare:
        return compare(Path(args.compare[0]), Path(args.compare[1]))
    if not args.out:
        parser.error("give an output folder, or --compare A B")
    snapshot(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
