"""The map as it was, after a reorganization that moved more hamlets than one statement can name:
a province's plan moves a thousand hamlets and more, each placed under its old commune until the day."""
from datetime import date

from app.extensions import db as _db
from app.units import operations as units
from app.units.history import map_on
from app.units.models import UnitPlacement

DAY = date(2025, 7, 1)
HAMLETS = 1050  # more than SQLite lets one expression hold (1,000 terms deep)


def test_an_old_commune_whose_thousand_hamlets_moved_still_opens_as_the_map_was(db, tree, client, login_as):
    old = units.create_unit("Xã Cũ", "commune", tree.district, "90001")
    new = units.create_unit("Xã Mới", "commune", tree.district, "90002")
    hamlets = [units.create_unit(f"Ấp {i}", "hamlet", old) for i in range(HAMLETS)]
    _db.session.flush()
    _db.session.add_all([UnitPlacement(unit_id=h.id, parent_id=old.id, valid_from=None, valid_to=DAY) for h in hamlets])
    for h in hamlets:
        h.place_under(new)
    old.retired_on = DAY
    _db.session.commit()

    then = map_on(old, date(2025, 6, 30))
    assert sorted(then.leaves_below(old.id)) == sorted(h.id for h in hamlets)
    assert map_on(old, DAY).leaves_below(old.id) == [old.id]  # on the day they are the new commune's
    assert sorted(map_on(new, date(2025, 6, 30)).leaves_below(new.id)) == [new.id]  # not valid yet: nothing under it

    login_as("province", tree.province)
    resp = client.get(f"/coverage/{old.id}")  # on its last month, as the map was
    assert resp.status_code == 200, resp.status_code
    text = resp.get_data(as_text=True)
    assert "Xã Cũ" in text and ">Ấp 0<" in text and "1–20 trên 1.050" in text  # a page of its rows at a time
    last = client.get(f"/coverage/{old.id}?page=53").get_data(as_text=True)
    assert ">Ấp 1049<" in last and "1.041–1.050 trên 1.050" in last
