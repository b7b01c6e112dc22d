"""The Vietnamese catalogue against the code: every string the code marks is translated, and every
translated string is still found by extraction (a string the extractor cannot see would be dropped
as obsolete by the next `make update-messages`, and show in English from then on)."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _vietnamese():
    with open(ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale="vi")


def test_every_marked_string_has_a_vietnamese_translation():
    catalogue = _vietnamese()
    missing = sorted(m for m in _extracted() if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []


def test_every_vietnamese_string_is_still_found_by_extraction():
    extracted = _extracted()
    # Iterating a catalogue leaves out its obsolete entries.
    ids = [m.id if isinstance(m.id, str) else m.id[0] for m in _vietnamese() if m.id]
    stale = sorted(i for i in ids if i not in extracted)
    assert stale == []


def test_wtforms_own_messages_are_translated():
    # WTForms ships no Vietnamese: its validators' and fields' default messages come from this catalogue
    # (app/wtforms_messages.py, app.forms.AppForm), each message of the installed WTForms.
    from wtforms.i18n import messages_path
    with open(Path(messages_path()) / "wtforms.pot", "rb") as f:
        theirs = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id]
    catalogue = _vietnamese()
    assert theirs and sorted(i for i in theirs if not (catalogue.get(i) and catalogue.get(i).string)) == []


def test_every_form_asks_this_catalogue_for_wtforms_messages():
    import importlib
    import pkgutil

    import wtforms

    import app
    from app.forms import AppForm, PlainForm
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    ours = [c for c in subclasses(wtforms.Form) if c.__module__.startswith("app.")]
    assert len(ours) > 20
    assert [c.__qualname__ for c in ours if not issubclass(c, (AppForm, PlainForm))] == []


def test_a_language_changed_within_a_request_is_followed(app):
    """The catalogue is found once per request (app/extensions.py), yet a language changed within it, by
    force_locale (the error page that needs no database) or by refresh() after the choice changed, is
    followed, in Python and in templates, and the request's own language comes back after force_locale."""
    from flask import render_template_string, session
    from flask_babel import force_locale, gettext, refresh

    def said():
        return gettext("Sign out"), render_template_string("{{ _('Sign out') }}")

    with app.test_request_context("/"):
        session["locale"] = "vi"
        assert said() == ("Đăng xuất", "Đăng xuất")
        with force_locale("en"):
            assert said() == ("Sign out", "Sign out")
        assert said() == ("Đăng xuất", "Đăng xuất")
        session["locale"] = "en"
        assert said() == ("Đăng xuất", "Đăng xuất")  # kept for the request, as Flask-Babel keeps the locale
        refresh()
        assert said() == ("Sign out", "Sign out")
        with force_locale("vi"):
            assert said() == ("Đăng xuất", "Đăng xuất")
        assert said() == ("Sign out", "Sign out")
