"""The household registry: add, edit, find, flag possible duplicates and merge them."""
import sqlalchemy as sa

from app.audit.models import record
from app.extensions import db
from app.households.models import Household
from app.text import fold


def _snapshot(h: Household) -> dict:
    return {"head_name": h.head_name, "address": h.address, "phone": h.phone, "size": h.size,
            "hamlet_id": h.hamlet_id}


def editable(h: Household) -> dict:
    """What the household's edit form changes, by its fields' names (its version, app/versions.py)."""
    return {"head_name": h.head_name, "address": h.address, "phone": h.phone, "size": h.size}


def create_household(hamlet_id: int, head_name: str, address: str = "", phone: str = "",
                     size: int | None = None, user=None) -> Household:
    household = Household(hamlet_id=hamlet_id, head_name=head_name, head_name_folded=fold(head_name),
                          address=address or "", phone=phone or "", size=size,
                          created_by_id=user.id if user is not None else None)
    db.session.add(household)
    db.session.flush()
    record("create", "household", household.id, hamlet_id, after=_snapshot(household), user=user)
    return household


def update_household(household: Household, user=None, **changes) -> None:
    before = _snapshot(household)
    for key, value in changes.items():
        setattr(household, key, value)
    household.head_name_folded = fold(household.head_name)
    record("update", "household", household.id, household.hamlet_id, before=before,
           after=_snapshot(household), user=user)


def search(query: sa.Select, text: str, hamlet_ids: list[int] | None = None, limit: int = 8) -> list[Household]:
    """Households of a (scoped) query whose head's name contains the text, without diacritics."""
    # Erased households are found through their visits only, never by a name or in the registry list.
    q = query.where(Household.merged_into_id.is_(None), Household.erased_at.is_(None))
    key = fold(text)
    if key:
        q = q.where(Household.head_name_folded.contains(key, autoescape=True))
    if hamlet_ids is not None:
        q = q.where(Household.hamlet_id.in_(hamlet_ids))
    return list(db.session.scalars(q.order_by(Household.head_name_folded, Household.id).limit(limit)))


def duplicate_ids(households: list[Household]) -> set[int]:
    """Of these households, those sharing their folded name with another in their hamlet."""
    if not households:
        return set()
    names = {h.head_name_folded for h in households}
    hamlets = {h.hamlet_id for h in households}
    rows = db.session.execute(
        sa.select(Household.hamlet_id, Household.head_name_folded)
        .where(Household.hamlet_id.in_(hamlets), Household.head_name_folded.in_(names),
               Household.merged_into_id.is_(None), Household.erased_at.is_(None))
        .group_by(Household.hamlet_id, Household.head_name_folded)
        .having(sa.func.count(Household.id) > 1))
    clashes = {(r[0], r[1]) for r in rows}
    return {h.id for h in households if (h.hamlet_id, h.head_name_folded) in clashes}


def possible_duplicates(household: Household) -> list[Household]:
    return list(db.session.scalars(
        sa.select(Household).where(Household.hamlet_id == household.hamlet_id,
                                   Household.head_name_folded == household.head_name_folded,
                                   Household.id != household.id, Household.merged_into_id.is_(None),
                                   Household.erased_at.is_(None))
        .order_by(Household.id)))


def merge_households(source: Household, target: Household, user=None) -> int:
    """Fold a duplicate into the household that stays: its visits move, adoptions count once."""
    from app.visits.operations import move_household_visits
    if source.id == target.id or source.hamlet_id != target.hamlet_id:
        raise ValueError("only two different households of the same hamlet can be merged")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ValueError("a merged household cannot be merged again")
    if source.erased_at is not None or target.erased_at is not None:
        raise ValueError("an erased household cannot be merged")
    moved = move_household_visits(source, target)
    # Details the kept record lacks are taken from the duplicate rather than lost.
    for attr in ("address", "phone", "size"):
        if not getattr(target, attr) and getattr(source, attr):
            setattr(target, attr, getattr(source, attr))
    source.merged_into_id = target.id
    record("merge", "household", source.id, source.hamlet_id,
           before={"merged_into_id": None}, after={"merged_into_id": target.id, "visits_moved": moved},
           user=user)
    return moved
