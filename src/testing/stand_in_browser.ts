/**
 * A browser stand-in for tests: follows redirects by hand and keeps cookies
 * per host name, as a browser does, so a loopback login's start link and
 * callback see one browser session.
 */
import { isLoopbackHost } from "../endpoints.ts";

/** Where a {@linkcode StandInBrowser} ended. */
export interface BrowserLanding {
  /**
   * The last URL reached. A redirect off this machine (CARTO's success or
   * error page) is not followed: its target is returned here.
   */
  url: string;
  /** The HTTP status of the last answer. */
  status: number;
  /** The text of the last answer (`""` for a redirect off this machine). */
  text: string;
}

/**
 * A minimal browser for tests: one cookie jar, redirects followed through
 * loopback hosts (the fake CARTO and the login server) only.
 *
 * @example Logging in with a browser that keeps its cookies
 * ```ts ignore
 * const browser = new StandInBrowser();
 * const auth = await CartoAuth.fromOAuth({
 *   endpoints: fake.endpoints,
 *   openBrowser: (url) => browser.open(url),
 *   redirectPort: 0,
 * });
 * ```
 */
export class StandInBrowser {
  #cookies = new Map<string, Map<string, string>>();

  /** Opens `url` and follows its redirects; resolves where it ended. */
  open(url: string): Promise<BrowserLanding> {
    return this.#follow(new URL(url));
  }

  /**
   * Submits the form of the page `on` (its hidden fields, then `fields`) and
   * follows the redirects, as a person pressing its button would.
   */
  submit(
    on: BrowserLanding,
    fields: Record<string, string>,
  ): Promise<BrowserLanding> {
    const form = /<form method="post" action="([^"]*)">/.exec(on.text);
    if (!form) throw new Error(`no form on ${on.url}`);
    const body = new URLSearchParams();
    const hidden = /<input type="hidden" name="([^"]*)" value="([^"]*)">/g;
    for (const [, name, value] of on.text.matchAll(hidden)) {
      body.set(unescapeHtml(name), unescapeHtml(value));
    }
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return this.#follow(new URL(unescapeHtml(form[1]), on.url), body);
  }

  async #follow(
    url: URL,
    form?: URLSearchParams,
  ): Promise<BrowserLanding> {
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const jar = this.#jar(current.hostname);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const response = await fetch(current, {
        // After a redirect the browser comes back with a GET.
        method: form && hop === 0 ? "POST" : "GET",
        body: hop === 0 ? form : undefined,
        redirect: "manual",
        headers: cookie ? { cookie } : {},
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(";");
        const [name, ...value] = pair.trim().split("=");
        const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
        if (expired) jar.delete(name);
        else jar.set(name, value.join("="));
      }
      const location = response.headers.get("location");
      if (!location || response.status < 300 || response.status > 399) {
        return {
          url: current.href,
          status: response.status,
          text: await response.text(),
        };
      }
      await response.body?.cancel();
      const next = new URL(location, current);
      if (!isLoopbackHost(next.hostname)) {
        return { url: next.href, status: response.status, text: "" };
      }
      current = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  #jar(host: string): Map<string, string> {
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    this.#cookies.set(host, jar);
    return jar;
  }
}

/** Undoes the escaping of `escapeHtml` (numeric character references). */
function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
}
