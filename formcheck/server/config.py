"""Server settings, with units in every name, in one place.

Every field can be set from the environment: ``FORMCHECK_<FIELD>`` (``FORMCHECK_MAX_SESSIONS=2``,
``FORMCHECK_TOKEN=...``), nested ones with ``__`` (``FORMCHECK_JOBS__WORKERS=2``,
``FORMCHECK_CLIENTS__MAX_UPLOADS_IN_PROGRESS=8``), lists as JSON
(``FORMCHECK_ALLOWED_ORIGINS='["https://formcheck.example"]'``). ``formcheck serve``'s
options override the environment.
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from formcheck.config import PipelineConfig
from formcheck.jobs.config import JobsConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK_NAMES = ("localhost", "localhost.")
MIN_TOKEN_CHARS = 16  # a shorter token given by hand is refused (guessable)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a Host header's name) is this machine only."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class ClientLimits(BaseModel):
    """What one client (one peer address) may do over HTTP, and uploads in progress."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_s: float = Field(
        20.0,
        gt=0,
        description="sustained HTTP requests per second per client (the page polls a job once "
        "a second; loading it takes about ten requests); more get 429",
    )
    request_burst: int = Field(
        60, ge=1, description="requests a client may make at once before the rate applies"
    )
    max_uploads_in_progress: int = Field(
        4,
        ge=1,
        description="uploads being received at once, all clients together (each holds a "
        "thread and, at its end, a checking process); more get 429",
    )
    max_uploads_in_progress_per_client: int = Field(
        2, ge=1, description="uploads being received at once from one client"
    )
    uploads_per_hour: int = Field(
        30, ge=1, description="uploads one client may start per hour (429 beyond)"
    )
    upload_idle_timeout_s: float = Field(
        30.0, gt=0, description="an upload that sends nothing for this long is dropped (408)"
    )
    upload_min_bytes_per_s: float = Field(
        8_000.0,
        ge=0,
        description="an upload slower than this on average after the grace time is dropped "
        "(408): a slow phone link sends 100 kB/s; a slow-loris client a few bytes",
    )
    upload_rate_grace_s: float = Field(
        30.0, ge=0, description="time before the minimum upload rate applies"
    )
    retry_after_s: int = Field(10, ge=1, description="what a 429 asks the client to wait")
    max_tracked_clients: int = Field(
        10_000, ge=1, description="clients whose rates are remembered (the oldest forgotten)"
    )


class SignInLimits(BaseModel):
    """Wrong passwords for one user name (formcheck.people): after ``max_wrong_passwords``
    within ``window_s``, signing in with that name is paused for ``pause_s``, whoever tries
    and whether or not the name has an account (an unknown name is paused the same way)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_wrong_passwords: int = Field(
        10,
        ge=1,
        le=100,
        description="wrong passwords for one name within the window before it is paused "
        "(NIST SP 800-63B allows at most 100 in a row); 10 per 15 minutes leaves a guesser "
        "under a thousand tries a day",
    )
    window_s: float = Field(
        900.0, gt=0, description="the window the wrong passwords are counted in"
    )
    pause_s: float = Field(
        900.0,
        gt=0,
        description="how long signing in with that name is refused, even with the right "
        "password (sessions already signed in go on)",
    )
    max_concurrent_password_checks: int = Field(
        2,
        ge=1,
        le=64,
        description="argon2 hashings at once (sign-ins, new accounts): each takes 64 MiB and "
        "about a core for half a second, so more wait their turn",
    )
    password_check_wait_s: float = Field(
        10.0, gt=0, description="a sign-in waits this long for its turn, then gets 503"
    )


class ServerConfig(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix="FORMCHECK_", env_nested_delimiter="__"
    )

    # --- who may talk to it -----------------------------------------------------------------
    host: str = Field(DEFAULT_HOST, description="address to listen on")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    token: SecretStr | None = Field(
        None,
        description="the bearer token clients must send; beyond loopback one is generated at "
        "the first start and kept in the data directory when none is given",
    )
    require_token: bool = Field(
        False,
        description="require the token on loopback too (a machine shared with other users); "
        "beyond loopback it is always required",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="other origins (scheme://host:port) whose pages may use the API and the "
        "live socket; the server's own origin always may",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names accepted besides loopback ones while bound to loopback (a "
        "guard against DNS rebinding); beyond loopback any Host is accepted",
    )
    clients: ClientLimits = ClientLimits()

    # --- live sessions ----------------------------------------------------------------------
    max_sessions: int = Field(
        32,
        ge=1,
        description="live connections at once; with pose in the browser a set costs the "
        "server about 1-2 ms of CPU a frame (bench/bench_live.py)",
    )
    max_server_pose_sessions: int = Field(
        4,
        ge=0,
        description="sets with pose on the server at once (the fallback for browsers that "
        "cannot run it): each costs ~27 CPU ms a frame, so two cores give two of them 30 "
        "frames/s and more of them fewer; further ones are refused as busy",
    )
    live_workers: int | None = Field(
        None,
        ge=0,
        le=64,
        description="processes running browser-pose sets (their Python work is GIL-bound); "
        "None: one per core; 0: in the app's own process",
    )
    max_pose_payload_bytes: int = Field(
        400_000,
        ge=2_000,
        description="larger browser pose payloads are refused (a 640x480 frame's is 2-8 kB)",
    )
    max_sessions_per_client: int = Field(
        2, ge=1, description="live sessions at once from one client (peer address)"
    )
    ws_start_timeout_s: float = Field(
        30.0,
        gt=0,
        description="a live socket that has not started a set this long after connecting is "
        "closed, freeing its place",
    )
    ws_idle_timeout_s: float = Field(
        60.0,
        gt=0,
        description="a live socket that sends nothing for this long (between frames, or "
        "after a set) is closed, freeing its place",
    )
    max_clock_lead_ms: float = Field(
        2_000.0,
        ge=0,
        description="a frame's t_ms may run ahead of the server's own clock since the "
        "previous frame by at most this (a jump to 1e300 is refused)",
    )
    max_internal_errors: int = Field(
        20, ge=1, description="a live session failing this many messages in a row is closed"
    )
    traceback_log_interval_s: float = Field(
        60.0, gt=0, description="at most one traceback per session and kind per this interval"
    )
    max_json_depth: int = Field(
        32, ge=2, description="deeper nesting in a message or prescription is refused"
    )
    max_frame_bytes: int = Field(
        2_000_000, ge=1_000, description="larger frame messages are refused with an error"
    )
    max_frame_side_px: int = Field(
        4096, ge=64, description="images claiming a longer side are refused before decoding"
    )
    setup_ok_hold_s: float = Field(
        0.3, ge=0, description="the setup must be right this long before the set starts"
    )
    tracker_settle_max_s: float = Field(
        3.0,
        ge=0,
        description="the set waits for the pose tracker to settle on one person at most this "
        "long after the setup is right (its switch would shake the calibration)",
    )
    ws_max_message_bytes: int = Field(
        8_000_000, ge=1_000, description="uvicorn closes the socket on larger messages (1009)"
    )
    pipeline: PipelineConfig = PipelineConfig()
    sign_in: SignInLimits = SignInLimits()
    database_url: SecretStr | None = Field(
        None,
        description="people, programmes and sessions: postgresql://USER@HOST/DB for a clinic; "
        "None keeps them in SQLite in the data directory (people.db)",
    )
    jobs: JobsConfig | None = Field(
        None,
        description="uploads and background jobs (data directory, workers, limits, retention); "
        "None serves the live page only",
    )

    @property
    def token_required(self) -> bool:
        """Beyond loopback always; on loopback when asked."""
        return self.require_token or not is_loopback(self.host)
