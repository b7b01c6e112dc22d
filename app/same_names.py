"""People shown by name where a tick or a choice must not be a guess: two of the same name in one list (a common
thing with Vietnamese names) are told apart by a fact of their own, else by their phone, else by their order.
Members (app/teams/names.py) by their year of birth, heads of households (app/households/names.py) by address."""
from collections import Counter

from flask_babel import gettext as _


def tell_apart(entries, fact_label) -> dict[int, str]:
    """Labels for the entries (id, name, fact, phone) whose name another entry shares: `fact_label(id, name, fact)`
    when no other of that name has the same fact (compared as given: fold it first to compare loosely), else the
    phone's last three digits, else the order of their ids. The others keep their name alone (not in the result)."""
    entries = list(entries)
    counts = Counter(name for _id, name, _fact, _phone in entries)
    labels = {}
    for name in {name for _id, name, _fact, _phone in entries if counts[name] > 1}:
        same = sorted((e for e in entries if e[1] == name), key=lambda e: e[0])
        facts = Counter(fact for _id, _name, fact, _phone in same)
        tails = Counter((phone or "")[-3:] for _id, _name, _fact, phone in same)
        for order, (entry_id, _name, fact, phone) in enumerate(same, start=1):
            phone = phone or ""
            if fact and facts[fact] == 1:
                labels[entry_id] = fact_label(entry_id, name, fact)
            elif phone and tails[phone[-3:]] == 1:
                labels[entry_id] = _("%(name)s (mobile …%(digits)s)", name=name, digits=phone[-3:])
            else:
                labels[entry_id] = _("%(name)s (no. %(n)d of that name)", name=name, n=order)
    return labels
