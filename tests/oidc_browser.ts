/**
 * The stand-in browser of tests/oidc_provider.ts: walks oidc-provider's real
 * login and consent pages with `fetch`, carrying cookies by hand.
 */

/** What the person does on the pages. */
export interface WalkOptions {
  /** The login name typed on the login page, default `carto-user`. */
  user?: string;
  /** Cancel on the consent page instead of continuing. */
  decline?: boolean;
  /** Another name of the provider's origin (in the authorize URL) that is reached at `origin`. */
  alias?: string;
}

/**
 * Opens `url` (a login's start link, or an authorize URL of the provider at
 * `origin`), signs in, answers the consent page, and resolves with the
 * redirect URI the provider sent the browser to — after visiting it when it
 * is a loopback callback, with the page that callback sent the browser on to.
 */
export async function walkLogin(
  origin: string,
  url: string,
  options: WalkOptions = {},
): Promise<string> {
  const jar = new CookieJar();
  // The loopback server's: the login's start link sets a cookie its callback needs.
  const local = new CookieJar();
  let next = new URL(url);
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    if (next.origin === options.alias) {
      next = new URL(next.href.replace(options.alias, origin));
    }
    if (next.origin !== origin) {
      // At the client: the start link, or a loopback callback, visited as a browser would.
      if (next.hostname !== "localhost") return next.href;
      const res = await fetch(next, {
        redirect: "manual",
        headers: { cookie: local.header() },
      });
      local.take(res.headers);
      await res.body?.cancel();
      const location = res.headers.get("location") ?? next.href;
      if (!next.pathname.startsWith("/start/")) return location;
      next = new URL(location, next);
      continue;
    }
    const res = await fetch(next, {
      ...init,
      redirect: "manual",
      headers: { ...init.headers as object, cookie: jar.header() },
    });
    jar.take(res.headers);
    const location = res.headers.get("location");
    if (location) {
      await res.body?.cancel();
      next = new URL(location, next);
      init = {};
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) {
      throw new Error(`the login service answered ${res.status}: ${page}`);
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) {
      throw new Error(`no form on the page: ${page.slice(0, 500)}`);
    }
    const form = new URLSearchParams();
    const login = /name="login"/.test(page);
    if (login) {
      form.set("login", options.user ?? "carto-user");
      form.set("password", "any");
    } else if (options.decline) {
      // The consent page's "[ Cancel ]" link.
      const abort = /href="([^"]*\/abort)"/.exec(page)?.[1];
      next = new URL(unescapeHtml(abort!), next);
      init = {};
      continue;
    }
    for (
      const [, name, value] of page.matchAll(
        /<input type="hidden" name="([^"]+)" value="([^"]*)"/g,
      )
    ) form.set(name, unescapeHtml(value));
    next = new URL(unescapeHtml(action), next);
    init = {
      method: "POST",
      body: form.toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    };
  }
  throw new Error("the login did not finish within 20 pages");
}

/** Cookies carried by hand between the stand-in browser's requests. */
class CookieJar {
  #cookies = new Map<string, string>();
  take(headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) =>
        /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\b/i.test(a)
      );
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

function unescapeHtml(text: string): string {
  return text.replace(/&amp;/g, "&").replace(/&#x2F;/g, "/").replace(
    /&quot;/g,
    '"',
  );
}
