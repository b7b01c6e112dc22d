"""The CSP forbids inline styles: no template, page or htmx partial may carry a style attribute or element."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"
INLINE = re.compile(r"""\sstyle\s*=|<style[\s>]""", re.IGNORECASE)


def test_no_template_holds_an_inline_style():
    offenders = [str(p.relative_to(TEMPLATES)) for p in sorted(TEMPLATES.rglob("*.html"))
                 if INLINE.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_team_page_with_its_quick_member_add_has_no_inline_style(tree, login_as, client):
    from tests.visits_helpers import make_team
    team, _members = make_team(tree.commune, [tree.hamlet])
    login_as("commune", tree.commune)
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert 'id="member-full_name"' in page  # the quick add form is there
    added = client.post(f"/teams/{team.id}/members", headers={"HX-Request": "true"},
                        data={"member-full_name": "Nguyễn Thị Thử", "member-phone": "0977123457",
                              "member-role": "member", "member-affiliation": "other",
                              "member-joined_on": "2024-05-01"})
    assert added.status_code < 500
    for html in (page, added.get_data(as_text=True)):
        assert not INLINE.search(html)
