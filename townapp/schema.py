"""Every module's models in one MetaData: what migrations and the schema test compare.

This is a composition root (like cli.py): it may import every module; the db
layer itself never does.
"""

from townapp.accounts import models as _accounts  # noqa: F401
from townapp.db.audit import AuditEntry  # noqa: F401
from townapp.db.base import Base, MetaEntry  # noqa: F401
from townapp.registry import models as _registry  # noqa: F401

metadata = Base.metadata
