"""The GUI's pages in navigation order, each module's listed once (the ui side of townapp/modules.py).

Each loader imports its page module only when called — with a plain import,
so the import graph shows it — because the window must be on screen before
any database code, service or heavy library is imported
(tests/ui/test_startup_story.py). This file imports no page module at its top.
"""

from __future__ import annotations

from townapp.ui.main_window import DeferredPages, ModulePages, PageFactory


def _dashboard() -> PageFactory:
    from townapp.ui.pages import dashboard

    return dashboard.create_pages


def _registry() -> PageFactory:
    from townapp.ui.pages import registry

    return registry.create_pages


def _archives() -> PageFactory:
    from townapp.ui.pages import archives

    return archives.create_pages


def _evaluations() -> PageFactory:
    from townapp.ui.pages import evaluations

    return evaluations.create_pages


def _followup() -> PageFactory:
    from townapp.ui.pages import followup

    return followup.create_pages


def _yearend() -> PageFactory:
    from townapp.ui.pages import yearend

    return yearend.create_pages


def _grids() -> PageFactory:
    from townapp.ui.pages import grids

    return grids.create_pages


def _points() -> PageFactory:
    from townapp.ui.pages import points

    return points.create_pages


def _outputs() -> PageFactory:
    from townapp.ui.pages import outputs

    return outputs.create_pages


def _exchange() -> PageFactory:
    from townapp.ui.pages import exchange

    return exchange.create_pages


def _accounts() -> PageFactory:
    from townapp.ui.pages import accounts

    return accounts.create_pages


def _county() -> PageFactory:
    from townapp.ui.pages import county

    return county.create_pages


def _audit() -> PageFactory:
    from townapp.ui.pages import audit

    return audit.create_pages


# registry is light: built at once when the database opens, the others after the window shows
PAGE_FACTORIES: tuple[ModulePages, ...] = (
    DeferredPages("dashboard", _dashboard),
    ModulePages("registry", _registry),
    DeferredPages("archives", _archives),
    DeferredPages("evaluations", _evaluations),
    DeferredPages("followup", _followup),
    DeferredPages("grids", _grids),
    DeferredPages("points", _points),
    DeferredPages("outputs", _outputs),
    DeferredPages("yearend", _yearend),
    DeferredPages("exchange", _exchange),
    DeferredPages("county", _county),
    DeferredPages("accounts", _accounts),
    DeferredPages("audit", _audit),
)


def preload_context() -> None:
    """What every session needs before its first page: the context and the account service."""
    from townapp.accounts import service  # noqa: F401
    from townapp.ui import context  # noqa: F401
