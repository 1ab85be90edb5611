"""Clinicians and people: argon2 password hashes, sign-ins as browser cookies or API tokens.

A sign-in's secret (``fc_`` + 256 random bits) is given to the client once; the database
keeps only its SHA-256, so a copy of the database signs nobody in. A browser's cookie lasts
``COOKIE_LIFETIME``, an API token ``TOKEN_LIFETIME``. A wrong user name costs the same
argon2 work as a wrong password (no telling which names exist by timing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from formcheck.errors import FormcheckError
from formcheck.people.models import Account, Credential, utc_now

Role = Literal["clinician", "person"]
CredentialKind = Literal["cookie", "api"]
ROLES: tuple[Role, ...] = ("clinician", "person")
SECRET_BYTES = 32
SECRET_PREFIX = "fc_"
COOKIE_LIFETIME = dt.timedelta(days=14)
TOKEN_LIFETIME = dt.timedelta(days=365)
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


def verify(session: Session, username: str, password: str) -> Account:
    """The account these match; SignInError otherwise (the same work either way)."""
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    hasher = _hashing.hasher
    stored = account.password_hash if account is not None else _hashing.dummy
    try:
        hasher.verify(stored, password[:MAX_PASSWORD_CHARS])
    except (VerificationError, InvalidHashError) as error:
        raise SignInError("The user name or password is wrong.") from error
    if account is None:  # pragma: no cover - the dummy hash never matches a password
        raise SignInError("The user name or password is wrong.")
    if hasher.check_needs_rehash(stored):
        account.password_hash = hasher.hash(password)
    return account


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    credential_id: int
    secret: str  # shown to the client once; only its hash is kept
    expires_at: dt.datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    session: Session, account: Account, kind: CredentialKind, label: str = ""
) -> IssuedSecret:
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    lifetime = COOKIE_LIFETIME if kind == "cookie" else TOKEN_LIFETIME
    credential = Credential(
        account_id=account.id,
        kind=kind,
        secret_sha256=_digest(secret),
        label=label[:MAX_DISPLAY_NAME_CHARS],
        expires_at=utc_now() + lifetime,
    )
    session.add(credential)
    session.flush()
    return IssuedSecret(credential.id, secret, credential.expires_at)


def account_for(session: Session, secret: str, kind: CredentialKind) -> Account | None:
    """The account a live (not expired) secret of this kind signs in, or None."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    credential = session.scalar(
        select(Credential).where(
            Credential.secret_sha256 == _digest(secret), Credential.kind == kind
        )
    )
    if credential is None or _aware(credential.expires_at) <= utc_now():
        return None
    return session.get(Account, credential.account_id)


def revoke(session: Session, secret: str) -> None:
    session.execute(delete(Credential).where(Credential.secret_sha256 == _digest(secret)))


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
