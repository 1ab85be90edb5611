"""Alembic's environment: runs the migrations on the engine formcheck.people.db hands over
(``config.attributes["engine"]``), one transaction for all of them."""

from __future__ import annotations

from alembic import context

from formcheck.people.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
