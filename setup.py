"""Packaging glue that pyproject.toml cannot express: ship top-level resources/ in the wheel.

All metadata lives in pyproject.toml; this only lists the packages.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["townapp", "townapp.*"]), "townapp_resources"],
    package_dir={"townapp_resources": "resources"},
)
