"""Storage on PostgreSQL with asyncpg: the only place with SQL."""
