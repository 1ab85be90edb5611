"""Accounts: argon2id with RFC 9106's parameters, sign-in secrets kept only as hashes,
expiry, names and passwords checked."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from formcheck.people import accounts
from formcheck.people.accounts import (
    AccountError,
    SignInError,
    account_for,
    create_account,
    issue,
    revoke,
    use_hasher,
    verify,
)
from formcheck.people.db import Database
from formcheck.people.models import Credential

PASSWORD = "correct horse battery"


def test_production_hashing_is_argon2id_with_rfc_9106_low_memory_parameters() -> None:
    hasher = accounts.production_hasher()
    assert hasher.hash("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_hashes_verify_and_are_upgraded_to_new_parameters(database: Database) -> None:
    with database.session() as session:
        account = create_account(session, "ana", PASSWORD, "clinician")
        assert (
            account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
        )
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    use_hasher(stronger)
    with database.session() as session:
        assert verify(session, "ANA ", PASSWORD).username == "ana"
    with database.session() as session:
        stored = verify(session, "ana", PASSWORD).password_hash
        assert "m=2048,t=2,p=1" in stored
        with pytest.raises(SignInError):
            verify(session, "ana", "wrong password!")
        with pytest.raises(SignInError):
            verify(session, "nobody", PASSWORD)


def test_secrets_are_kept_as_hashes_and_expire(database: Database) -> None:
    with database.session() as session:
        account = create_account(session, "ana", PASSWORD, "clinician")
        cookie = issue(session, account, "cookie")
        token = issue(session, account, "api", "script")
    with database.session() as session:
        stored = session.scalars(select(Credential.secret_sha256)).all()
        assert cookie.secret not in stored
        assert hashlib.sha256(cookie.secret.encode()).hexdigest() in stored
        assert account_for(session, cookie.secret, "cookie") is not None
        assert account_for(session, cookie.secret, "api") is None  # a cookie is not a token
        assert account_for(session, token.secret, "api") is not None
        assert account_for(session, "fc_" + "x" * 43, "api") is None
        credential = session.get(Credential, cookie.credential_id)
        assert credential is not None
        credential.expires_at = accounts.utc_now() - dt.timedelta(seconds=1)
    with database.session() as session:
        assert account_for(session, cookie.secret, "cookie") is None
        revoke(session, token.secret)
    with database.session() as session:
        assert account_for(session, token.secret, "api") is None


@pytest.mark.parametrize(
    ("username", "password", "words"),
    [("A", PASSWORD, "2 to 63"), ("bad name", PASSWORD, "2 to 63"), ("ana", "short", "at least"),
     ("ana", "x" * 300, "at most")],
)  # fmt: skip
def test_bad_names_and_passwords_are_refused(
    database: Database, username: str, password: str, words: str
) -> None:
    with database.session() as session, pytest.raises(AccountError, match=words):
        create_account(session, username, password, "clinician")


def test_roles_and_names(database: Database) -> None:
    with database.session() as session:
        clinician = create_account(session, "ana", PASSWORD, "clinician")
        person = create_account(session, "pat", PASSWORD, "person", "Pat", clinician)
        assert person.clinician_id == clinician.id and person.display_name == "Pat"
        with pytest.raises(AccountError, match="taken"):
            create_account(session, "Ana", PASSWORD, "clinician")
        with pytest.raises(AccountError, match="created by their clinician"):
            create_account(session, "solo", PASSWORD, "person")
        with pytest.raises(AccountError, match="Only a clinician"):
            create_account(session, "kid", PASSWORD, "person", clinician=person)
