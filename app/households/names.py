"""Households shown by name where a choice must not be a guess: two households whose heads share a name (a
common thing with Vietnamese names) are told apart, as members are (app/teams/names.py)."""
from collections import Counter

from flask_babel import gettext as _

from app.text import clean


def telling_apart(households) -> dict[int, str]:
    """Labels for the households (with .id, .display_name, .address, .phone) whose shown name another in the list
    shares: the address when it differs from the others', else the phone's last three digits, else the order
    in which they were registered. The others keep their name alone (not in the result)."""
    counts = Counter(h.display_name for h in households)
    labels = {}
    for name in {h.display_name for h in households if counts[h.display_name] > 1}:
        same = sorted((h for h in households if h.display_name == name), key=lambda h: h.id)
        addresses = Counter(clean(h.address or "").casefold() for h in same)
        tails = Counter((h.phone or "")[-3:] for h in same)
        for order, h in enumerate(same, start=1):
            address, phone = clean(h.address or ""), h.phone or ""
            if address and addresses[address.casefold()] == 1:
                labels[h.id] = _("%(name)s (%(address)s)", name=name, address=address)
            elif phone and tails[phone[-3:]] == 1:
                labels[h.id] = _("%(name)s (mobile …%(digits)s)", name=name, digits=phone[-3:])
            else:
                labels[h.id] = _("%(name)s (no. %(n)d of that name)", name=name, n=order)
    return labels
