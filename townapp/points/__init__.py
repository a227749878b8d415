"""Party-member points (党员积分): rule sets, records and workflow, totals and grades, the points store."""
