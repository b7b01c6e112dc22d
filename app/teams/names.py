"""Members shown by name where a tick or a choice must not be a guess: two people of the same name in one list
(a common thing with Vietnamese names, and one the member forms allow once asked) are told apart."""
from collections import Counter

import sqlalchemy as sa
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.same_names import tell_apart
from app.teams.models import Member


def telling_apart(members) -> dict[int, str]:
    """Labels for the members (anything with .id and .full_name) whose name another in the list shares: the
    year of birth when it differs from the others', else the mobile number's last three digits, else the
    order in which they were registered (app/same_names.py). The others keep their name alone (not in the result)."""
    counts = Counter(m.full_name for m in members)
    shared = [m for m in members if counts[m.full_name] > 1]
    if not shared:
        return {}
    facts = {member_id: (year, phone) for member_id, year, phone in db.session.execute(
        sa.select(Member.id, Member.birth_year, Member.phone).where(Member.id.in_([m.id for m in shared])))}
    return tell_apart(((m.id, m.full_name, *facts[m.id]) for m in shared),
                      lambda _i, name, year: _("%(name)s (born %(year)s)", name=name, year=year))


def member_choices(members) -> list[SelectChoice]:
    """A form's choices of members, each told apart from another of the same name."""
    labels = telling_apart(members)
    return [SelectChoice(m.id, labels.get(m.id, m.full_name)) for m in members]
