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
    SignInPausedError,
    account_for,
    create_account,
    issue,
    revoke,
    use_hasher,
    verify,
)
from formcheck.people.db import Database
from formcheck.people.models import Credential, SignInThrottle
from formcheck.server.config import SignInLimits

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


def test_a_password_longer_than_the_limit_never_matches(database: Database) -> None:
    """The stored password is at most MAX_PASSWORD_CHARS long; a longer one given at sign-in
    is a different password, not the stored one with something after it."""
    longest = "p" * accounts.MAX_PASSWORD_CHARS
    with database.session() as session:
        create_account(session, "ana", longest, "clinician")
    with database.session() as session:
        assert verify(session, "ana", longest).username == "ana"
        with pytest.raises(SignInError):
            verify(session, "ana", longest + "x")


# --- API tokens: listed and revoked by their owner ------------------------------------------


def test_tokens_are_listed_by_their_owner_and_revoked_at_once(database: Database) -> None:
    with database.session() as session:
        ana = create_account(session, "ana", PASSWORD, "clinician")
        ben = create_account(session, "ben", PASSWORD, "clinician")
        first = issue(session, ana, "api", "laptop")
        second = issue(session, ana, "api", "backup")
        issue(session, ana, "cookie")
        bens = issue(session, ben, "api", "ben's")
    with database.session() as session:
        listed = accounts.api_tokens(session, ana)
        assert [t.label for t in listed] == ["laptop", "backup"]  # no cookies, no one else's
        assert not accounts.revoke_token(session, ben, first.credential_id)  # not ben's
        assert not accounts.revoke_token(session, ana, bens.credential_id)
        assert accounts.revoke_token(session, ana, first.credential_id)
    with database.session() as session:
        assert account_for(session, first.secret, "api") is None
        assert account_for(session, second.secret, "api") is not None
        assert account_for(session, bens.secret, "api") is not None


def test_a_tokens_last_use_is_noted_at_most_once_a_minute(database: Database) -> None:
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with database.session() as session:
        ana = create_account(session, "ana", PASSWORD, "clinician")
        token = issue(session, ana, "api", now=start)
    for offset_s, expected_s in ((0, None), (5, 5), (30, 5), (70, 70)):
        with database.session() as session:
            if offset_s:
                assert account_for(session, token.secret, "api", now=start + _s(offset_s))
            used = session.get(Credential, token.credential_id)
            assert used is not None
            noted = used.last_used_at
            expected = start + _s(expected_s) if expected_s is not None else None
            assert (accounts.as_utc(noted) if noted else None) == expected, offset_s


def test_an_account_keeps_a_bounded_number_of_tokens_and_expired_sign_ins_go(
    database: Database,
) -> None:
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with database.session() as session:
        ana = create_account(session, "ana", PASSWORD, "clinician")
        issue(session, ana, "cookie", now=start)
        for n in range(accounts.MAX_API_TOKENS):
            issue(session, ana, "api", f"t{n}", now=start)
        with pytest.raises(AccountError, match="revoke one"):
            issue(session, ana, "api", "one too many", now=start)
    later = start + accounts.TOKEN_LIFETIME + _s(1)  # every one of them has expired
    with database.session() as session:
        issue(session, ana, "api", "fresh", now=later)
        kept = session.scalars(select(Credential.label)).all()
        assert kept == ["fresh"], "expired sign-ins (the cookie and 20 tokens) were kept"


# --- wrong passwords pause signing in with that name ----------------------------------------

LIMITS = SignInLimits(max_wrong_passwords=3, window_s=600, pause_s=900)
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def _s(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)


def _try(database: Database, name: str, password: str, at: dt.datetime) -> str:
    """One sign-in, committed as the route commits it; what came of it."""
    with database.session() as session:
        try:
            verify(session, name, password, limits=LIMITS, now=at)
        except SignInPausedError as error:
            return f"paused {error.retry_after_s}"
        except SignInError:
            return "wrong"
    return "in"


def test_too_many_wrong_passwords_pause_the_name_until_the_pause_ends(
    database: Database,
) -> None:
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician")
    outcomes = [_try(database, "ana", "wrong password", T0 + _s(i)) for i in range(3)]
    assert outcomes == ["wrong", "wrong", "wrong"]
    # paused: even the right password is refused, and the pause is counted from the third
    assert _try(database, "ana", PASSWORD, T0 + _s(3)) == "paused 899"
    assert _try(database, "Ana ", PASSWORD, T0 + _s(2 + 899)) == "paused 1"
    assert _try(database, "ana", PASSWORD, T0 + _s(2 + 900)) == "in"  # the pause is over
    # and a right password starts the count again
    assert [_try(database, "ana", "wrong password", T0 + _s(1000 + i)) for i in range(2)] == [
        "wrong", "wrong",
    ]  # fmt: skip
    assert _try(database, "ana", PASSWORD, T0 + _s(1003)) == "in"
    assert _try(database, "ana", "wrong password", T0 + _s(1004)) == "wrong"
    assert _try(database, "ana", PASSWORD, T0 + _s(1005)) == "in"


def test_wrong_passwords_spread_beyond_the_window_do_not_pause(database: Database) -> None:
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician")
    at = [T0, T0 + _s(300), T0 + _s(601), T0 + _s(700)]  # the window restarts at 601
    assert [_try(database, "ana", "wrong password", t) for t in at] == ["wrong"] * 4
    assert _try(database, "ana", PASSWORD, T0 + _s(701)) == "in"


class CountingHasher(PasswordHasher):
    """Counts the argon2 verifications: the work a sign-in costs (its time, without timing)."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        type(self).verified += 1
        return super().verify(hash, password)


def test_an_unknown_name_is_paused_exactly_like_a_known_one(database: Database) -> None:
    """Nobody learns which names have accounts: the answers match step by step, and so does
    the work (one argon2 verification per try until the pause; none while paused)."""
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician")
    previous = use_hasher(CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))

    def sequence(name: str) -> list[tuple[str, int]]:
        steps = []
        for at, password in [(T0 + _s(i), "wrong password") for i in range(4)] + [
            (T0 + _s(10), PASSWORD)
        ]:
            before = CountingHasher.verified
            steps.append((_try(database, name, password, at), CountingHasher.verified - before))
        return steps

    try:
        known, unknown = sequence("ana"), sequence("zed")
    finally:
        use_hasher(previous)
    assert known == unknown
    assert known == [("wrong", 1), ("wrong", 1), ("wrong", 1), ("paused 899", 0), ("paused 892", 0)]


def test_the_pause_is_per_name_and_names_are_kept_only_as_hashes(database: Database) -> None:
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician")
        create_account(session, "ben", PASSWORD, "clinician")
    typed = "MyS3cret-typed-as-a-name"
    for i in range(3):
        _try(database, "ana", "wrong password", T0 + _s(i))
        _try(database, typed, "wrong password", T0 + _s(i))
    assert _try(database, "ana", PASSWORD, T0 + _s(5)).startswith("paused")
    assert _try(database, "ben", PASSWORD, T0 + _s(5)) == "in"
    with database.session() as session:
        keys = session.scalars(select(SignInThrottle.name_sha256)).all()
    assert hashlib.sha256(typed.lower().encode()).hexdigest() in keys
    assert hashlib.sha256(b"ana").hexdigest() in keys and "ana" not in keys
    assert not any(typed.lower() in key for key in keys)


def test_finished_windows_and_pauses_are_removed(database: Database) -> None:
    for name in ("zed", "yan"):
        for i in range(3):
            _try(database, name, "wrong password", T0 + _s(i))
    with database.session() as session:
        assert session.query(SignInThrottle).count() == 2
    # long after both pauses: the next wrong password (any name) clears them away
    assert _try(database, "xia", "wrong password", T0 + _s(5000)) == "wrong"
    with database.session() as session:
        assert session.query(SignInThrottle).count() == 1


def test_a_pause_of_one_wrong_password(database: Database) -> None:
    strict = SignInLimits(max_wrong_passwords=1, window_s=60, pause_s=60)
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician")
    with database.session() as session, pytest.raises(SignInError):
        verify(session, "ana", "wrong password", limits=strict, now=T0)
    with database.session() as session, pytest.raises(SignInPausedError):
        verify(session, "ana", PASSWORD, limits=strict, now=T0 + _s(1))
