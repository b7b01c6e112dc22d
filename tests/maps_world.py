"""A three-level province carried through the 2025 reform by hand, on the units-in-time schema.

Old (valid until 30/06/2025): Tỉnh Hậu Giang (93) > Thành phố Vị Thanh (930) > Phường I (31318:
Khu vực 1, 2), Phường III (31321: Khu vực 3), Phường VII (31324: Khu vực 4); Huyện Châu Thành A
(931) > Thị trấn Một Ngàn (31338: Ấp Nhơn Xuân, Ấp Nhơn Lộc).
New (from 01/07/2025): Thành phố Cần Thơ (92) > Phường Vị Thanh (31321, the code of Phường III
reused: Khu vực 1-4), Xã Một Ngàn (31338 reused: Ấp Nhơn Xuân), Xã Tân Hòa (31340: Ấp Nhơn Lộc,
Thị trấn Một Ngàn being split along its hamlets).
Hamlets move whole, their old parents recorded in unit_placements; the tallies are rebuilt from
the visits as `flask coverage rebuild` does.
"""
from datetime import date

from app.extensions import db
from app.units.models import Reorganization, UnitPlacement, UnitSuccession
from app.units.operations import create_unit, set_household_count
from tests.test_coverage import households, make_services, visit

REFORM = date(2025, 7, 1)


class Reformed:
    def __init__(self):
        self.wallet, self.vneid = make_services()
        self.old_province = create_unit("Tỉnh Hậu Giang", "province", None, "93")
        self.vi_thanh_city = create_unit("Thành phố Vị Thanh", "district", self.old_province, "930")
        self.chau_thanh_a = create_unit("Huyện Châu Thành A", "district", self.old_province, "931")
        self.phuong_1 = create_unit("Phường I", "commune", self.vi_thanh_city, "31318")
        self.phuong_3 = create_unit("Phường III", "commune", self.vi_thanh_city, "31321")
        self.phuong_7 = create_unit("Phường VII", "commune", self.vi_thanh_city, "31324")
        self.mot_ngan_old = create_unit("Thị trấn Một Ngàn", "commune", self.chau_thanh_a, "31338")
        self.hamlets = {}
        for name, commune, n in (("Khu vực 1", self.phuong_1, 320), ("Khu vực 2", self.phuong_1, 410),
                                 ("Khu vực 3", self.phuong_3, 250), ("Khu vực 4", self.phuong_7, 100),
                                 ("Ấp Nhơn Xuân", self.mot_ngan_old, 530), ("Ấp Nhơn Lộc", self.mot_ngan_old, 200)):
            self.hamlets[name] = create_unit(name, "hamlet", commune)
            set_household_count(self.hamlets[name], n, date(2024, 1, 1))
        # Visits before the reform (and one after it, below).
        h = {name: households(hamlet, 3) for name, hamlet in self.hamlets.items()}
        self.households = h
        visit(h["Khu vực 1"][0], date(2024, 11, 5), adopted=[self.wallet])
        visit(h["Khu vực 3"][0], date(2025, 3, 10), adopted=[self.wallet, self.vneid])
        visit(h["Khu vực 4"][0], date(2025, 5, 20), adopted=[self.vneid])
        visit(h["Ấp Nhơn Xuân"][0], date(2025, 2, 14), adopted=[self.wallet])
        visit(h["Ấp Nhơn Lộc"][0], date(2025, 6, 2), adopted=[self.wallet])
        db.session.flush()
        self.reform()
        visit(h["Khu vực 2"][0], date(2025, 9, 3), adopted=[self.wallet])
        visit(h["Ấp Nhơn Lộc"][1], date(2025, 8, 8), adopted=[self.vneid])
        db.session.commit()

    def reform(self):
        from app.areas.operations import move_subtree
        from app.coverage import store
        olds = [self.old_province, self.vi_thanh_city, self.chau_thanh_a, self.phuong_1, self.phuong_3,
                self.phuong_7, self.mot_ngan_old]
        for unit in olds:
            unit.retired_on = REFORM
        db.session.flush()
        self.province = create_unit("Thành phố Cần Thơ", "province", None, "92")
        self.vi_thanh = create_unit("Phường Vị Thanh", "commune", self.province, "31321")
        self.mot_ngan = create_unit("Xã Một Ngàn", "commune", self.province, "31338")
        self.tan_hoa = create_unit("Xã Tân Hòa", "commune", self.province, "31340")
        for unit in (self.province, self.vi_thanh, self.mot_ngan, self.tan_hoa):
            unit.valid_from = REFORM
        moves = {"Khu vực 1": self.vi_thanh, "Khu vực 2": self.vi_thanh, "Khu vực 3": self.vi_thanh,
                 "Khu vực 4": self.vi_thanh, "Ấp Nhơn Xuân": self.mot_ngan, "Ấp Nhơn Lộc": self.tan_hoa}
        for name, new in moves.items():
            hamlet = self.hamlets[name]
            db.session.add(UnitPlacement(unit_id=hamlet.id, parent_id=hamlet.parent_id, valid_to=REFORM))
            move_subtree(hamlet, new)
        plan = Reorganization(province_id=self.province.id, effective_on=REFORM, source_name="plan.xlsx")
        db.session.add(plan)
        db.session.flush()
        for old, new, split in ((self.old_province, self.province, False), (self.phuong_1, self.vi_thanh, False),
                                (self.phuong_3, self.vi_thanh, False), (self.phuong_7, self.vi_thanh, False),
                                (self.mot_ngan_old, self.mot_ngan, True), (self.mot_ngan_old, self.tan_hoa, True)):
            db.session.add(UnitSuccession(reorganization_id=plan.id, old_unit_id=old.id, new_unit_id=new.id,
                                          split=split))
        db.session.flush()
        store.rebuild(db.session.connection())
        db.session.expire_all()
