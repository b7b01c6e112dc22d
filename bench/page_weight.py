"""What a team member's phone downloads for the visit form: first load (empty cache) and repeat load.

    PYTHONPATH=. .venv/bin/python bench/page_weight.py

Seeds the demo into a throwaway SQLite database, serves the app on 127.0.0.1 and drives Debian's
Chromium (/usr/bin/chromium) at 360×740: signs in as demo-member, then opens the visit form in a
browser with an empty cache and again with its cache, and prints the bytes on the wire per file
(compressed as served; a file taken from the cache counts 0). Goals: first load under 50 KB,
repeat load under 5 KB.
"""
import os
import tempfile
import threading

from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


def _load(page, url: str) -> list[tuple[str, int]]:
    sizes: list[tuple[str, int]] = []

    def finished(request):
        sizes.append((request.url.rsplit("/", 1)[-1], max(request.sizes()["responseBodySize"], 0)))

    # The context sees the page's requests and its service worker's (a page the worker answers reports 0).
    page.context.on("requestfinished", finished)
    page.goto(url, wait_until="networkidle")
    page.context.remove_listener("requestfinished", finished)
    return sizes


def main() -> None:
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from app import create_app
    path = os.path.join(tempfile.mkdtemp(prefix="bench-weight-"), "w.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        from app.demo.seed import DEMO_PASSWORD, seed_demo
        seed_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        viewport = {"width": 360, "height": 740}
        signing = browser.new_context(viewport=viewport, locale="vi-VN")
        page = signing.new_page()
        page.goto(f"{base}/auth/login")
        page.fill("#username", "demo-member")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button.primary")
        page.wait_for_load_state()
        context = browser.new_context(storage_state=signing.storage_state(), viewport=viewport, locale="vi-VN",
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        for label in ("first load", "repeat load"):
            sizes = _load(page, f"{base}/visits/new")
            total = sum(n for _, n in sizes)
            files = ", ".join(f"{name.split('?')[0] or '/'} {n / 1000:.1f}" for name, n in sizes)
            print(f"visit form {label}: {total / 1000:.1f} KB ({files})")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
