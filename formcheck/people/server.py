"""The people layer inside the server: the database the settings name, its routes and page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from formcheck.people.db import Database, default_url
from formcheck.people.routes import STATIC_DIR, People, install_handlers, people_router
from formcheck.people.service import JobSource
from formcheck.server.attest import ReportSigner
from formcheck.server.config import ServerConfig


def open_people(
    config: ServerConfig, jobs: JobSource | None, signer: ReportSigner | None = None
) -> People | None:
    """The database (``database_url``, else SQLite in the data directory), migrated; None for
    a server without either (the live page alone)."""
    if config.database_url is not None:
        url = config.database_url.get_secret_value()
    elif config.jobs is not None:
        url = default_url(config.jobs.data_dir)
    else:
        return None
    return People(Database(url), jobs, signer, config.sign_in)


def install_people(app: FastAPI, people: People) -> None:
    app.mount("/people/static", StaticFiles(directory=STATIC_DIR), name="people-static")
    app.state.people = people  # tests set its clock
    app.include_router(people_router(people))
    install_handlers(app)
