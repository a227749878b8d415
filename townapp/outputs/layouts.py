"""Certificate layout files (resources/certificates/*.json, or a folder a township points to), declared.

Positions and sizes are millimetres and points as floats (JSON decimals are
read exactly, then turned into the floats the PDF drawing works in).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, StrictInt, StringConstraints

from townapp.core.resources import Resource, Text, decimals_to_floats

Millimetres = Annotated[float, Field(ge=0)]
Size = Annotated[float, Field(gt=0)]


class TextField(Resource):
    """One line of text on the certificate: where, how large, how it fits."""

    key: Text
    text: str
    x_mm: Millimetres
    y_mm: Millimetres
    size: Size
    align: Literal["left", "center", "right"] = "left"
    max_width_mm: Annotated[float, Field(gt=0)] | None = None
    min_size: Size | None = None
    wrap: bool = False
    indent_chars: Annotated[StrictInt, Field(ge=0)] = 0
    leading_mm: Annotated[float, Field(gt=0)] | None = None
    max_lines: Annotated[StrictInt, Field(ge=1)] = 1
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")] = "#000000"


class Page(Resource):
    width_mm: Annotated[float, Field(gt=0)]
    height_mm: Annotated[float, Field(gt=0)]


class CertificateLayoutFile(Resource):
    resource_label: ClassVar[str] = "证书版式"
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    name: Text
    order: StrictInt = 99
    number_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,8}$")]
    schemes: tuple[Text, ...] = ()
    page: Page
    font: str = ""
    design: Annotated[dict[str, Any], BeforeValidator(decimals_to_floats)] = {}
    fields: Annotated[tuple[TextField, ...], Field(min_length=1)]
