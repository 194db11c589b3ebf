"""The admin side: the kalender CLI, serve, provisioning, demo data, maintenance."""
