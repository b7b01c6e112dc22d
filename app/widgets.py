"""A form field's <input> or <textarea> written as WTForms writes it, without WTForms' string.Formatter
run for every attribute and its dir() of the field's flags (`field.widget(field, **attrs)` is the plain
way); any other widget is WTForms' own.

Every form of the app renders its fields this way (`FastRendering`, the Meta of app.forms.AppForm and
PlainForm: `{{ form.x }}`, `form.x(...)`, `hidden_tag()`), and so does the `field` macro
(templates/_macros.html, through `render`). tests/test_widgets.py holds both to WTForms' own widget byte
for byte. A hidden input cost ~39 µs through WTForms and ~4 µs here: the visit form has two."""
from markupsafe import Markup, escape
from wtforms.meta import DefaultMeta
from wtforms.widgets import Input, TextArea
from wtforms.widgets.core import clean_key


def _attributes(attrs: dict) -> str:
    """WTForms' html_params: sorted by name, True written bare, False left out, values escaped."""
    written = []
    for key, value in sorted(attrs.items()):
        if value is True:
            written.append(str(escape(clean_key(key))))
        elif value is not False:
            written.append(f'{escape(clean_key(key))}="{escape(value)}"')
    return " ".join(written)


def _plain_input(widget) -> bool:
    return type(widget).__call__ is Input.__call__


def written(field, attrs: dict) -> Markup | None:
    """field.widget(field, **attrs) for an input or a textarea of WTForms' own widgets; None for any other."""
    widget = field.widget
    textarea = type(widget) is TextArea
    if not (textarea or _plain_input(widget)) or getattr(field, "_datalist", None) is not None:
        return None
    kwargs = {clean_key(k): v for k, v in attrs.items()}
    if field.render_kw is not None:
        kwargs = dict({clean_key(k): v for k, v in field.render_kw.items()}, **kwargs)
    if "name" in kwargs:  # WTForms refuses it (name= twice); let it say so
        return None
    kwargs.setdefault("id", field.id)
    if not textarea:
        kwargs.setdefault("type", widget.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
    flags = vars(field.flags)
    for name in widget.validation_attrs:
        if name in flags and name not in kwargs:
            value = flags[name]
            kwargs[name] = value() if callable(value) and not textarea else value
    kwargs["name"] = field.name
    if textarea:
        return Markup(f"<textarea {_attributes(kwargs)}>\r\n{escape(field._value())}</textarea>")
    return Markup(f"<input {_attributes(kwargs)}>")


class FastRendering:
    """A form Meta's field rendering through `written` where it applies, else WTForms' own."""

    def render_field(self, field, render_kw):
        found = written(field, render_kw)
        return found if found is not None else DefaultMeta.render_field(self, field, render_kw)


_PLAIN_RENDERING = (DefaultMeta.render_field, FastRendering.render_field)


def render(field, attrs: dict) -> Markup:
    """field(**attrs), for a field whose form renders fields WTForms' way (a form with a rendering of
    its own keeps it)."""
    if type(field.meta).render_field in _PLAIN_RENDERING:
        found = written(field, attrs)
        if found is not None:
            return found
    return field(**attrs)
