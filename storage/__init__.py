"""The store: SQLAlchemy 2 models, repositories (the only code that writes SQL), migrations."""
