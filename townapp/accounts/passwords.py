"""Password hashes: scrypt (memory-hard, in the standard library) with a per-user random salt.

Stored as ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<key b64>`` so the cost can be
raised later without breaking old hashes. The password itself is never stored,
logged or written to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from townapp.core.policy import ScryptParams, security_policy

_SCHEME = "scrypt"


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * r * n * p + 16 * 1024 * 1024)


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    params = params or security_policy().scrypt
    salt = secrets.token_bytes(params.salt_bytes)
    key = _derive(password, salt, params.log2_n, params.r, params.p, params.key_bytes)
    encode = base64.b64encode
    return f"{_SCHEME}${params.log2_n}${params.r}${params.p}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time comparison; a malformed or missing hash never verifies."""
    if not stored:
        return False
    try:
        scheme, log2_n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != _SCHEME:
            return False
        salt, key = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        candidate = _derive(password, salt, int(log2_n), int(r), int(p), len(key))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, key)
