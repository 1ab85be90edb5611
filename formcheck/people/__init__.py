"""People, programmes and progress over weeks (issue 16).

- :mod:`.db` opens the database (SQLite in the data directory by default, PostgreSQL for a
  clinic) and brings its schema to the newest Alembic migration (``migrations/``);
- :mod:`.models` the tables (SQLAlchemy 2); :mod:`.accounts` clinicians and people, argon2
  passwords, session cookies and API tokens;
- :mod:`.programmes` prescriptions and progression rules; :mod:`.measures` a set's numbers
  from its report; :mod:`.progress` series over weeks and minimal detectable changes;
  :mod:`.suggestions` rule-based micro-progressions;
- :mod:`.routes` the HTTP API and pages; :mod:`.cli` ``formcheck users`` and ``history``.
"""
