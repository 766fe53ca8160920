"""Storage: tables, migrations and the repository functions the services call."""
