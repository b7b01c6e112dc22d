"""Random input into every foundation form: never a 500, never a half-written record."""
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.units.models import AdminUnit, HouseholdCount
from tests.form_versions import with_version

# Unicode at its worst: decomposed marks, right-to-left marks, NUL, huge and empty strings.
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(["a", "\u0301", "\u0323", "\u200f", "\u202e", "\x00", " ", "Đ", "ấ",
                                      "<", ">", "\"", "'"]), max_size=60),
    st.just(""), st.just(" " * 10), st.just("x" * 5000), st.just("\x00"),
)
number_text = st.one_of(st.integers(min_value=-10**12, max_value=10**12).map(str), st.just("1.851"),
                        st.just("1,5"), st.just("1e9"), st.just("٣٤"), nasty_text)
date_text = st.one_of(st.dates().map(lambda d: d.isoformat()), st.just("2024-02-30"), st.just("23/05/2024"),
                      st.just("0000-00-00"), nasty_text)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def unit_count(db):
    return db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))


def test_fuzz_login(client):
    @FUZZ
    @given(username=nasty_text, password=nasty_text)
    def run(username, password):
        resp = client.post("/auth/login", data={"username": username, "password": password})
        assert resp.status_code in (400, 401, 429)
    run()


def test_fuzz_hamlet_and_count_forms(client, db, tree, login_as):
    login_as("commune", tree.commune)
    before = unit_count(db)

    @FUZZ
    @given(name=nasty_text, households=number_text, effective_on=date_text)
    def run(name, households, effective_on):
        n_units, n_counts = unit_count(db), db.session.scalar(sa.select(sa.func.count(HouseholdCount.id)))
        resp = client.post(f"/units/{tree.commune.id}/hamlets", data={
            "hamlet-name": name, "hamlet-households": households, "hamlet-effective_on": effective_on})
        assert resp.status_code in (302, 400, 409), resp.status_code  # 409: a count far from the other hamlets'
        db.session.expire_all()
        if resp.status_code != 302:
            # Nothing half-written: neither the hamlet nor its count.
            assert unit_count(db) == n_units
            assert db.session.scalar(sa.select(sa.func.count(HouseholdCount.id))) == n_counts
        resp = client.post(f"/units/{tree.hamlet.id}/households", data=with_version(
            client, f"/units/{tree.hamlet.id}", {"count-households": households, "count-effective_on": effective_on}))
        assert resp.status_code in (302, 400, 409)  # 409: a question (far from the count before, or its siblings')
        resp = client.post(f"/units/{tree.hamlet.id}/adults", data=with_version(
            client, f"/units/{tree.hamlet.id}", {"adults-adults": households, "adults-effective_on": effective_on}))
        assert resp.status_code in (302, 400, 409)
        resp = client.post(f"/units/{tree.hamlet2.id}/rename", data=with_version(
                client, f"/units/{tree.hamlet2.id}/rename", {"name": name}))
        assert resp.status_code in (302, 400)
    run()
    assert unit_count(db) >= before
    # Whatever got in is stored clean: NFC, no control characters.
    import unicodedata
    for name in db.session.scalars(sa.select(AdminUnit.name)):
        assert name == unicodedata.normalize("NFC", name) and "\x00" not in name and "\u202e" not in name


def test_fuzz_get_parameters(client, tree, login_as):
    login_as("province", tree.province)

    @FUZZ
    @given(q=nasty_text, d=date_text, page=number_text, unit=number_text)
    def run(q, d, page, unit):
        assert client.get(f"/units/{tree.province.id}", query_string={"q": q}).status_code == 200
        assert client.get("/audit/", query_string={"user": q, "date_from": d, "page": page,
                                                   "record_type": q}).status_code in (200, 400)
        assert client.get(f"/units/{unit}").status_code in (200, 404)
    run()


def test_hypothesis_tries_the_same_examples_in_ci_and_random_ones_elsewhere():
    import os
    ci = settings.get_profile("cnscd-ci")
    assert ci.derandomize and ci.database is None
    if os.environ.get("CI"):
        assert settings.default.derandomize and settings.default.database is None
    else:
        assert not settings.default.derandomize and settings.default.database is not None


@pytest.mark.parametrize("record", ["2147483647", "2147483648"])
def test_ids_at_the_database_s_largest_integer_and_one_past_it_are_not_found_never_a_500(client, tree, login_as,
                                                                                         record):
    # The largest id a PostgreSQL integer holds, and the first it cannot: both are records that do not exist.
    from app.forms import record_id
    login_as("commune", tree.commune)
    assert record_id(record) == (int(record) if record == "2147483647" else None)
    for path in (f"/teams/{record}", f"/households/{record}", f"/coverage/{record}", f"/units/{record}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/teams/unit/{tree.commune.id}?hamlet={record}").status_code == 200


@pytest.mark.parametrize("typed, read", [("1", 1), (" 7 ", 7), ("0000000042", 42), ("0", None), ("-1", None),
                                         ("00000000042", None), ("٣", None), ("²", None), ("1.0", None), ("", None),
                                         (None, None), (7, None)])
def test_a_record_id_is_plain_digits_from_1_up(typed, read):
    from app.forms import record_id
    assert record_id(typed) == read
