"""The version an edit form carries (app/versions.py), read from its page as a browser would send it back."""
from urllib.parse import urlencode

from tests.html_tree import parse


def version_on(client, url: str, name: str = "version") -> str:
    """The hidden `name` field of the page at `url` (opened by `client`, as whoever is signed in there)."""
    return _versions(client, url)[name]


def with_version(client, url: str, data: dict, name: str | None = None) -> dict:
    """`data` and the version of the form at `url`: a save made by someone who just opened the form. Without a
    `name`, the version field of the form the data's names belong to (`count-…`: `count-version`)."""
    versions = _versions(client, url)
    if name is None:
        keys = [str(k) for k in data]
        name = next((n for n in versions if n != "version" and any(k.startswith(n[:-len("version")]) for k in keys)),
                    "version")
    return {**data, name: versions[name]}


def _versions(client, url: str, must: bool = True) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    found = {e.attrs["name"]: e.attrs.get("value", "")
             for e in parse(page.get_data(as_text=True)).find_all("input")
             if e.attrs.get("name", "").endswith("version")}
    assert found or not must, f"no version field on {url}"
    return found


def opened_total(client, data: dict) -> dict:
    """`data` for the commune's dossier form and the version of that form opened on its month (and commune), as an
    officer who opened the month's page sends it; unchanged where the page does not open (another unit's)."""
    args = {k: data[k] for k in ("month", "commune") if data.get(k)}
    url = "/activities/dossiers" + (f"?{urlencode(args)}" if args else "")
    if client.get(url).status_code != 200:
        return data
    return with_version(client, url, data)


def post_total(client, data: dict, **kwargs):
    """The commune's dossier form opened on the data's month, then sent (`opened_total`)."""
    return client.post("/activities/dossiers", data=opened_total(client, data), **kwargs)


def post_opened(client, url: str, data: dict, page: str | None = None, **kwargs):
    """The form at `url` (on the page at `page`, when it is sent elsewhere) opened, then sent with `data` and the
    version it was opened on (as is, where the page does not open, another unit's, or does not offer the form)."""
    page = page or url
    if client.get(page).status_code == 200 and _versions(client, page, must=False):
        data = with_version(client, page, data)
    return client.post(url, data=data, **kwargs)
