"""Signs a Playrack player token in a tenant's backend: a JWT (HS256) under the tenant's
player-token key, with Python's standard library only (PyJWT does the same:
``jwt.encode(claims, key, algorithm="HS256")``).

    python3 player_token.py <tenant id> <player id> <player-token key> [level] [seconds]

Claims: iss = the tenant's id, sub = the player's id in your system (1-128 bytes),
exp = expiry in Unix seconds, level = optional queue priority (higher goes first).
"""
import base64
import hashlib
import hmac
import json
import sys
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_player_token(tenant_id, player_id, key, level=None, ttl_seconds=300):
    claims = {"iss": tenant_id, "sub": player_id, "exp": int(time.time()) + ttl_seconds}
    if level is not None:
        claims["level"] = level
    header = {"alg": "HS256", "typ": "JWT"}
    body = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    sig = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + _b64(sig)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: python3 player_token.py <tenant id> <player id> <key> [level] [seconds]")
    level = int(sys.argv[4]) if len(sys.argv) > 4 else None
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    print(sign_player_token(sys.argv[1], sys.argv[2], sys.argv[3], level, seconds))
