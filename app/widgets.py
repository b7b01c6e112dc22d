"""A form field's <input> or <textarea> written as WTForms writes it, without WTForms' string.Formatter
run for every attribute (`field(**attrs)` is the plain way); any other widget is WTForms' own.

The `field` macro (templates/_macros.html) renders every text, date, number and note field through
`render`; tests/test_widgets.py holds it to `field(**attrs)` byte for byte."""
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


def render(field, attrs: dict) -> Markup:
    """field(**attrs), for an input or a textarea rendered by WTForms' default meta."""
    widget = field.widget
    textarea = type(widget) is TextArea
    if (not (textarea or _plain_input(widget)) or type(field.meta).render_field is not DefaultMeta.render_field
            or getattr(field, "_datalist", None) is not None):
        return field(**attrs)
    kwargs = {clean_key(k): v for k, v in attrs.items()}
    if field.render_kw is not None:
        kwargs = dict({clean_key(k): v for k, v in field.render_kw.items()}, **kwargs)
    if "name" in kwargs:  # WTForms refuses it (name= twice); let it say so
        return field(**attrs)
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
