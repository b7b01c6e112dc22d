"""Households shown by name where a choice must not be a guess: two households whose heads share a name (a
common thing with Vietnamese names) are told apart, as members are (app/same_names.py)."""
from flask_babel import gettext as _

from app.same_names import tell_apart
from app.text import clean


def telling_apart(households) -> dict[int, str]:
    """Labels for the households (with .id, .display_name, .address, .phone) whose shown name another in the list
    shares: the address when it differs from the others' (case aside), else the phone's last three digits, else
    the order in which they were registered. The others keep their name alone (not in the result)."""
    addresses = {h.id: clean(h.address or "") for h in households}
    return tell_apart(((h.id, h.display_name, addresses[h.id].casefold(), h.phone) for h in households),
                      lambda i, name, _folded: _("%(name)s (%(address)s)", name=name, address=addresses[i]))
