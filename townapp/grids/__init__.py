"""Grid management (网格化管理): grid tree, roster, household assignment, coverage, monthly assessment and subsidy."""
