"""The services catalogue: the ten default services and the province staff's changes to it."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa

from app.audit.models import record
from app.coverage.models import CATALOGUE, TARGETS, TEAMS
from app.coverage.rollup import tables_token_ddl, token
from app.dates import VN, today_vn
from app.extensions import db
from app.visits.models import Service, Target, Visit, VisitService, page_language, service_name
from app.worker_memo import kept_under_tokens

# Stable codes: reports, imports and other provinces' data refer to services by code, never by name.
DEFAULT_SERVICES = [
    ("dvc", "government", "Tài khoản và hồ sơ dịch vụ công trực tuyến", "Online public services account and dossier"),
    ("vneid", "government", "Định danh điện tử VNeID mức 2", "VNeID level-2 e-identity"),
    ("province_app", "government", "Ứng dụng công dân của tỉnh", "Provincial citizen app"),
    ("e_wallet", "economy", "Ví điện tử / Mobile Money", "E-wallet / Mobile Money"),
    ("bank_account", "economy", "Tài khoản ngân hàng, ngân hàng số", "Bank account with online banking"),
    ("cashless", "economy", "Thanh toán hóa đơn không dùng tiền mặt (QR)", "Cashless bill payment (QR)"),
    ("ecommerce", "economy", "Bán hàng trên sàn thương mại điện tử (Postmart, Voso)",
     "Selling on e-commerce platforms (Postmart, Voso)"),
    ("smartphone", "society", "Sử dụng điện thoại thông minh cơ bản", "Smartphone basics"),
    ("safe_online", "society", "An toàn trên mạng, phòng chống lừa đảo", "Online safety and scam awareness"),
    ("e_health", "society", "Sổ sức khỏe điện tử", "Electronic health record"),
]


# The default services people file administrative dossiers through, online: the public services portal, and
# VNeID, whose own public services (residence, criminal record certificates …) take dossiers too. A province
# whose citizen app files dossiers ticks it on the service's page.
DOSSIER_SERVICES = ("dvc", "vneid")


def insert_default_services(connection, dossier_flag: bool = True) -> int:
    """Insert the default services a database lacks (by code); returns how many were added.

    Takes a plain connection so the test suite can restore the catalogue after emptying tables. `dossier_flag`
    False: for the migration that made the catalogue, before services had the column.
    """
    columns = ["code", "pillar", "name_vi", "name_en", "position", "active"] + (
        ["files_dossiers"] if dossier_flag else [])
    services = sa.table("services", *(sa.column(c) for c in columns))
    have = set(connection.execute(sa.select(services.c.code)).scalars())
    rows = [{"code": code, "pillar": pillar, "name_vi": vi, "name_en": en, "position": (i + 1) * 10,
             "active": True, **({"files_dossiers": code in DOSSIER_SERVICES} if dossier_flag else {})}
            for i, (code, pillar, vi, en) in enumerate(DEFAULT_SERVICES) if code not in have]
    if rows:
        connection.execute(sa.insert(services), rows)
    return len(rows)


def all_services() -> list[Service]:
    return list(db.session.scalars(sa.select(Service).order_by(Service.position, Service.id)))


# Built once: every visit form and coverage page asks, and building the statement cost more than
# running it.
_ACTIVE = sa.select(Service).where(Service.active.is_(True)).order_by(Service.position, Service.id)


def active_services() -> list[Service]:
    return list(db.session.scalars(_ACTIVE))


def dossier_services() -> list[Service]:
    """The active services people file dossiers through: what a one-stop-centre shift counts."""
    return list(db.session.scalars(_ACTIVE.where(Service.files_dossiers.is_(True))))


# --- The visit form's services, kept per worker ----------------------------------------------------
# Fast path: every visit form and every visit POST offers the active services; read as ORM objects
# that was a statement and ~90 µs a request (bench/README.md, round 23). They are kept per worker as
# plain rows under the catalogue token, which triggers replace whenever the services change (migration
# b7e4d2a9c1f5). tests/test_services.py holds the form to the catalogue after each kind of change.

class FormService(NamedTuple):
    """What the visit form, its checks and its page read of a service (as Service has them)."""
    id: int
    code: str
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_in(page_language())

    def name_in(self, language: str) -> str:
        return service_name(self.name_vi, self.name_en, language)


_FORM_SERVICES = (sa.select(Service.id, Service.code, Service.name_vi, Service.name_en)
                  .where(Service.active.is_(True)).order_by(Service.position, Service.id))


@kept_under_tokens(maxsize=4)
def _active_rows() -> tuple[FormService, ...]:
    return tuple(FormService(*row) for row in db.session.execute(_FORM_SERVICES))


def form_services() -> list[FormService]:
    """The active services in catalogue order, as the visit form offers them."""
    return list(_active_rows((token(CATALOGUE),)))


_SERVICE_CODES = sa.select(Service.id, Service.code)


@kept_under_tokens(maxsize=4)
def _codes() -> dict[int, str]:
    return dict(db.session.execute(_SERVICE_CODES).all())


def service_codes() -> dict[int, str]:
    """Every service's code by its id, switched off or not (the adult figures' sums name them by id)."""
    return dict(_codes((token(CATALOGUE),)))


# --- A province's target milestones, kept per worker ---------------------------------------------
# Fast path: every coverage page, trend and map shows each service against the province's target in
# force; read with the services as ORM objects that was a statement and ~0.2 ms a page (bench/README.md,
# round 25). Kept per worker as plain rows under the targets token (triggers on `targets`, migration
# a5c8e2f4b7d1); the services are the visit form's (`form_services`). tests/test_target_milestones.py
# holds the pages to the targets as they are after each kind of change.

class Milestone(NamedTuple):
    """What the pages read of a target milestone (as Target has them)."""
    id: int
    service_id: int
    share: Decimal
    due_on: date


_MILESTONES = (sa.select(Target.id, Target.service_id, Target.share, Target.due_on)
               .where(Target.province_id == sa.bindparam("province")).order_by(Target.service_id, Target.due_on))


@kept_under_tokens(maxsize=64)
def _milestones_of(province_id: int) -> dict[int, tuple[Milestone, ...]]:
    by_service: dict[int, list[Milestone]] = {}
    for row in db.session.execute(_MILESTONES, {"province": province_id}):
        by_service.setdefault(row.service_id, []).append(Milestone(*row))
    return {service_id: tuple(ms) for service_id, ms in by_service.items()}


def province_milestones(province_id: int) -> dict[int, tuple[Milestone, ...]]:
    """A province's target milestones by service id, each service's in date order."""
    return dict(_milestones_of((token(TARGETS),), province_id))


def targets_token_ddl(dialect: str) -> list[str]:
    """The targets token's triggers as this module builds them (the migration carries a frozen copy)."""
    return tables_token_ddl(TARGETS, "targets_token", {"targets": "targets"}, dialect)


def catalogue_token_ddl(dialect: str) -> list[str]:
    """The catalogue token's triggers as this module builds them (the migration carries a frozen copy)."""
    return tables_token_ddl(CATALOGUE, "catalogue_token", {"services": "services"}, dialect)


# How far back the visit form looks to put a team's usual services first: the team's latest visits
# within the last days, so a busy team's form reads no more than a quiet one's.
USAGE_DAYS = 90
USAGE_VISITS = 300


# Built once: every visit form asks; the bounds are parameters.
_LATEST = (sa.select(Visit.id)
           .where(Visit.team_id == sa.bindparam("team_id"), Visit.visited_on > sa.bindparam("since"),
                  Visit.created_at < sa.bindparam("recorded_before"))
           .order_by(Visit.visited_on.desc()).limit(sa.bindparam("visits", type_=sa.Integer)).subquery())
_USE = (sa.select(VisitService.service_id, sa.func.count())
        .join(_LATEST, _LATEST.c.id == VisitService.visit_id).group_by(VisitService.service_id))


# Fast path: every visit form orders its services by the team's use, which read up to 300 visits' services
# (~0.5 ms of a form's CPU in the saturation mix, a statement on PostgreSQL: bench/README.md, round 26).
# The order counts the visits recorded before the day began, so it is the same all day and is kept per
# worker for the day (under the teams' token, which a database emptied and filled again replaces).
@kept_under_tokens(maxsize=2048)
def _team_use(team_id: int, today: date, days: int, visits: int) -> dict[int, int]:
    recorded_before = datetime.combine(today, time(), tzinfo=VN)
    return dict(db.session.execute(_USE, {"team_id": team_id, "since": today - timedelta(days=days),
                                          "recorded_before": recorded_before, "visits": visits}).all())


def by_team_use(services: list, team_id: int | None, today: date) -> list:
    """The services the team's latest visits recorded most first, so the usual ones are at the top of
    the form; the rest (and ties) keep the catalogue order.

    Counted from the visits recorded before today (its latest USAGE_VISITS within USAGE_DAYS): the order
    stays put all day, so the boxes do not move under the thumb of someone logging the day's visits one
    after another, and today's visits count from tomorrow."""
    if team_id is None:
        return list(services)
    counts = _team_use((token(TEAMS),), team_id, today, USAGE_DAYS, USAGE_VISITS)
    return sorted(services, key=lambda s: -counts.get(s.id, 0))  # sorted() is stable


def _snapshot(service: Service) -> dict:
    return {"code": service.code, "pillar": service.pillar, "name_vi": service.name_vi,
            "name_en": service.name_en, "position": service.position, "active": service.active,
            "files_dossiers": service.files_dossiers}


def add_service(code: str, pillar: str, name_vi: str, name_en: str, user=None) -> Service:
    last = db.session.scalar(sa.select(sa.func.max(Service.position))) or 0
    service = Service(code=code, pillar=pillar, name_vi=name_vi, name_en=name_en, position=last + 10,
                      active=True)
    db.session.add(service)
    db.session.flush()
    record("create", "service", service.id, None, after=_snapshot(service), user=user)
    return service


def update_service(service: Service, user=None, **changes) -> None:
    before = _snapshot(service)
    for key, value in changes.items():
        setattr(service, key, value)
    record("update", "service", service.id, None, before=before, after=_snapshot(service), user=user)


def move_service(service: Service, step: int, user=None) -> None:
    """Swap with the neighbour above (step -1) or below (+1); positions are renumbered 10, 20, ..."""
    ordered = all_services()
    i = ordered.index(service)
    j = i + step
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    for n, s in enumerate(ordered, start=1):
        if s.position != n * 10:
            s.position = n * 10
    record("reorder", "service", service.id, None, after={"position": service.position}, user=user)


def milestone_on(milestones: list[Target], day: date) -> Target | None:
    """The milestone in force on a day: the earliest one not yet passed (due on or after the day), else
    the latest (a target whose date has passed still stands until the province sets the next)."""
    ahead = [t for t in milestones if t.due_on >= day]
    if ahead:
        return min(ahead, key=lambda t: t.due_on)
    return max(milestones, key=lambda t: t.due_on, default=None)


def in_force(milestones: dict, on: date | None = None) -> dict:
    """{key: its milestones} (a service's, an adult indicator's) -> {key: the one in force on `on`, today
    by default}."""
    day = on or today_vn()
    return {key: milestone_on(ms, day) for key, ms in milestones.items()}


def milestones_for(province_id: int) -> dict[int, list[Target]]:
    """Each service's milestones in the province, by date."""
    out: dict[int, list[Target]] = {}
    for t in db.session.scalars(sa.select(Target).where(Target.province_id == province_id)
                                .order_by(Target.due_on)):
        out.setdefault(t.service_id, []).append(t)
    return out


def targets_for(province_id: int, on: date | None = None) -> dict[int, Target]:
    """Each service's milestone in force on a day (today by default)."""
    return in_force(milestones_for(province_id), on)


def set_target(service: Service, province_id: int, share: Decimal | None, due_on: date | None,
               user=None) -> Target | None:
    """Set the province's milestone for a service on a date (a new date adds one), or, with no share,
    remove the milestone of that date."""
    if due_on is None:
        return None
    target = db.session.scalar(sa.select(Target).where(Target.service_id == service.id,
                                                       Target.province_id == province_id, Target.due_on == due_on))
    if target is None and share is None:
        return None
    before = {"share": str(target.share) if target else None, "due_on": target.due_on if target else None}
    if share is None:
        db.session.delete(target)
        target = None
    else:
        if target is None:
            target = Target(service_id=service.id, province_id=province_id, share=share, due_on=due_on)
            db.session.add(target)
        elif target.share == share:
            return target  # nothing changed: no entry in the trail
        target.share = share
    record("set_target", "service", service.id, province_id, before=before,
           after={"share": str(share) if share is not None else None, "due_on": due_on if share is not None else None},
           user=user)
    return target


def change_target(target: Target, share: Decimal | None, due_on: date, user=None) -> Target | None:
    """Change one milestone in place: its share, its date (moved, not a second one added), or, with no share,
    remove it. The caller makes sure no other milestone of the service has that date."""
    if share is None:
        remove_target(target, user=user)
        return None
    if target.share == share and target.due_on == due_on:
        return target  # nothing changed: no entry in the trail
    before = {"share": str(target.share), "due_on": target.due_on}
    target.share, target.due_on = share, due_on
    record("set_target", "service", target.service_id, target.province_id, before=before,
           after={"share": str(share), "due_on": due_on}, user=user)
    return target


def remove_target(target: Target, user=None) -> None:
    """Remove one milestone of a province's target."""
    record("set_target", "service", target.service_id, target.province_id,
           before={"share": str(target.share), "due_on": target.due_on}, after={"share": None, "due_on": None},
           user=user)
    db.session.delete(target)
