"""Storage: SQLAlchemy 2 typed models, sessions and Alembic migrations. Never imports Slack."""
