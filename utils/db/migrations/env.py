"""Alembic's environment: the output schema's one MetaData, on the connection `utils.db.migrating` hands over."""

from alembic import context

from utils.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
