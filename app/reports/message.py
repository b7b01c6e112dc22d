"""A summary's headline figures as a short plain-text message, for the unit's Zalo group.

Officers pass the month's (or the quarter's) figures on in the group chats teams coordinate in
(DOMAIN.md). The message says, for the unit as a whole, what the summary's tables say in their total
row, in the same words and the same locale's numbers; the tables stay the record.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.reports.summary import Summary
from app.templating import locale_number, locale_percent, target_percent


def summary_message(summary: Summary, service_name) -> str:
    w, t = summary.words, summary.total
    n = locale_number
    lines = [f"{w['title_of'](summary.unit['name'])} ({summary.period.shown})"]
    lines.append(f"- {w['visits']}: {n(t['visits'])}")
    lines.append(f"- {w['reached']}: {n(t['reached_month'])}")
    lines.append(f"- {w['active_teams']}: " + _("%(active)s of %(teams)s", active=n(t["active_teams"]),
                                                    teams=n(t["teams"])))
    if summary.adult_targets is not None:  # None: a month closed before the adult figures existed
        adults = t.get("adults") or {}
        lines.append(f"- {w['attendances_long']}: {n(adults.get('attendances') or 0)}")
        if adults.get("online"):
            lines.append(f"- {w['online_long']}: {n(adults['online'])}")
    if t["households"]:
        lines.append(f"- {_('Reach')}: " + _("%(reached)s of %(households)s households (%(share)s)",
                                               reached=n(t["reached"]), households=n(t["households"]),
                                               share=locale_percent(t["reach_share"])))
    if summary.services:
        lines.append(f"{w['coverage']}:")
        for s, figure in zip(summary.services, t["services"]):
            line = f"+ {service_name(s)}: {locale_percent(figure['coverage'])}"
            if s.get("target_share") is not None:
                line += " (" + _("target %(share)s", share=target_percent(s["target_share"])) + ")"
            if figure["new"]:
                line += ", " + _("%(n)s new", n=n(figure["new"]))
            lines.append(line)
    return "\n".join(lines)
