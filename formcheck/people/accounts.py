"""Clinicians and people: argon2 password hashes, sign-ins as browser cookies or API tokens.

A sign-in's secret (``fc_`` + 256 random bits) is given to the client once; the database
keeps only its SHA-256, so a copy of the database signs nobody in. A browser's cookie lasts
``COOKIE_LIFETIME``, an API token ``TOKEN_LIFETIME``; an account lists its API tokens (never
their secrets) and revokes them. A wrong user name costs the same argon2 work as a wrong
password (no telling which names exist by timing), and too many wrong passwords for one name
pause signing in with it (``SignInLimits``), known name or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formcheck.errors import FormcheckError
from formcheck.people.models import Account, Credential, SignInThrottle, as_utc, utc_now
from formcheck.server.config import SignInLimits

Role = Literal["clinician", "person"]
CredentialKind = Literal["cookie", "api"]
ROLES: tuple[Role, ...] = ("clinician", "person")
SECRET_BYTES = 32
SECRET_PREFIX = "fc_"
COOKIE_LIFETIME = dt.timedelta(days=14)
TOKEN_LIFETIME = dt.timedelta(days=365)
MAX_API_TOKENS = 20  # live tokens per account: one per script or machine is plenty
# A token's last use is written at most this often (not a database write per request).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# NIST SP 800-63B: at least 8 characters; a clinic's records deserve a little more. The
# upper limit keeps one sign-in from costing unbounded hashing.
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MAX_DISPLAY_NAME_CHARS = 80


class _Hashing:
    """The argon2id hasher (RFC 9106's low-memory profile: 64 MiB, 3 passes, by default)
    and a hash of no one's password to verify against for unknown names."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy: str | None = None

    @property
    def dummy(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash("formcheck: no such user")
        return self._dummy


# RFC 9106's second recommended (low-memory) argon2id profile.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 65_536  # 64 MiB
ARGON2_PARALLELISM = 4


def production_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
    )


_hashing = _Hashing(production_hasher())


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash with these parameters from now on (tests use cheap ones); returns the previous
    hasher. Stored hashes made with other parameters still verify, and are rehashed with
    these at the next sign-in."""
    global _hashing
    previous = _hashing.hasher
    _hashing = _Hashing(hasher)
    return previous


class AccountError(FormcheckError):
    """An account cannot be created or changed as asked (the reason is for the user)."""


class SignInError(FormcheckError):
    """The user name or password is wrong (one message for both)."""


class SignInPausedError(FormcheckError):
    """Too many wrong passwords for this user name: signing in with it is paused."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__(
            "Too many wrong passwords for this user name: signing in with it is paused for "
            f"{minutes} more minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after_s = retry_after_s


def hash_password(password: str) -> str:
    check_password(password)
    return _hashing.hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"The password may have at most {MAX_PASSWORD_CHARS} characters.")


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise AccountError(
            "A user name has 2 to 63 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def create_account(
    session: Session,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    clinician: Account | None = None,
) -> Account:
    """A new account; a person needs their clinician, a clinician has none."""
    name = check_username(username)
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    if (role == "person") != (clinician is not None):
        raise AccountError("A person is created by their clinician; a clinician by no one.")
    if clinician is not None and clinician.role != "clinician":
        raise AccountError("Only a clinician looks after people.")
    shown = (display_name.strip() or name)[:MAX_DISPLAY_NAME_CHARS]
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise AccountError(f"The user name '{name}' is taken.")
    account = Account(
        username=name,
        display_name=shown,
        role=role,
        password_hash=hash_password(password),
        clinician_id=clinician.id if clinician is not None else None,
    )
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, account: Account, password: str) -> None:
    account.password_hash = hash_password(password)
    session.execute(delete(Credential).where(Credential.account_id == account.id))


def verify(
    session: Session,
    username: str,
    password: str,
    *,
    limits: SignInLimits | None = None,
    now: dt.datetime | None = None,
) -> Account:
    """The account these match; SignInError otherwise (the same work either way).

    With ``limits``, wrong passwords are counted per user name (known or not, the same
    queries either way) and a paused name gets SignInPausedError without its password being
    tried. The count is written in ``session``: the caller commits it even when this raises.
    """
    name = username.strip().lower()
    account = session.scalar(select(Account).where(Account.username == name))
    now = now or utc_now()
    throttle = None
    if limits is not None:
        throttle = session.get(SignInThrottle, _digest(name), with_for_update=True)
        paused_until = _paused_until(throttle, now)
        if paused_until is not None:
            raise SignInPausedError(max(1, math.ceil((paused_until - now).total_seconds())))
    hasher = _hashing.hasher
    stored = account.password_hash if account is not None else _hashing.dummy
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError) as error:
        if limits is not None:
            _count_wrong_password(session, _digest(name), throttle, limits, now)
        raise SignInError("The user name or password is wrong.") from error
    if account is None:  # pragma: no cover - the dummy hash never matches a password
        raise SignInError("The user name or password is wrong.")
    if throttle is not None:
        session.delete(throttle)  # a right password starts the count again
    if hasher.check_needs_rehash(stored):
        account.password_hash = hasher.hash(password)
    return account


def _paused_until(throttle: SignInThrottle | None, now: dt.datetime) -> dt.datetime | None:
    if throttle is None or throttle.locked_until is None:
        return None
    until = as_utc(throttle.locked_until)
    return until if until > now else None


def _count_wrong_password(
    session: Session,
    key: str,
    throttle: SignInThrottle | None,
    limits: SignInLimits,
    now: dt.datetime,
) -> None:
    """One more wrong password for this name: a new window when the last one (or its pause)
    is over, else the count raised in the database itself (concurrent tries all count), and
    the pause once it reaches the limit. Rows nobody needs any more are removed."""
    window = dt.timedelta(seconds=limits.window_s)
    session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.window_started_at <= now - window,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
            SignInThrottle.name_sha256 != key,
        ),
        execution_options={"synchronize_session": "fetch"},  # SQLite's times are naive
    )
    if throttle is None:
        try:
            with session.begin_nested():  # another try may insert the same name at once
                session.add(SignInThrottle(name_sha256=key, failures=1, window_started_at=now))
            throttle = session.get(SignInThrottle, key)  # the row just added
        except IntegrityError:
            throttle = session.get(SignInThrottle, key, with_for_update=True)
            assert throttle is not None
            _raise_count(session, key)
            session.refresh(throttle)
    elif _window_over(throttle, window, now):
        throttle.failures, throttle.window_started_at, throttle.locked_until = 1, now, None
    else:
        _raise_count(session, key)
        session.refresh(throttle)
    if throttle is not None and throttle.failures >= limits.max_wrong_passwords:
        throttle.locked_until = now + dt.timedelta(seconds=limits.pause_s)


def _raise_count(session: Session, key: str) -> None:
    session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.name_sha256 == key)
        .values(failures=SignInThrottle.failures + 1)
    )


def _window_over(throttle: SignInThrottle, window: dt.timedelta, now: dt.datetime) -> bool:
    if throttle.locked_until is not None:
        return as_utc(throttle.locked_until) <= now  # the pause is over: counting starts again
    return as_utc(throttle.window_started_at) <= now - window


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    credential_id: int
    secret: str  # shown to the client once; only its hash is kept
    expires_at: dt.datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    session: Session,
    account: Account,
    kind: CredentialKind,
    label: str = "",
    now: dt.datetime | None = None,
) -> IssuedSecret:
    """A new sign-in; this account's expired ones are removed first. AccountError when the
    account already has ``MAX_API_TOKENS`` live API tokens."""
    now = now or utc_now()
    session.execute(
        delete(Credential).where(Credential.account_id == account.id, Credential.expires_at <= now),
        execution_options={"synchronize_session": "fetch"},  # SQLite's times are naive
    )
    if kind == "api":
        live = session.scalar(
            select(func.count()).where(Credential.account_id == account.id, Credential.kind == kind)
        )
        if (live or 0) >= MAX_API_TOKENS:
            raise AccountError(
                f"This account has {MAX_API_TOKENS} API tokens, the most it may keep: revoke one "
                "it no longer needs first (DELETE /api/account/tokens/{id})."
            )
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    lifetime = COOKIE_LIFETIME if kind == "cookie" else TOKEN_LIFETIME
    credential = Credential(
        account_id=account.id,
        kind=kind,
        secret_sha256=_digest(secret),
        label=label[:MAX_DISPLAY_NAME_CHARS],
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(credential)
    session.flush()
    return IssuedSecret(credential.id, secret, credential.expires_at)


def account_for(
    session: Session, secret: str, kind: CredentialKind, now: dt.datetime | None = None
) -> Account | None:
    """The account a live (not expired) secret of this kind signs in, or None. An API
    token's last use is noted (to ``LAST_USED_RESOLUTION``)."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    credential = session.scalar(
        select(Credential).where(
            Credential.secret_sha256 == _digest(secret), Credential.kind == kind
        )
    )
    now = now or utc_now()
    if credential is None or as_utc(credential.expires_at) <= now:
        return None
    if kind == "api" and (
        credential.last_used_at is None
        or as_utc(credential.last_used_at) <= now - LAST_USED_RESOLUTION
    ):
        credential.last_used_at = now
    return session.get(Account, credential.account_id)


def revoke(session: Session, secret: str) -> None:
    session.execute(delete(Credential).where(Credential.secret_sha256 == _digest(secret)))


def api_tokens(session: Session, account: Account) -> list[Credential]:
    """This account's API tokens, oldest first (expired ones too, until the next is issued)."""
    query = (
        select(Credential)
        .where(Credential.account_id == account.id, Credential.kind == "api")
        .order_by(Credential.created_at, Credential.id)
    )
    return list(session.scalars(query))


def revoke_token(session: Session, account: Account, token_id: int) -> bool:
    """Revoke one of this account's API tokens (it stops signing in at once); False when it
    has no such token (another account's id included)."""
    result = session.execute(
        delete(Credential).where(
            and_(
                Credential.id == token_id,
                Credential.account_id == account.id,
                Credential.kind == "api",
            )
        )
    )
    return bool(getattr(result, "rowcount", 0))
