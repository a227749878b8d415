"""Password hashes: scrypt (memory-hard, in the standard library) with a per-user random salt.

Stored as ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<key b64>``: each hash carries
its own cost, so the policy's cost can be raised (N=2¹⁷, r=8, p=1 as OWASP
asks) and older hashes still verify; ``needs_rehash`` tells the login to store
a new hash at the policy's cost. The password itself is never stored, logged
or written to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from townapp.core.policy import ScryptParams, security_policy

_SCHEME = "scrypt"
# Costs a stored hash may ask for: a damaged or tampered database must not make a login allocate gigabytes.
_MAX_LOG2_N, _MAX_R, _MAX_P = 20, 32, 16
_DUMMY_SALT = b"townapp-no-such-user"


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
    if not (1 <= log2_n <= _MAX_LOG2_N and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P and 16 <= length <= 64):
        raise ValueError("scrypt parameters out of range")
    n = 1 << log2_n
    # OpenSSL needs 128·r·(N+2) bytes for V plus 128·r·p for B (128 MiB at N=2¹⁷, r=8); its default cap is 32 MiB
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * r * (n + p + 2) + 16 * 1024 * 1024)


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    params = params or security_policy().scrypt
    salt = secrets.token_bytes(params.salt_bytes)
    key = _derive(password, salt, params.log2_n, params.r, params.p, params.key_bytes)
    encode = base64.b64encode
    return f"{_SCHEME}${params.log2_n}${params.r}${params.p}${encode(salt).decode()}${encode(key).decode()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    scheme, log2_n, r, p, salt_b64, key_b64 = stored.split("$")
    if scheme != _SCHEME:
        raise ValueError("not an scrypt hash")
    return int(log2_n), int(r), int(p), base64.b64decode(salt_b64), base64.b64decode(key_b64)


def verify_password(password: str, stored: str | None, params: ScryptParams | None = None) -> bool:
    """Constant-time comparison; a malformed or missing hash never verifies.

    A missing hash (no such user) still costs one derivation at the policy's
    cost, so the time a login takes does not tell whether the user exists.
    """
    if not stored:
        params = params or security_policy().scrypt
        _derive(password or "", _DUMMY_SALT, params.log2_n, params.r, params.p, params.key_bytes)
        return False
    try:
        log2_n, r, p, salt, key = _parse(stored)
        candidate = _derive(password, salt, log2_n, r, p, len(key))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(candidate, key)


def needs_rehash(stored: str | None, params: ScryptParams | None = None) -> bool:
    """Whether ``stored`` was made at another cost than the policy's (upgraded at the next good login)."""
    params = params or security_policy().scrypt
    try:
        log2_n, r, p, salt, key = _parse(stored or "")
    except (ValueError, TypeError):
        return True
    return (log2_n, r, p, len(salt), len(key)) != (params.log2_n, params.r, params.p, params.salt_bytes,
                                                   params.key_bytes)
