"""Fragment or whole page: the one place a view asks whether htmx swaps part of the page."""
from flask import render_template, request


def wants_fragment(target: str | None = None) -> bool:
    """An htmx request that swaps part of the page (the element with id `target`, when given).

    A history restore (the page was not in htmx's history cache) needs the whole page again."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def render_page(page_template: str, fragment_template: str, /, *, target: str | None = None, **context) -> str:
    """The fragment template for an htmx swap (of `target`), else the page that includes it."""
    return render_template(fragment_template if wants_fragment(target) else page_template, **context)
