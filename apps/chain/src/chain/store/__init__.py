"""Database access: the connection pool, migrations, and the log's tables."""
