"""Persistence: SQLAlchemy 2 async tables, repositories implementing core ports, migrations."""
