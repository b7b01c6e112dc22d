"""The `field` macro's inputs and textareas (app/widgets.py) are what WTForms itself writes."""
import pytest
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import AppForm, CountField, LocalDateField
from app.widgets import render
from tests.visits_helpers import form

AWKWARD = 'Nguyễn Thị "Lan" <b>&amp;</b> \'Bà Tư\''


class Everything(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Họ và tên", validators=[DataRequired(), Length(max=200)])
    phone = TelField("Số điện thoại", validators=[Optional(), Length(min=9, max=12)])
    email = EmailField("Email")
    found = SearchField("Tìm")
    note = TextAreaField("Ghi chú", validators=[Length(max=2000)])
    required_note = TextAreaField("Lý do", validators=[InputRequired()])
    day = DateField("Ngày")
    local_day = LocalDateField("Ngày thăm", validators=[DataRequired()])
    count = CountField("Số hộ")
    hidden = HiddenField()
    styled = StringField("Có sẵn thuộc tính", render_kw={"class_": "wide", "data_role": "x", "placeholder": AWKWARD})
    # Not inputs the fast path writes: WTForms' own widget, the same call.
    number = IntegerField("Số")
    secret = PasswordField("Mật khẩu")
    choice = SelectField("Ấp", choices=[SelectChoice("1", "Ấp Mỹ Lợi"), SelectChoice("2", AWKWARD)])


class AppEverything(Everything, AppForm):
    """The same fields in one of the app's forms, whose Meta writes them (app.widgets.FastRendering)."""

    class Meta:
        csrf = True


ATTRS = [
    {},
    {"maxlength": 200, "autocomplete": "off"},
    {"type": "tel", "inputmode": "tel", "required": True, "disabled": False},
    {"class_": "big", "aria_describedby": "x-error", "aria-invalid": "true", "data_x_y": AWKWARD},
    {"hx-get": "/visits/options?q=<a>&mode=similar", "hx-target": "#new-matches", "rows": 3},
    {"id": "other-id", "value": AWKWARD, "placeholder": Markup("<i>đã là HTML</i>")},
    {"max": "2026-12-03", "min": "2025-07-01", "maxlength": None},
]

FORMDATA = [
    MultiDict(),
    MultiDict({"name": AWKWARD, "phone": "09 12 <34>", "email": "a&b@x.vn", "found": '"q"', "note": AWKWARD + "\r\nhai",
               "required_note": "", "day": "2026-13-01", "local_day": "03/12/2026", "count": "1.851 hộ",
               "hidden": AWKWARD, "styled": "đ", "number": "mười", "secret": "s", "choice": "2"}),
]


@pytest.mark.parametrize("data", FORMDATA, ids=["blank", "typed and refused"])
@pytest.mark.parametrize("attrs", ATTRS, ids=range(len(ATTRS)))
def test_every_field_renders_as_wtforms_writes_it(app, data, attrs):
    with app.test_request_context():
        form = Everything(formdata=data)
        if data:
            form.validate()
        for field in form:
            assert render(field, dict(attrs)) == field(**attrs), field.name


@pytest.mark.parametrize("data", FORMDATA, ids=["blank", "typed and refused"])
@pytest.mark.parametrize("attrs", ATTRS, ids=range(len(ATTRS)))
def test_the_app_s_forms_write_every_field_as_wtforms_widgets_do(app, data, attrs):
    with app.test_request_context():
        form = AppEverything(formdata=data)
        if data:
            form.validate()
        assert "csrf_token" in form._fields
        wtforms = DefaultMeta()  # WTForms' own rendering: its widget, with the field's render_kw
        for field in form:
            assert field(**attrs) == wtforms.render_field(field, attrs), field.name
            assert render(field, dict(attrs)) == wtforms.render_field(field, attrs), field.name
        hidden = [wtforms.render_field(f, {}) for f in form if f.type in ("HiddenField", "CSRFTokenField")]
        assert form.hidden_tag() == Markup("\n".join(hidden))


def test_a_form_with_its_own_field_rendering_keeps_it(app):
    class Upper(FlaskForm):
        class Meta:
            csrf = False

            def render_field(self, field, render_kw):
                return Markup(super().render_field(field, render_kw).upper())

        name = StringField("Tên")

    with app.test_request_context():
        form = Upper(formdata=MultiDict({"name": "an"}))
        expected = '<INPUT ID="NAME" MAXLENGTH="5" NAME="NAME" TYPE="TEXT" VALUE="AN">'
        assert render(form.name, {"maxlength": 5}) == expected


def test_the_visit_form_s_fields_carry_the_user_s_input_escaped(db, leader):
    # A new household without its members or services: refused, and the form shows what was typed.
    resp = leader.post("/visits/new", data=form("new", new_name=AWKWARD, note="<script>x</script>", save="1"))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'value="Nguyễn Thị &#34;Lan&#34; &lt;b&gt;&amp;amp;&lt;/b&gt; &#39;Bà Tư&#39;"' in html
    assert "&lt;script&gt;x&lt;/script&gt;</textarea>" in html
    assert "<script>x</script>" not in html


def test_a_field_given_a_name_of_its_own_is_refused_as_wtforms_refuses_it(app):
    # WTForms writes the field's own name: asked for another one, it raises; the app's forms say the same.
    with app.test_request_context():
        form = AppEverything()
        for field in (form.name, form.note, form.hidden):
            with pytest.raises(TypeError, match="multiple values for keyword argument 'name'"):
                field(name="khac")
            with pytest.raises(TypeError, match="multiple values for keyword argument 'name'"):
                render(field, {"name": "khac"})
