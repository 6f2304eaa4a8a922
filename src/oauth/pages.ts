/** The small pages and redirects the loopback login server answers with. */

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // The callback URL holds the code: never send it on as a Referer.
  "referrer-policy": "no-referrer",
};

/**
 * Escapes text for HTML.
 *
 * @example
 * ```ts ignore
 * escapeHtml("<b>"); // "&#60;b&#62;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A page with a title and one paragraph, never cached.
 *
 * @example
 * ```ts ignore
 * page(404, "Not found", "Nothing here.");
 * ```
 */
export function page(
  status: number,
  title: string,
  text: string,
  headers: Record<string, string> = {},
): Response {
  const body =
    `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`;
  return new Response(body, {
    status,
    headers: { ...PAGE_HEADERS, ...headers },
  });
}

/**
 * A 302 to `location`, never cached, without a Referer onwards.
 *
 * @example
 * ```ts ignore
 * redirect("https://app.carto.com/auth/success");
 * ```
 */
export function redirect(
  location: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(null, {
    status: 302,
    headers: { ...PAGE_HEADERS, ...headers, location },
  });
}
