"""Village archives (一村一档): yearly figures, 两委, talents, pay, ledgers, rules and the printable archive."""
