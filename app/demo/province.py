"""`flask demo seed --scale province`: a province the size of Tiền Giang, for benchmarks.

Sized from DOMAIN.md (Tiền Giang 2022: 1,250 teams, 8,014 members): the GSO list of Tiền Giang
(11 districts, 164 communes), 1,000 hamlets, ~500,000 households, 1,250 teams, 8,000 members and
~3,000,000 visits over four years. Rows go in with bulk inserts (executemany on SQLite, COPY on
PostgreSQL); adoptions are derived while the visits are generated (earliest adopting visit per
household and service, lowest id on a tie), exactly as the visits feature keeps them. The adults
("Bình dân học vụ số"): adult counts per hamlet, about 20 classes per commune per month with learners,
some named, and one-stop-centre shifts with dossiers (seed_adults).
"""
from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.auth.cli import create_user
from app.extensions import db
from app.text import fold
from app.units import gso
from app.units.models import AdminUnit

PROVINCE = "82"  # Tiền Giang
HAMLETS = 1000
TEAMS = 1250
MEMBERS = 8000
VISITS = 3_000_000
YEARS = 4
HOUSEHOLDS_PER_HAMLET = (250, 750)
BATCH = 50_000

# Province targets (DOMAIN.md: Tiền Giang >50% with an e-payment account by 2025).
TARGETS = {"e_wallet": 0.5, "bank_account": 0.5, "vneid": 0.8, "dvc": 0.5, "cashless": 0.4}
HAMLET_PREFIXES = ["Ấp", "Ấp", "Ấp", "Khu phố"]
HAMLET_NAMES = ["Tân Hòa", "Mỹ Lợi", "Bình Đông", "Long Hưng", "Phú Thạnh", "Hòa Bình", "Thạnh Lợi", "An Ninh",
                "Mỹ Phú", "Tân Thuận", "Bình Khánh", "Hậu Hoa", "Lợi Quan", "Phước Hòa", "Cầu Xéo", "Trung"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
GIVEN = ["Văn An", "Thị Lan", "Minh Phúc", "Thị Thu Hà", "Quốc Đạt", "Ngọc Trang", "Hữu Tài", "Thị Yến",
         "Thanh Bình", "Thị Kim Duyên", "Văn Hiếu", "Thị Mỹ Hạnh"]
USERS = [("tg-admin", "admin", "province"), ("tg-province", "province", "province"),
         ("tg-district", "district", "district"), ("tg-commune", "commune", "commune")]
FIELD_USER = "tg-leader"


def ensure_field_user() -> str:
    """A team leader in tg-commune's commune (the leader of its largest team) for logging visits in
    benchmarks; added to databases seeded before it existed. Returns the username."""
    from app.auth.models import User
    from app.demo.seed import DEMO_PASSWORD
    from app.households.models import Household
    from app.teams.models import Member, Membership, Team, team_hamlets
    if db.session.scalar(sa.select(User.id).where(User.username == FIELD_USER)):
        return FIELD_USER
    commune = db.session.scalar(sa.select(AdminUnit).join(User, User.unit_id == AdminUnit.id)
                                .where(User.username == "tg-commune"))
    households = (sa.select(team_hamlets.c.team_id, sa.func.count(Household.id).label("n"))
                  .join(Household, Household.hamlet_id == team_hamlets.c.hamlet_id)
                  .group_by(team_hamlets.c.team_id).subquery())
    team = db.session.scalar(sa.select(Team).join(households, households.c.team_id == Team.id)
                             .where(Team.commune_id == commune.id)
                             .order_by(households.c.n.desc(), Team.id).limit(1))
    member = db.session.scalar(sa.select(Member).join(Membership, Membership.member_id == Member.id)
                               .where(Membership.team_id == team.id, Membership.left_on.is_(None))
                               .order_by(Membership.role != "leader", Member.id).limit(1))
    user = create_user(FIELD_USER, "team_leader", commune, DEMO_PASSWORD, full_name=member.full_name)
    user.team_id, user.member_id = team.id, member.id
    db.session.commit()
    return FIELD_USER


class Loader:
    """Bulk rows into one table, through the session's own connection (one transaction)."""

    def __init__(self):
        self.conn = db.session.connection()
        self.raw = self.conn.connection.driver_connection
        self.pg = self.conn.dialect.name == "postgresql"

    def load(self, table: str, columns: list[str], rows) -> int:
        from app.database import mark_written
        mark_written(self.conn)  # these rows go past SQLAlchemy: a failed load must still be rolled back
        n = 0
        if self.pg:
            cols = ", ".join(columns)
            with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cur = self.raw.cursor()
        batch = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= BATCH:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
        cur.close()
        return n

    def next_id(self, table: str) -> int:
        return (self.conn.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1

    def fix_sequences(self, tables: list[str]) -> None:
        if self.pg:
            for t in tables:
                self.conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"))


def _sqlite_value(v):
    # Stored as SQLAlchemy stores them on SQLite, so ORM reads and date comparisons agree.
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def _ensure_services(loader: Loader) -> list[tuple[int, str]]:
    from app.catalogue.operations import insert_default_services
    insert_default_services(loader.conn)  # the migration inserts them; this covers older databases
    return [(r.id, r.code) for r in loader.conn.execute(
        sa.text("SELECT id, code FROM services WHERE active = :t ORDER BY position, id"), {"t": True})]


# "Bình dân học vụ số": about 20 classes per commune per month, a one-stop-centre shift most working
# days, the adult population per hamlet (about 2.6 adults per household), the province's targets.
CLASSES_PER_COMMUNE_MONTH = 20
SHIFTS_PER_COMMUNE_MONTH = 8
ADULT_TARGETS = {"named_share": 0.8, "online_share": 0.8}


def seed_adults(loader: Loader, rng: random.Random, province: AdminUnit, hamlets, sizes, plan, first_team: int,
                code_to_id: dict[str, int], start: date, end: date, stamp: datetime) -> dict[str, int]:
    """Adult counts, classes with learners and results, shifts with dossiers, commune dossier totals."""
    from app.activities.models import person_key
    loader.load("adult_counts", ["unit_id", "adults", "effective_on", "recorded_at"],
                [(hid, int(sizes[hid] * rng.uniform(2.3, 2.9)), start, stamp) for hid, _c in hamlets])
    loader.conn.execute(sa.text("DELETE FROM adult_targets WHERE province_id = :p"), {"p": province.id})
    loader.conn.execute(
        sa.text("INSERT INTO adult_targets (province_id, indicator, share, due_on) VALUES (:p, :i, :s, :d)"),
        [{"p": province.id, "i": i, "s": s, "d": date(2026, 12, 31)} for i, s in ADULT_TARGETS.items()])
    commune_hamlets: dict[int, list[int]] = {}
    for hid, commune in hamlets:
        commune_hamlets.setdefault(commune.id, []).append(hid)
    commune_teams: dict[int, list[int]] = {}
    for n, (_hid, commune_id) in enumerate(plan):
        commune_teams.setdefault(commune_id, []).append(first_team + n)
    working = [code_to_id[c] for c in ("vneid", "dvc", "e_wallet", "smartphone") if c in code_to_id]
    months = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    class_id, learner_id, shift_id = loader.next_id("classes"), loader.next_id("class_learners"), \
        loader.next_id("centre_shifts")
    classes, teams, learners, results, shifts, dossiers, totals = [], [], [], [], [], [], []
    counts = {"classes": 0, "class_learners": 0, "centre_shifts": 0}
    for commune_id, hids in commune_hamlets.items():
        # The people named on this commune's classes: a pool smaller than the attendances, so the
        # distinct named learners grow slower than the attendances, as they do.
        pool = [(f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}", rng.randint(1950, 2009), rng.choice(hids))
                for _ in range(400)]
        for y, m in months:
            last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
            for _ in range(CLASSES_PER_COMMUNE_MONTH):
                held_on = date(y, m, rng.randint(1, last))
                if held_on > end:
                    continue
                total = rng.randint(20, 200)
                a = rng.randint(0, total // 10)
                c = rng.randint(0, (total - a) // 3)
                hamlet = rng.choice(hids) if rng.random() < 0.8 else None
                classes.append((class_id, f"seed-class-{class_id}", commune_id, held_on, hamlet,
                                "" if hamlet else "Nhà văn hóa xã", total, None, None, a, total - a - c, c, "",
                                stamp, stamp))
                teams.append((class_id, rng.choice(commune_teams[commune_id])))
                if rng.random() < 0.25:
                    for name, year, home in rng.sample(pool, rng.randint(5, 15)):
                        learners.append((learner_id, class_id, name, fold(name), year, home, None, None,
                                         person_key(commune_id, name, year)))
                        learner_id += 1
                for sid in rng.sample(working, 2):
                    results.append((class_id, sid, rng.randint(0, total // 2)))
                class_id += 1
            for _ in range(SHIFTS_PER_COMMUNE_MONTH):
                held_on = date(y, m, rng.randint(1, last))
                if held_on > end:
                    continue
                shifts.append((shift_id, f"seed-shift-{shift_id}", commune_id, rng.choice(commune_teams[commune_id]),
                               held_on, rng.randint(5, 40), "", stamp, stamp))
                for sid in rng.sample(working, 2):
                    dossiers.append((shift_id, sid, rng.randint(1, 15)))
                shift_id += 1
            if rng.random() < 0.9:  # most communes enter their month's total
                totals.append((commune_id, y * 100 + m, rng.randint(150, 400), stamp))
        if len(classes) >= 50_000:
            counts["classes"] += _load_activities(loader, classes, teams, learners, results, shifts, dossiers)
    counts["classes"] += _load_activities(loader, classes, teams, learners, results, shifts, dossiers)
    loader.load("commune_dossier_totals", ["commune_id", "month", "dossiers", "recorded_at"], totals)
    loader.fix_sequences(["adult_counts", "adult_targets", "classes", "class_learners", "centre_shifts",
                          "commune_dossier_totals"])
    from app.coverage import activity_months, named_learners
    # Loaded past the class and shift operations, which keep these.
    named_learners.rebuild(loader.conn)
    activity_months.rebuild(loader.conn)
    counts["centre_shifts"] = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("centre_shifts")))
    counts["class_learners"] = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("class_learners")))
    return counts


def _load_activities(loader: Loader, classes, teams, learners, results, shifts, dossiers) -> int:
    n = loader.load("classes", ["id", "key", "commune_id", "held_on", "place_hamlet_id", "place_name",
                                "learners_total", "learners_female", "learners_male", "age_15_17", "age_18_59",
                                "age_60_plus", "note", "created_at", "updated_at"], classes)
    loader.load("class_teams", ["class_id", "team_id"], teams)
    loader.load("class_learners", ["id", "class_id", "name", "name_folded", "birth_year", "hamlet_id", "phone",
                                   "household_id", "person_key"], learners)
    loader.load("class_results", ["class_id", "service_id", "learners"], results)
    loader.load("centre_shifts", ["id", "key", "commune_id", "team_id", "held_on", "people_helped", "note",
                                  "created_at", "updated_at"], shifts)
    loader.load("shift_dossiers", ["shift_id", "service_id", "dossiers"], dossiers)
    for rows in (classes, teams, learners, results, shifts, dossiers):
        rows.clear()
    return n


def seed_province(echo=print, end: date | None = None) -> dict[str, float]:
    """Build the province; `end` is the last visit date (today in Vietnam by default)."""
    from app.dates import today_vn
    end = end or today_vn()
    start = date(end.year - YEARS, end.month, 1)
    rng = random.Random(82)
    t0 = time.monotonic()
    stamp = datetime.now(UTC)
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - since, 1)
        echo(f"  {name}: {timings[name]} s")
        return now

    gso.import_province(PROVINCE, on=date(2025, 6, 30))  # the demo is a province of the old map
    db.session.flush()
    loader = Loader()
    from app.coverage import store
    # Row triggers would make millions of inserts crawl; the tallies are rebuilt in bulk below.
    store.uninstall(loader.conn)
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == PROVINCE))
    communes = list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.level == "commune", AdminUnit.within(province)).order_by(AdminUnit.code)))
    services = _ensure_services(loader)
    code_to_id = {c: i for i, c in services}
    loader.conn.execute(sa.text("DELETE FROM targets WHERE province_id = :p"), {"p": province.id})
    loader.conn.execute(
        sa.text("INSERT INTO targets (service_id, province_id, share, due_on) VALUES (:s, :p, :share, :due)"),
        [{"s": code_to_id[c], "p": province.id, "share": share, "due": date(2025, 12, 31)}
         for c, share in TARGETS.items() if c in code_to_id])
    tick = lap("units and services", t0)

    # Hamlets: 1,000 spread over the communes, each with a count from the start and, for some, a
    # newer count (counts change over time).
    hamlet_id = loader.next_id("admin_units")
    hamlets = []  # (id, commune)
    per_commune = [HAMLETS // len(communes)] * len(communes)
    for i in rng.sample(range(len(communes)), HAMLETS - sum(per_commune)):
        per_commune[i] += 1
    unit_rows, count_rows = [], []
    sizes = {}
    for commune, k in zip(communes, per_commune):
        for j in range(k):
            name = f"{rng.choice(HAMLET_PREFIXES)} {HAMLET_NAMES[j % len(HAMLET_NAMES)]}" + (
                f" {j // len(HAMLET_NAMES) + 1}" if j >= len(HAMLET_NAMES) else "")
            name = f"{name} {j + 1}"
            unit_rows.append((hamlet_id, None, name, fold(name), "hamlet", commune.id,
                              f"{commune.path}{hamlet_id}/", commune.depth + 1, None, stamp))
            size = rng.randint(*HOUSEHOLDS_PER_HAMLET)
            sizes[hamlet_id] = size
            count_rows.append((hamlet_id, size - rng.randint(0, 30), start, stamp))
            if rng.random() < 0.3:
                count_rows.append((hamlet_id, size, date(end.year - 2, 7, 1), stamp))
            else:
                count_rows[-1] = (hamlet_id, size, start, stamp)
            hamlets.append((hamlet_id, commune))
            hamlet_id += 1
    loader.load("admin_units", ["id", "code", "name", "name_folded", "level", "parent_id", "path", "depth",
                                "retired_on", "created_at"], unit_rows)
    loader.load("household_counts", ["unit_id", "households", "effective_on", "recorded_at"], count_rows)
    tick = lap("hamlets and counts", tick)

    # Teams: one per hamlet, plus commune-wide teams serving two hamlets each; members ~6.4 per team.
    team_id = loader.next_id("teams")
    team_rows, team_hamlet_rows, hamlet_teams = [], [], {}
    by_commune: dict[int, list[int]] = {}
    for hid, commune in hamlets:
        by_commune.setdefault(commune.id, []).append(hid)
    extra = TEAMS - len(hamlets)
    commune_ids = [c.id for c in communes]
    plan = [(hid, commune.id) for hid, commune in hamlets] + [
        (None, commune_ids[i % len(commune_ids)]) for i in range(extra)]
    for n, (hid, commune_id) in enumerate(plan, start=1):
        name = f"Tổ công nghệ số cộng đồng số {n}"
        team_rows.append((team_id, commune_id, name, fold(name), f"{n}/QĐ-UBND", date(2022, 3, 15), "active", "",
                          stamp))
        served = [hid] if hid else rng.sample(by_commune[commune_id], min(2, len(by_commune[commune_id])))
        for h in served:
            team_hamlet_rows.append((team_id, h))
            hamlet_teams.setdefault(h, []).append(team_id)
        team_id += 1
    first_team = team_id - len(plan)
    loader.load("teams", ["id", "commune_id", "name", "name_folded", "decision_number", "decision_date", "status",
                          "dissolved_reason", "created_at"], team_rows)
    loader.load("team_hamlets", ["team_id", "hamlet_id"], team_hamlet_rows)
    member_id = loader.next_id("members")
    member_rows, membership_rows = [], []
    for k in range(MEMBERS):
        full = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        member_rows.append((member_id + k, full, fold(full), "", 1965 + k % 40, f"09{30000000 + k:08d}",
                            f"09{30000000 + k:08d}", "other", province.id, stamp))
        membership_rows.append((member_id + k, first_team + k % len(plan), "member" if k >= len(plan) else "leader",
                                date(2022, 3, 15)))
    loader.load("members", ["id", "full_name", "name_folded", "gender", "birth_year", "phone", "active_phone",
                            "affiliation", "province_id", "created_at"], member_rows)
    loader.load("memberships", ["member_id", "team_id", "role", "joined_on"], membership_rows)
    tick = lap("teams and members", tick)

    # Households (one row per counted household) and their visits, generated hamlet by hamlet.
    household_id = loader.next_id("households")
    visit_id = loader.next_id("visits")
    total_households = sum(sizes.values())
    mean_visits = VISITS / (total_households * 0.85)
    span = (end - start).days
    households, visits, visit_services, adoptions = [], [], [], []
    service_ids = [i for i, _ in services]
    # Uptake differs by service, so coverage spreads around the targets.
    adopt_p = {sid: 0.15 + 0.5 * ((k * 7) % 10) / 10 for k, sid in enumerate(service_ids)}

    def generate():
        nonlocal household_id, visit_id
        for hid, _commune in hamlets:
            teams = hamlet_teams[hid]
            # Hamlets start at different times: some lag, so district officers have someone to chase.
            lag = rng.random() ** 2 * span * 0.6
            for _ in range(sizes[hid]):
                hh = household_id
                household_id += 1
                name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
                households.append((hh, hid, name, fold(name), "", "", None, stamp))
                if rng.random() < 0.15:
                    continue  # never visited
                k = max(1, int(rng.expovariate(1 / mean_visits) + 0.5))
                days = sorted(int(lag + rng.random() * (span - lag)) for _ in range(k))
                adopted: set[int] = set()
                for d in days:
                    on = start + timedelta(days=d)
                    visits.append((visit_id, hh, hid, teams[d % len(teams)], on, "", f"seed-{visit_id}",
                                   stamp, stamp))
                    for sid in rng.sample(service_ids, rng.choice((1, 1, 2, 2, 3))):
                        if sid not in adopted and rng.random() < adopt_p[sid]:
                            visit_services.append((visit_id, sid, "adopted"))
                            adopted.add(sid)
                            adoptions.append((hh, sid, hid, on, visit_id))
                        else:
                            visit_services.append((visit_id, sid, "guided"))
                    visit_id += 1
            if len(visits) >= 200_000:
                yield
        yield

    counts = {"households": 0, "visits": 0, "visit_services": 0, "adoptions": 0}
    for _ in generate():
        counts["households"] += loader.load("households", ["id", "hamlet_id", "head_name", "head_name_folded",
                                                           "address", "phone", "size", "created_at"], households)
        counts["visits"] += loader.load("visits", ["id", "household_id", "hamlet_id", "team_id", "visited_on", "note",
                                                   "idempotency_key", "created_at", "updated_at"], visits)
        counts["visit_services"] += loader.load("visit_services", ["visit_id", "service_id", "result"], visit_services)
        counts["adoptions"] += loader.load("adoptions", ["household_id", "service_id", "hamlet_id", "adopted_on",
                                                         "visit_id"], adoptions)
        households.clear(), visits.clear(), visit_services.clear(), adoptions.clear()
    loader.fix_sequences(["admin_units", "teams", "members", "households", "visits", "services"])
    tick = lap("households, visits, adoptions", tick)

    store.rebuild(loader.conn)
    tick = lap("coverage tallies", tick)

    counts.update(seed_adults(loader, rng, province, hamlets, sizes, plan, first_team, code_to_id, start, end, stamp))
    tick = lap("adults, classes and shifts", tick)

    district = max((c.parent for c in communes), key=lambda d: len(by_commune) and sum(
        1 for c in communes if c.parent_id == d.id))
    commune = next(c for c in communes if c.parent_id == district.id)
    from app.demo.seed import DEMO_PASSWORD
    for username, role, level in USERS:
        unit = {"province": province, "district": district, "commune": commune}[level]
        create_user(username, role, unit, DEMO_PASSWORD, full_name=username)
    ensure_field_user()
    db.session.commit()
    if loader.pg:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    lap("users and analyze", tick)
    timings["total"] = round(time.monotonic() - t0, 1)
    counts.update(timings)
    counts["units"] = db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    counts["teams"] = len(team_rows)
    counts["members"] = MEMBERS
    return counts
