"""Users and roles, login and lockout, and the audit log viewer's queries."""
