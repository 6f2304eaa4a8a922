/** The fake CARTO's sign-in page, shown by `/authorize` with `signInPage: true`. */
import { escapeHtml } from "../oauth/pages.ts";

/**
 * A sign-in form that carries the authorization request's parameters and
 * posts them back to `action` with the `user` typed in (the token's `sub`
 * becomes `auth0|<user>`) and `action=sign-in` or `action=cancel`.
 *
 * @example
 * ```ts ignore
 * c.html(signInPage("/auth0/authorize", c.req.query()));
 * ```
 */
export function signInPage(
  action: string,
  query: Record<string, string>,
): string {
  const hidden = Object.entries(query).map(([name, value]) =>
    `<input type="hidden" name="${escapeHtml(name)}" value="${
      escapeHtml(value)
    }">`
  ).join("");
  return `<!doctype html><meta charset="utf-8"><title>Sign in to CARTO</title>` +
    `<h1>Sign in to CARTO</h1>` +
    `<form method="post" action="${escapeHtml(action)}">${hidden}` +
    `<label>User <input name="user" value="fake-user"></label> ` +
    `<button name="action" value="sign-in">Sign in</button> ` +
    `<button name="action" value="cancel">Cancel</button></form>`;
}
