/** Who a CARTO access token stands for, for display. */
import { jwtClaims } from "../jwt.ts";

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
