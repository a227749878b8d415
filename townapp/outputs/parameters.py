"""resources/returns/figures.json: the 口径 (counting rules) every module's figures read, declared once."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, ClassVar

from pydantic import Field, StrictInt, model_validator

from townapp.core.resources import Resource, Text, load


class AgeBands(Resource):
    young_max: Annotated[StrictInt, Field(ge=0, le=150)]
    middle_max: Annotated[StrictInt, Field(ge=0, le=150)]

    @model_validator(mode="after")
    def _in_order(self) -> AgeBands:
        if self.middle_max <= self.young_max:
            raise ValueError("middle_max 应大于 young_max")
        return self


class FiguresFile(Resource):
    resource_label: ClassVar[str] = "报表口径"
    age_bands: AgeBands
    college_education: list[Text]
    member_status_counted: list[Text]
    point_grades: list[Text]
    grid_roles: list[Text]
    household_star_scheme: Text
    household_star_levels: dict[str, Text]
    org_star_scheme: Text
    secretary_star_scheme: Text
    commitment_done_status: list[Text]


@lru_cache(maxsize=1)
def figure_parameters() -> dict[str, Any]:
    """The parameters as the figure modules read them (a mapping, loaded and checked once)."""
    return load(FiguresFile, "returns", "figures.json").model_dump()
