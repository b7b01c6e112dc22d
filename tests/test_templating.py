"""The number, percent and date filters (tests/test_numbers.py holds the numbers to Babel), and the layout macros."""
from datetime import date


def test_filters_in_a_request_follow_the_user_language(app):
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ n|number }} {{ s|percent }} {{ d|date }} {{ d|date('MM/yyyy') }}").render
        assert render(n=1851, s=0.4471, d=date(2024, 5, 23)) == "1.851 44,7% 23/05/2024 05/2024"


def test_a_section_shows_its_list_or_else_only_its_empty_message(app):
    with app.test_request_context():
        render = app.jinja_env.from_string(
            '{% from "_macros.html" import list_or_empty %}'
            '{% call list_or_empty(items, "Nothing yet.") %}<ul>{% for i in items %}<li>{{ i }}</li>{% endfor %}</ul>'
            '{% endcall %}').render
        assert " ".join(render(items=["a", "b"]).split()) == "<ul><li>a</li><li>b</li></ul>"
        assert " ".join(render(items=[]).split()) == "<p>Nothing yet.</p>"
