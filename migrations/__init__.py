"""The Alembic migrations, installed inside the package as ``app.migrations`` (pyproject.toml maps this
directory there), so that a wheel migrates as a checkout does: app.db finds them through the package.

``env.py`` is Alembic's environment; ``versions/`` holds one revision per file, each frozen DDL and SQL that
imports nothing of the app (the app's code follows the newest schema, a migration the schema of its revision).
"""
