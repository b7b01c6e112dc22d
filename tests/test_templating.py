"""The number, percent and date filters (tests/test_numbers.py holds the numbers to Babel)."""
from datetime import date


def test_filters_in_a_request_follow_the_user_language(app):
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ n|number }} {{ s|percent }} {{ d|date }} {{ d|date('MM/yyyy') }}").render
        assert render(n=1851, s=0.4471, d=date(2024, 5, 23)) == "1.851 44,7% 23/05/2024 05/2024"
