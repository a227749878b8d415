"""Users and roles (login, lockout and the audit viewer grow here)."""
