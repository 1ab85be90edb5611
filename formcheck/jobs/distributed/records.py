"""Job records in Redis: the Celery backend's counterpart of the SQLite job table.

Every change of a job is one Lua script, so it is atomic on the Redis server: queueing with
the owner's quota and idempotency key, a run taking the job, progress, the finish, a
failure, requeueing a lost run and deleting. Times come from Redis's own clock (``TIME``),
so the machines' clocks need not agree.

States: ``queued`` -> ``running`` (progress, lease) -> ``finishing`` (the run's outputs
are complete on the shared storage and being moved into place) -> ``done``; or ``failed``
with a plain reason. The API shows ``finishing`` as running ("saving the report").

Exactly-once completion works as in the SQLite store: taking a job gives the run a fresh
lease token, and every later change is conditional on (id, token, state). A run keeps its
lease alive (``heartbeat``); one whose lease ran out (its worker died) can be requeued or
taken over, after which the old run can change nothing. Only one run can move a job to
``finishing``, and no run can take a job in ``finishing``, so only that run moves its
outputs into ``reports/<job id>/`` (see formcheck.jobs.distributed.run).

Keys (``P`` is ``QueueConfig.key_prefix``; one Redis server, not a cluster)::

    P:job:<id>        hash: the job's fields (as the SQLite columns, plus lease_expires_s, sent)
    P:queued          set of queued job ids
    P:running         set of running and finishing job ids
    P:active:<owner>  set of the owner's queued, running and finishing jobs (the quota)
    P:idem:<owner>    hash: idempotency key -> job id
    P:finished        sorted set: done and failed jobs by finish time (retention)
    P:uploads         set of the stored upload names jobs refer to
    P:worker:<name>   a worker's presence (expires unless renewed)
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from formcheck.jobs.backend import QueueUnavailableError
from formcheck.jobs.config import QueueConfig, redact_url
from formcheck.jobs.errors import QuotaExceededError
from formcheck.jobs.store import JOB_ID_BYTES, Enqueued, Job, JobState

T = TypeVar("T")
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
INTERRUPTED_REASON = (
    "The analysis was interrupted %d times (a worker stopped, or could not record it); "
    "upload the video again to retry."
)
FINISHING_STAGE = "saving the report"

_PRELUDE = """
local p = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function jk(id) return p .. ':job:' .. id end
local function holds(k, token, states)
  local s = redis.call('HMGET', k, 'state', 'lease_token')
  if not s[1] or s[2] ~= token then return false end
  for _, v in ipairs(states) do if s[1] == v then return true end end
  return false
end
local function close(k, id, t)
  local owner = redis.call('HGET', k, 'owner')
  redis.call('SREM', p .. ':running', id)
  redis.call('SREM', p .. ':queued', id)
  redis.call('SREM', p .. ':active:' .. owner, id)
  redis.call('ZADD', p .. ':finished', t, id)
end
local function set_failed(k, id, t, reason)
  redis.call('HSET', k, 'state', 'failed', 'stage', 'failed', 'lease_token', '',
             'finished_s', t, 'updated_s', t, 'error', reason)
  close(k, id, t)
end
local function expired(k, t)
  return tonumber(redis.call('HGET', k, 'lease_expires_s') or '0') <= t
end
"""

# ARGV: prefix, id, upload_name, display_name, options_json, owner, key ('' none), max_active
_ENQUEUE = """
local id, owner, key, max_active = ARGV[2], ARGV[6], ARGV[7], tonumber(ARGV[8])
local idem = p .. ':idem:' .. owner
if key ~= '' then
  local existing = redis.call('HGET', idem, key)
  if existing then
    if redis.call('EXISTS', jk(existing)) == 1 then return {'existing', existing} end
    redis.call('HDEL', idem, key)
  end
end
local active = p .. ':active:' .. owner
if max_active > 0 and redis.call('SCARD', active) >= max_active then return {'quota', ''} end
local t = now()
local k = jk(id)
redis.call('HSET', k, 'id', id, 'state', 'queued', 'upload_name', ARGV[3],
           'display_name', ARGV[4], 'options_json', ARGV[5], 'created_s', t, 'updated_s', t,
           'progress', 0, 'stage', '', 'attempts', 0, 'owner', owner, 'sent', 0)
if key ~= '' then
  redis.call('HSET', k, 'idempotency_key', key)
  redis.call('HSET', idem, key, id)
end
redis.call('SADD', p .. ':queued', id)
redis.call('SADD', active, id)
redis.call('SADD', p .. ':uploads', ARGV[3])
return {'created', id}
"""

# ARGV: prefix, id, token, lease_s, max_attempts, reason format (%d: attempts)
_CLAIM = """
local id = ARGV[2]
local k = jk(id)
local state = redis.call('HGET', k, 'state')
if not state then return {'gone'} end
if state == 'done' or state == 'failed' then return {state} end
local t = now()
local attempts = tonumber(redis.call('HGET', k, 'attempts'))
if state == 'running' or state == 'finishing' then
  if not expired(k, t) then return {'held'} end
  if state == 'finishing' then return {'finishing'} end
  if attempts >= tonumber(ARGV[5]) then
    set_failed(k, id, t, string.format(ARGV[6], attempts))
    return {'failed'}
  end
end
attempts = attempts + 1
redis.call('HSET', k, 'state', 'running', 'attempts', attempts, 'lease_token', ARGV[3],
           'lease_expires_s', t + tonumber(ARGV[4]), 'started_s', t, 'updated_s', t,
           'progress', 0, 'stage', 'starting', 'sent', 1)
redis.call('HDEL', k, 'error')
redis.call('SREM', p .. ':queued', id)
redis.call('SADD', p .. ':running', id)
return {'claimed', tostring(attempts)}
"""

# ARGV: prefix, id, token, fraction, stage, lease_s
_PROGRESS = """
local k = jk(ARGV[2])
if not holds(k, ARGV[3], {'running'}) then return 0 end
local t = now()
redis.call('HSET', k, 'progress', ARGV[4], 'stage', ARGV[5], 'updated_s', t,
           'lease_expires_s', t + tonumber(ARGV[6]))
return 1
"""

# ARGV: prefix, id, token, lease_s
_HEARTBEAT = """
local k = jk(ARGV[2])
if not holds(k, ARGV[3], {'running', 'finishing'}) then return 0 end
redis.call('HSET', k, 'lease_expires_s', now() + tonumber(ARGV[4]))
return 1
"""

# ARGV: prefix, id, token, lease_s
_BEGIN_FINISH = (
    """
local k = jk(ARGV[2])
if not holds(k, ARGV[3], {'running'}) then return 0 end
local t = now()
redis.call('HSET', k, 'state', 'finishing', 'stage', '"""
    + FINISHING_STAGE
    + """',
           'updated_s', t, 'lease_expires_s', t + tonumber(ARGV[4]))
return 1
"""
)

# ARGV: prefix, id, token, result_json
_COMPLETE = """
local id = ARGV[2]
local k = jk(id)
if not holds(k, ARGV[3], {'finishing'}) then return 0 end
local t = now()
redis.call('HSET', k, 'state', 'done', 'progress', 1, 'stage', 'done', 'lease_token', '',
           'finished_s', t, 'updated_s', t, 'result_json', ARGV[4])
close(k, id, t)
return 1
"""

# ARGV: prefix, id, token, reason
_FAIL = """
local id = ARGV[2]
local k = jk(id)
if not holds(k, ARGV[3], {'running', 'finishing'}) then return 0 end
set_failed(k, id, now(), ARGV[4])
return 1
"""

# ARGV: prefix, id, max_attempts, reason format. A run whose lease ran out: queued again (or
# failed when out of attempts); 'finishing' is left to the caller (its files decide).
_REQUEUE_LOST = """
local id = ARGV[2]
local k = jk(id)
local state = redis.call('HGET', k, 'state')
if not state then return 'gone' end
if state ~= 'running' and state ~= 'finishing' then return state end
local t = now()
if not expired(k, t) then return 'held' end
if state == 'finishing' then return 'finishing' end
local attempts = tonumber(redis.call('HGET', k, 'attempts'))
if attempts >= tonumber(ARGV[3]) then
  set_failed(k, id, t, string.format(ARGV[4], attempts))
  return 'failed'
end
redis.call('HSET', k, 'state', 'queued', 'stage', 'queued', 'lease_token', '', 'progress', 0,
           'updated_s', t, 'sent', 0)
redis.call('SREM', p .. ':running', id)
redis.call('SADD', p .. ':queued', id)
return 'queued'
"""

# ARGV: prefix, id, token. A finishing run whose lease ran out and whose outputs are gone.
_REQUEUE_FINISHING = """
local id = ARGV[2]
local k = jk(id)
if not holds(k, ARGV[3], {'finishing'}) then return 0 end
local t = now()
if not expired(k, t) then return 0 end
redis.call('HSET', k, 'state', 'queued', 'stage', 'queued', 'lease_token', '', 'progress', 0,
           'updated_s', t, 'sent', 0)
redis.call('SREM', p .. ':running', id)
redis.call('SADD', p .. ':queued', id)
return 1
"""

# ARGV: prefix, id
_MARK_SENT = """
local k = jk(ARGV[2])
if redis.call('HGET', k, 'state') ~= 'queued' then return 0 end
redis.call('HSET', k, 'sent', 1, 'updated_s', now())
return 1
"""

# ARGV: prefix, id, unsent_grace_s. A queued job whose task is not known to be sent
# (recorded, then the broker failed before the task was sent): claimed for sending again.
_TAKE_UNSENT = """
local k = jk(ARGV[2])
local s = redis.call('HMGET', k, 'state', 'sent', 'updated_s')
if s[1] ~= 'queued' or s[2] ~= '0' then return 0 end
local t = now()
if tonumber(s[3]) > t - tonumber(ARGV[3]) then return 0 end
redis.call('HSET', k, 'updated_s', t)
return 1
"""

# ARGV: prefix, id -> the job's fields as it was (empty: there was none)
_DELETE = """
local id = ARGV[2]
local k = jk(id)
local fields = redis.call('HGETALL', k)
if #fields == 0 then return fields end
local s = redis.call('HMGET', k, 'owner', 'idempotency_key', 'upload_name')
redis.call('DEL', k)
redis.call('SREM', p .. ':running', id)
redis.call('SREM', p .. ':queued', id)
redis.call('SREM', p .. ':active:' .. s[1], id)
redis.call('SREM', p .. ':uploads', s[3])
redis.call('ZREM', p .. ':finished', id)
if s[2] and redis.call('HGET', p .. ':idem:' .. s[1], s[2]) == id then
  redis.call('HDEL', p .. ':idem:' .. s[1], s[2])
end
return fields
"""


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What a run's attempt to take a job found: ``claimed`` (with the job as taken),
    ``held`` (another live run has it), ``finishing`` (a run died while moving its outputs
    into place), ``done``, ``failed`` or ``gone`` (deleted)."""

    status: str
    job: Job | None = None
    token: str = ""


def connect(queue: QueueConfig) -> redis.Redis:
    """A client of the queue's Redis (strings in and out, commands time out)."""
    if queue.url is None:
        raise ValueError("no queue URL is set")
    return redis.Redis.from_url(
        queue.url,
        decode_responses=True,
        socket_timeout=queue.connect_timeout_s,
        socket_connect_timeout=queue.connect_timeout_s,
        health_check_interval=queue.connect_timeout_s,
    )


def _job(fields: dict[str, str]) -> Job:
    def number(name: str) -> float | None:
        value = fields.get(name, "")
        return float(value) if value != "" else None

    return Job(
        id=fields["id"],
        state=JobState.RUNNING if fields["state"] == "finishing" else JobState(fields["state"]),
        upload_name=fields["upload_name"],
        display_name=fields["display_name"],
        options=json.loads(fields.get("options_json") or "{}"),
        created_s=float(fields["created_s"]),
        updated_s=float(fields["updated_s"]),
        started_s=number("started_s"),
        finished_s=number("finished_s"),
        progress=float(fields.get("progress") or 0.0),
        stage=fields.get("stage", ""),
        attempts=int(fields.get("attempts") or 0),
        error=fields.get("error") or None,
        result=json.loads(fields["result_json"]) if fields.get("result_json") else {},
        owner=fields.get("owner", ""),
        idempotency_key=fields.get("idempotency_key") or None,
    )


class RedisJobStore:
    """The job records of one queue (``QueueConfig``); safe to share between threads."""

    def __init__(self, queue: QueueConfig, client: redis.Redis | None = None) -> None:
        self.queue = queue
        self.prefix = queue.key_prefix
        self.client = client if client is not None else connect(queue)
        scripts = {
            "enqueue": _ENQUEUE, "claim": _CLAIM, "progress": _PROGRESS,
            "heartbeat": _HEARTBEAT, "begin_finish": _BEGIN_FINISH, "complete": _COMPLETE,
            "fail": _FAIL, "requeue_lost": _REQUEUE_LOST,
            "requeue_finishing": _REQUEUE_FINISHING, "mark_sent": _MARK_SENT,
            "take_unsent": _TAKE_UNSENT, "delete": _DELETE,
        }  # fmt: skip
        self._scripts = {
            name: self.client.register_script(_PRELUDE + body) for name, body in scripts.items()
        }

    def close(self) -> None:
        self.client.close()

    def _run(self, name: str, *args: object) -> Any:
        return self._scripts[name](args=[self.prefix, *map(str, args)])

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def guarded(self, call: Callable[[], T]) -> T:
        """``call()``, with Redis being unreachable turned into QueueUnavailableError."""
        try:
            return call()
        except REDIS_ERRORS as error:
            raise QueueUnavailableError(
                f"The job queue at {redact_url(self.queue.url or '')} cannot be reached "
                f"({error}); try again in a minute."
            ) from error

    # --- creating and reading -------------------------------------------------------------

    def enqueue_checked(
        self,
        upload_name: str,
        display_name: str,
        options: dict[str, Any] | None = None,
        *,
        owner: str = "",
        idempotency_key: str | None = None,
        max_active: int | None = None,
    ) -> Enqueued:
        """Queue a job atomically with its checks (as ``JobStore.enqueue_checked``)."""
        job_id = secrets.token_hex(JOB_ID_BYTES)
        status, found = self._run(
            "enqueue", job_id, upload_name, display_name, json.dumps(options or {}), owner,
            idempotency_key or "", max_active or 0,
        )  # fmt: skip
        if status == "quota":
            assert max_active is not None
            raise QuotaExceededError(max_active)
        job = self.get(found)
        if job is None:  # deleted in between: as if the key had made nothing
            raise QueueUnavailableError("The job was deleted while it was queued; try again.")
        return Enqueued(job, created=status == "created")

    def get(self, job_id: str) -> Job | None:
        fields = self.client.hgetall(self.key("job", job_id))
        return _job({str(k): str(v) for k, v in fields.items()}) if fields else None

    def raw_state(self, job_id: str) -> str | None:
        """The stored state (``finishing`` included), None when there is no such job."""
        state = self.client.hget(self.key("job", job_id), "state")
        return str(state) if state is not None else None

    def lease_token(self, job_id: str) -> str:
        return str(self.client.hget(self.key("job", job_id), "lease_token") or "")

    def find_by_key(self, owner: str, idempotency_key: str) -> Job | None:
        job_id = self.client.hget(self.key("idem", owner), idempotency_key)
        return self.get(str(job_id)) if job_id else None

    def count_active(self, owner: str) -> int:
        return int(self.client.scard(self.key("active", owner)))

    def counts(self) -> dict[str, int]:
        """Queued and running (finishing included) jobs."""
        return {
            JobState.QUEUED.value: int(self.client.scard(self.key("queued"))),
            JobState.RUNNING.value: int(self.client.scard(self.key("running"))),
        }

    def running_ids(self) -> list[str]:
        return sorted(str(i) for i in self.client.smembers(self.key("running")))

    def queued_ids(self) -> list[str]:
        return sorted(str(i) for i in self.client.smembers(self.key("queued")))

    def now_s(self) -> float:
        seconds, micros = self.client.time()
        return float(seconds) + float(micros) / 1e6

    # --- running --------------------------------------------------------------------------

    def claim(self, job_id: str, token: str, max_attempts: int) -> ClaimOutcome:
        """Take the job for a run holding ``token`` (see ClaimOutcome)."""
        status, *_ = self._run(
            "claim", job_id, token, self.queue.lease_s, max_attempts, INTERRUPTED_REASON
        )
        if status != "claimed":
            return ClaimOutcome(str(status))
        return ClaimOutcome("claimed", self.get(job_id), token)

    def set_progress(self, job_id: str, token: str, fraction: float, stage: str = "") -> bool:
        """Record progress (renewing the lease); False when this token lost the job."""
        fraction = min(1.0, max(0.0, fraction))
        return bool(self._run("progress", job_id, token, fraction, stage, self.queue.lease_s))

    def heartbeat(self, job_id: str, token: str) -> bool:
        """Renew the run's lease; False when this token lost the job."""
        return bool(self._run("heartbeat", job_id, token, self.queue.lease_s))

    def begin_finish(self, job_id: str, token: str) -> bool:
        """running -> finishing, once: only this run may now move its outputs into place."""
        return bool(self._run("begin_finish", job_id, token, self.queue.lease_s))

    def complete(self, job_id: str, token: str, result: dict[str, Any] | None = None) -> bool:
        """finishing -> done, once: False when this token no longer holds the job."""
        return bool(self._run("complete", job_id, token, json.dumps(result or {})))

    def fail(self, job_id: str, token: str, reason: str) -> bool:
        """running or finishing -> failed with a plain reason; False when the token lost it."""
        return bool(self._run("fail", job_id, token, reason))

    def requeue_lost(self, job_id: str, max_attempts: int) -> str:
        """Requeue the job when its run's lease ran out (failed when out of attempts).
        Returns what it found or did: queued, failed, finishing, held, gone, done..."""
        return str(self._run("requeue_lost", job_id, max_attempts, INTERRUPTED_REASON))

    def requeue_finishing(self, job_id: str, token: str) -> bool:
        return bool(self._run("requeue_finishing", job_id, token))

    def mark_sent(self, job_id: str) -> bool:
        return bool(self._run("mark_sent", job_id))

    def take_unsent(self, job_id: str) -> bool:
        """True (once per grace period) for a queued job whose task is not known sent."""
        return bool(self._run("take_unsent", job_id, self.queue.unsent_grace_s))

    # --- deleting and retention -----------------------------------------------------------

    def delete(self, job_id: str) -> Job | None:
        """Remove the job's record; a run holding it loses its lease and stops."""
        flat = self._run("delete", job_id)
        if not flat:
            return None
        return _job(dict(zip(flat[::2], flat[1::2], strict=True)))

    def finished_before(self, cutoff_s: float) -> list[Job]:
        ids = self.client.zrangebyscore(self.key("finished"), "-inf", cutoff_s)
        jobs = (self.get(str(job_id)) for job_id in ids)
        return [job for job in jobs if job is not None]

    def upload_names(self) -> set[str]:
        return {str(name) for name in self.client.smembers(self.key("uploads"))}

    # --- workers --------------------------------------------------------------------------

    def announce_worker(self, name: str, info: dict[str, Any], ttl_s: float) -> None:
        """Say that worker ``name`` is alive (for ``ttl_s``)."""
        self.client.set(self.key("worker", name), json.dumps(info), px=round(ttl_s * 1000))

    def forget_worker(self, name: str) -> None:
        self.client.delete(self.key("worker", name))

    def workers(self) -> list[dict[str, Any]]:
        """The workers alive now (their announcements)."""
        keys = sorted(self.client.scan_iter(match=self.key("worker", "*"), count=1000))
        infos = self.client.mget(keys) if keys else []
        return [json.loads(info) for info in infos if info]
