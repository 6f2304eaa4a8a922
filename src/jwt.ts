/** Reading (never verifying) the claims of a JWT, such as a CARTO access token. */

/** The payload of a JWT, or `undefined` when `token` is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" && !Array.isArray(claims)
      ? claims
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` claim (Unix seconds) of a JWT; `undefined` for anything else. */
export function jwtExpiration(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp : undefined;
}
