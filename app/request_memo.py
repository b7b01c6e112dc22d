"""What one request reads once and asks for several times (a page's table and trend share the services
and targets, the unit's subtree, the tree token): kept in flask.g for the request, dropped when it ends.

Dropped at the request's teardown, not left to the application context's end: a test client's requests
run inside the test's application context, and would otherwise share what each one read."""
from flask import Flask, g, has_request_context


def per_request(key, load):
    """load() once per request for `key` (every call outside a request)."""
    if not has_request_context():
        return load()
    memo = g.setdefault("request_memo", {})
    if key not in memo:
        memo[key] = load()
    return memo[key]


def remember(key, value) -> None:
    """What per_request(key, ...) gives for the rest of the request, read along with something else."""
    if has_request_context():
        g.setdefault("request_memo", {})[key] = value


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _forget(_error=None) -> None:
        g.pop("request_memo", None)
