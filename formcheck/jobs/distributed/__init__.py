"""The ``celery`` job backend: analyses on Celery workers on any machine, over Redis.

    server (formcheck serve --queue URL)           workers (formcheck worker --queue URL)
      POST /api/jobs: upload -> shared storage       a task per job: take the job (lease),
      record the job in Redis (quota, key)  ---->    analyse into reports/<id>.part-<token>,
      send the task "formcheck.analyse"              finish: begin -> rename -> done, once
      GET /api/jobs/<id>: the record                 heartbeats; a sweep requeues lost runs

- ``records``: the job records in Redis (atomic Lua scripts, leases, exactly-once finish).
- ``celery_app``: the Celery app and its delivery settings (late acks, requeue on a lost
  worker, prefetch 1, a visibility timeout longer than the longest job).
- ``run``: what a worker does with one task, and the recovery of a run that died finishing.
- ``sweeper``: requeues runs whose worker died and sends tasks that were never sent.
- ``service``: ``CeleryJobService``, the backend the HTTP routes use.
- ``worker``: ``formcheck worker`` (the pose model loaded once per worker process).

Uploads and reports live in the data directory, which every worker must reach at the same
content (a shared directory: NFS, a cluster file system); Redis holds only the records and
the tasks.
"""
