/** Reading (not verifying) the claims of a CARTO access token, for display. */

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

/** Who a token stands for: its e-mail claim (CARTO namespaces it), else `sub`. */
export function tokenSubject(token: string): string | undefined {
  const claims = jwtClaims(token);
  if (!claims) return undefined;
  const emailKey = Object.keys(claims).find((k) =>
    k === "email" || k.endsWith("/email")
  );
  const value = (emailKey && claims[emailKey]) ?? claims.sub;
  return typeof value === "string" && value ? value : undefined;
}

/** The `exp` claim (Unix seconds), when there is one. */
export function tokenExpiration(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp : undefined;
}
