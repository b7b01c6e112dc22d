"""How long the team lists take at Hậu Giang's size (DOMAIN.md: 525 teams, ~2,800 members).

    PYTHONPATH=. .venv/bin/python bench/teams_listing.py [--database-url postgresql://...]

Builds the province from the demo seed (75 communes with hamlets), one team per hamlet with five
members each, then times the province, district and commune lists, a search and a team page as
province staff through the test client (server time only, no network).
"""
import argparse
import os
import statistics
import tempfile
import time
from datetime import date

import sqlalchemy as sa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    from app.config import database_url
    url = (database_url(args.database_url) if args.database_url
           else "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="bench-teams-"), "b.db"))

    from app import create_app
    from app.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "TESTING": True})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from flask_migrate import upgrade
        upgrade()
        from app.demo.seed import DEMO_PASSWORD, seed_demo
        from app.teams.models import Member, Membership, Team
        from app.text import fold
        from app.units.models import AdminUnit
        seed_demo()
        province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "93"))
        served = sa.select(sa.text("hamlet_id")).select_from(sa.text("team_hamlets"))
        hamlets = db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.level == "hamlet", AdminUnit.id.not_in(served))).all()
        phone = 970000000
        for hamlet in hamlets:
            name = f"Tổ công nghệ số cộng đồng {hamlet.name} {hamlet.parent.name}"
            team = Team(commune_id=hamlet.parent_id, name=name, name_folded=fold(name), status="active",
                        decision_date=date(2022, 3, 15))
            team.hamlets.append(hamlet)
            db.session.add(team)
            for j in range(5):
                phone += 1
                full_name = f"Nguyễn Văn Thành Viên {phone}"
                member = Member(full_name=full_name, name_folded=fold(full_name), phone=f"0{phone}",
                                province_id=province.id)
                db.session.add(Membership(member=member, team=team, joined_on=date(2022, 3, 15),
                                          role="leader" if j == 0 else "member"))
        db.session.commit()
        teams = db.session.scalar(sa.select(sa.func.count(Team.id)))
        members = db.session.scalar(sa.select(sa.func.count(Membership.id)))
        district = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "930"))
        commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.parent_id == district.id)
                                    .order_by(AdminUnit.code).limit(1))
        one_team = db.session.scalar(sa.select(Team.id).where(Team.commune_id == commune.id).limit(1))
        ids = {"province": province.id, "district": district.id, "commune": commune.id}

    client = app.test_client()
    client.post("/auth/login", data={"username": "demo-province", "password": DEMO_PASSWORD})
    pages = {
        "province list": f"/teams/unit/{ids['province']}",
        "district list": f"/teams/unit/{ids['district']}",
        "commune list": f"/teams/unit/{ids['commune']}",
        "search (htmx)": f"/teams/unit/{ids['province']}?q=nga+tu",
        "team page": f"/teams/{one_team}",
    }
    print(f"{url.split(':')[0]}: {teams} teams, {members} memberships")
    for label, path in pages.items():
        headers = {"HX-Request": "true", "HX-Target": "team-rows"} if "htmx" in label else {}
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            resp = client.get(path, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
        print(f"{label:15} median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms  "
              f"{len(resp.data) / 1024:5.1f} KiB")


if __name__ == "__main__":
    main()
