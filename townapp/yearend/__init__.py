"""年度结转: the year close that finalises what each module decided and carries it into the next year."""
