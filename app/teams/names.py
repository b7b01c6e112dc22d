"""Members shown by name where a tick or a choice must not be a guess: two people of the same name in one list
(a common thing with Vietnamese names, and one the member forms allow once asked) are told apart."""
from collections import Counter

import sqlalchemy as sa
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.teams.models import Member


def telling_apart(members) -> dict[int, str]:
    """Labels for the members (anything with .id and .full_name) whose name another in the list shares: the
    year of birth when it differs from the others', else the mobile number's last three digits, else the
    order in which they were registered. The others keep their name alone (not in the result)."""
    counts = Counter(m.full_name for m in members)
    shared = [m for m in members if counts[m.full_name] > 1]
    if not shared:
        return {}
    facts = {member_id: (year, phone or "") for member_id, year, phone in db.session.execute(
        sa.select(Member.id, Member.birth_year, Member.phone).where(Member.id.in_([m.id for m in shared])))}
    labels = {}
    for name in {m.full_name for m in shared}:
        ids = sorted(m.id for m in shared if m.full_name == name)
        years = Counter(facts[i][0] for i in ids)
        tails = Counter(facts[i][1][-3:] for i in ids)
        for order, member_id in enumerate(ids, start=1):
            year, phone = facts[member_id]
            if year and years[year] == 1:
                labels[member_id] = _("%(name)s (born %(year)s)", name=name, year=year)
            elif phone and tails[phone[-3:]] == 1:
                labels[member_id] = _("%(name)s (mobile …%(digits)s)", name=name, digits=phone[-3:])
            else:
                labels[member_id] = _("%(name)s (no. %(n)d of that name)", name=name, n=order)
    return labels


def member_choices(members) -> list[SelectChoice]:
    """A form's choices of members, each told apart from another of the same name."""
    labels = telling_apart(members)
    return [SelectChoice(m.id, labels.get(m.id, m.full_name)) for m in members]
