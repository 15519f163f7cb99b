// Signs a Playrack player token in a tenant's backend: a JWT (HS256) under the tenant's
// player-token key, with Node's standard library only. Any JWT library does the same.
//
//   node player-token.mjs <tenant id> <player id> <player-token key> [level] [seconds]
//
// Claims: iss = the tenant's id, sub = the player's id in your system (1–128 bytes),
// exp = expiry in Unix seconds, level = optional queue priority (higher goes first).
import { createHmac } from "node:crypto";

export function signPlayerToken({ tenantId, playerId, key, level, ttlSeconds = 300 }) {
  const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  const claims = { iss: tenantId, sub: playerId, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  if (level !== undefined) claims.level = level;
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [tenantId, playerId, key, level, seconds] = process.argv.slice(2);
  if (!tenantId || !playerId || !key) {
    console.error("usage: node player-token.mjs <tenant id> <player id> <player-token key> [level] [seconds]");
    process.exit(2);
  }
  const token = signPlayerToken({
    tenantId,
    playerId,
    key,
    level: level === undefined ? undefined : Number(level),
    ttlSeconds: seconds === undefined ? 300 : Number(seconds),
  });
  console.log(token);
}
