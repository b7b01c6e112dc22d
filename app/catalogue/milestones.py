"""One milestone of a province's target changed from a form (a service's target, an adult indicator's): which one
the form changes, and what stops it being saved as typed. Used by app/catalogue/views.py and app/coverage/views.py.

A form says the milestone it changes in a hidden field: a milestone's id (the one in force, or one of the list by
its Edit link) or NEW to add one; a new date moves that milestone rather than adding a second. A form sent without
the field (one of before) keeps the old rule: the date names the milestone, another date adds one."""
from datetime import date

from flask_babel import gettext as _

from app.catalogue.operations import milestone_on
from app.forms import record_id
from app.templating import locale_date, target_percent

NEW = "new"


def edited_milestone(milestones: list, asked: str | None, today: date):
    """The milestone the target fields change: the one asked for by id (a link of the list, the form's hidden
    field), none for a new one, else the one in force today."""
    if asked == NEW:
        return None
    if asked:
        return next((t for t in milestones if t.id == record_id(asked)), None)
    return milestone_on(milestones, today)


def milestone_problem(share, due: date | None, asked: str | None, confirmed: str | None, milestones: list,
                      edited, today: date) -> tuple[str, int] | None:
    """Why the share and date cannot be saved as they are (400), or the question to ask first (409). `asked` is
    what the form's hidden field says it changes, `confirmed` the past date it was asked about before."""
    if due is None:
        return None
    other = next((t for t in milestones if t.due_on == due and t is not edited), None)
    if other is not None and (edited is not None or asked == NEW):
        # Moved or added onto another milestone's date: two milestones cannot share a day.
        return _("There is already a milestone on %(date)s (%(share)s): change that one in the list, or choose "
                 "another date.", date=locale_date(due), share=target_percent(other.share)), 400
    moved = edited is None or edited.due_on != due
    if share is not None and due < today and moved and other is None and confirmed != due.isoformat():
        # A date already past is kept for history (months before it are shown against it), but a new
        # milestone is almost always a date to come: a slip of the year, most likely.
        return _("%(date)s has already passed: a milestone is usually a date to come. To record a past "
                 "milestone all the same (the months before it are shown against it), save again.",
                 date=locale_date(due)), 409
    return None
