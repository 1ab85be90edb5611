"""Durable background jobs for uploaded recordings: a SQLite store, uploads and a worker pool.

Layout of a data directory (see :class:`formcheck.jobs.config.JobsConfig`)::

    jobs.sqlite3            the job table (WAL mode)
    jobs.lock               held by the one process that owns the directory
    incoming/               uploads being received (random names)
    uploads/<random>.upload accepted uploads (never served)
    reports/<job id>/       report.html, report.json, measures.csv, annotated.mp4
    reports/<job id>.part-<token>/  a run in progress (renamed when it succeeds)
"""
