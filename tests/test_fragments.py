"""Fragment or whole page: an htmx swap gets the fragment, a plain request or a history restore the page."""
import pytest

from app.fragments import wants_fragment

HTMX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def test_only_an_htmx_swap_of_the_named_target_wants_a_fragment(app):
    cases = [({}, None, False), (HTMX, None, True), (HTMX | {"HX-Target": "rows"}, "rows", True),
             (HTMX | {"HX-Target": "other"}, "rows", False), (HTMX, "rows", False),
             (RESTORE | {"HX-Target": "rows"}, "rows", False), (RESTORE, None, False)]
    for headers, target, expected in cases:
        with app.test_request_context("/", headers=headers):
            assert wants_fragment(target) is expected, (headers, target)


@pytest.mark.parametrize("path, target", [
    ("/households/?q=an", "households"),
    ("/teams/unit/{commune}?q=khu", "team-rows"),
    ("/units/{commune}?q=khu", "children"),
    ("/audit/", "events"),
    ("/coverage/{commune}", None),
])
def test_a_history_restore_gets_the_whole_page_where_a_swap_gets_the_fragment(db, tree, client, login_as,
                                                                                path, target):
    """Back after the page fell out of htmx's history cache: the address's whole page, not the part
    htmx swapped into it, which would then stand alone without the menu or styles."""
    login_as("district", tree.district)
    url = path.format(commune=tree.commune.id)
    swap = HTMX | ({"HX-Target": target} if target else {})
    fragment = client.get(url, headers=swap)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    page = client.get(url, headers=swap | RESTORE)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


def test_an_error_during_a_history_restore_is_a_whole_page(db, tree, client, login_as):
    login_as("district", tree.district)
    assert "<html" not in client.get("/households/999999", headers=HTMX).get_data(as_text=True)
    resp = client.get("/households/999999", headers=RESTORE)
    assert resp.status_code == 404 and "<html" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path, target, title", [
    ("/coverage/{commune}", None, "Độ phủ · Phường I · Tổ công nghệ số cộng đồng"),
    ("/audit/", "events", "Nhật ký thay đổi · Tổ công nghệ số cộng đồng"),
    ("/households/999999", None, "Không tìm thấy · Tổ công nghệ số cộng đồng"),
])
def test_a_swapped_page_brings_its_title_for_the_browser_tab(db, tree, client, login_as, path, target, title):
    """htmx 2 sets document.title from a <title> at the top of what it swaps in: without one the tab, the
    history entry and a screen reader kept the page one came from (Độ phủ · Phường III after opening Phường I)."""
    login_as("district", tree.district)
    swap = HTMX | ({"HX-Target": target} if target else {})
    html = client.get(path.format(commune=tree.commune.id), headers=swap).get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith(f"<title>{title}</title>")
