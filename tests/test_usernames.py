"""Usernames have one canonical form: at creation, at sign-in, in the per-account limit and in the data."""

import pytest
import sqlalchemy as sa

from app.auth.cli import create_user
from app.auth.models import User
from app.auth.usernames import normalise_username
from tests import migration_files
from tests.conftest import PASSWORD

# The same name as a person sees it, written the ways an attacker or a copy-paste writes it.
DISGUISES = [
    "bi-do-\u200bmat-khau",        # zero-width space
    "bi-do-\u00admat-khau",        # soft hyphen
    "bi-do-\x00mat-khau",          # NUL
    "bi-do-\u2060mat-khau",        # word joiner
    "\ufeffbi-do-mat-khau",       # byte order mark
    "bi-do-\u200cmat\u200d-khau",  # zero-width non-joiner and joiner
    "bi-do-\u202emat-khau\u202c",  # bidi override
    "BI-DO-MAT-KHAU",
    "ｂｉ－ｄｏ－ｍａｔ－ｋｈａｕ",     # full-width forms
    "  bi-do-mat-khau ",
    "\u200b" * 500 + "bi-do-mat-khau",  # padding longer than any username
    # Default-ignorable letters and marks that are not format characters: each shows nothing.
    *(f"bi-do-{chr(c)}mat-khau" for c in (
        0x034F,                   # combining grapheme joiner
        0x115F, 0x1160, 0x3164, 0xFFA0,  # Hangul fillers
        0x17B4, 0x17B5,           # Khmer inherent vowels
        0x180B, 0x180F,           # Mongolian variation selectors, first and last
        0xFE00, 0xFE0F,           # variation selectors, first and last
        0xE0100, 0xE01EF)),       # variation selectors supplement, first and last
]


@pytest.mark.parametrize("typed", DISGUISES)
def test_every_disguise_of_a_username_normalises_to_the_same_name(typed):
    assert normalise_username(typed) == "bi-do-mat-khau"


def test_vietnamese_letters_survive_normalisation_composed_and_lower_case():
    assert normalise_username("Nguye\u0302\u0303n\u200bĐạt") == "nguyễnđạt"


def test_invisible_characters_in_the_username_count_against_the_same_sign_in_limit(client, tree, db):
    create_user("bi-do-mat-khau", "commune", tree.commune, PASSWORD)
    db.session.commit()
    codes = [client.post("/auth/login", data={"username": DISGUISES[i], "password": "sai"}).status_code
             for i in range(10)]
    assert codes == [401] * 10
    # The eleventh attempt, under yet another spelling, is the one too many for the account.
    resp = client.post("/auth/login", data={"username": DISGUISES[10], "password": "sai"})
    assert resp.status_code == 429
    resp = client.post("/auth/login", data={"username": "bi-do-\u200bmat-khau", "password": PASSWORD})
    assert resp.status_code == 429


def test_a_username_typed_with_invisible_characters_signs_in_to_the_same_account(app, client, tree, db):
    user = create_user("can-bo-xa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    resp = client.post("/auth/login", data={"username": "CAN-\u200bBO\u00ad-XA\u2060", "password": PASSWORD})
    assert resp.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"] == user.get_id()


def test_accounts_are_created_under_the_normal_form_and_a_disguised_duplicate_is_refused(tree, db):
    user = create_user("Can\u200bBo\u00adXa", "commune", tree.commune, PASSWORD)
    db.session.commit()
    assert user.username == "canboxa"
    with pytest.raises(ValueError, match="taken"):
        create_user("CANBOXA\u2060", "commune", tree.commune, PASSWORD)
    with pytest.raises(ValueError):
        create_user("\u200b\u00ad\x00", "commune", tree.commune, PASSWORD)


def test_the_command_line_creates_the_normal_form(runner, tree, db):
    result = runner.invoke(args=["users", "create", "--username", "Tinh\u200b-Admin", "--role", "admin",
                                 "--unit", tree.province.code, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User.username).where(User.role == "admin")) == "tinh-admin"


def _migration():
    return migration_files.load("91d31081335c")


def test_the_migration_normalises_existing_usernames_and_reports_collisions(tree, db, capsys):
    users = {name: create_user(name, "commune", tree.commune, PASSWORD)
             for name in ("plain", "spaced", "dup-one", "dup-two", "keeps")}
    db.session.commit()
    ids = {name: user.id for name, user in users.items()}
    raw = {"plain": "Ad\u200bMin", "spaced": "\ufeffTo\u2060Truong", "dup-one": "Trung", "dup-two": "TRUNG\u00ad"}
    for name, spelling in raw.items():
        db.session.execute(sa.update(User).where(User.id == ids[name]).values(username=spelling))
    db.session.commit()

    with db.engine.begin() as conn:
        problems = _migration().normalise_usernames(conn)

    db.session.expire_all()
    names = {name: db.session.get(User, ids[name]).username for name in ids}
    assert names == {"plain": "admin", "spaced": "totruong", "dup-one": "Trung", "dup-two": "TRUNG\u00ad",
                     "keeps": "keeps"}
    assert len(problems) == 1 and "'Trung'" in problems[0] and "'trung'" in problems[0]
    assert "'Trung'" in capsys.readouterr().err
