"""Every module's models in one MetaData: what migrations and the schema test compare.

This is a composition root (like cli.py): it may import every module; the db
layer itself never does.
"""

from townapp.accounts import models as _accounts  # noqa: F401
from townapp.archives import models as _archives  # noqa: F401
from townapp.county import models as _county  # noqa: F401
from townapp.db.audit import AuditEntry  # noqa: F401
from townapp.db.base import Base, MetaEntry  # noqa: F401
from townapp.evaluations import models as _evaluations  # noqa: F401
from townapp.exchange import models as _exchange  # noqa: F401
from townapp.followup import models as _followup  # noqa: F401
from townapp.grids import models as _grids  # noqa: F401
from townapp.outputs import models as _outputs  # noqa: F401
from townapp.points import models as _points  # noqa: F401
from townapp.registry import models as _registry  # noqa: F401
from townapp.yearend import models as _yearend  # noqa: F401

metadata = Base.metadata
