"""Fragment or whole page: the one place a view asks whether htmx swaps part of the page."""
from flask import current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup


def wants_fragment(target: str | None = None) -> bool:
    """An htmx request that swaps part of the page (the element with id `target`, when given).

    A history restore (the page was not in htmx's history cache) needs the whole page again."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def page_title(page_template: str, **context) -> Markup:
    """The document title the page would have, as base.html writes it: its `title` block, then the app's name."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_template(page_template)
    app.update_template_context(context)
    block = Markup("").join(template.blocks["title"](template.new_context(context)))
    return Markup("{} · {}").format(block, _("Digital technology teams"))


def render_page(page_template: str, fragment_template: str, /, *, target: str | None = None, **context) -> str:
    """The fragment template for an htmx swap (of `target`), else the page that includes it.

    The fragment starts with the page's <title>: htmx 2 takes it for document.title, so the tab, the
    history entry and a screen reader name the page now shown, not the one it replaced."""
    if not wants_fragment(target):
        return render_template(page_template, **context)
    title = page_title(page_template, **context)
    return f"<title>{title}</title>\n" + render_template(fragment_template, **context)
