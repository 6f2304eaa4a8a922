/**
 * The one-time start link of a loopback login.
 *
 * Whatever opens the browser (`xdg-open`, `open`, a `BROWSER` command, the
 * browser itself) has the URL in its command line, which every local user
 * can read (`/proc/<pid>/cmdline`, `ps`). Were that the authorize URL, a
 * watcher could complete an authorization of its own with the login's
 * `state` and PKCE challenge and send its code to the callback first: the
 * login would end with the watcher's account. So the browser is handed
 * `http://localhost:<port>/start/<random>` instead. Its first visitor gets a
 * random cookie and the redirect to the authorize URL; the callback is
 * accepted only with that cookie; a visitor without it ends the login.
 * A watcher can make the login fail, visibly, but its own authorization is
 * never accepted once the browser has opened the link.
 *
 * A watcher that is faster than the browser (which may take seconds to
 * start) could open the link first and finish a sign-in of its own before
 * the browser arrives. So a login whose link went on a command line is not
 * finished sooner than {@linkcode COMMAND_LINE_HOLD_MS} after that: the
 * browser's own visit comes within that time, finds the link used, and
 * stops the login.
 */
import { CredentialsError } from "../errors.ts";
import { generateState } from "./authorize.ts";
import { page, redirect } from "./pages.ts";

/**
 * How long after its link went on a command line a finished login is held,
 * waiting for a second visitor of the link (a cold browser took 3.7–4.6 s to
 * open it here). Only logins finished sooner than this wait.
 */
export const COMMAND_LINE_HOLD_MS = 10_000;

// Recent command lines that may carry a login link (one login runs at a
// time; a few entries are plenty). Module state, because the opener that
// runs the command (the library's or the CLI's) is not the login's.
const commandLines: { text: string; at: number }[] = [];

/**
 * Notes that `words` ran as a command line, which every local user can
 * read: a login whose link is in it is then held (see
 * {@linkcode COMMAND_LINE_HOLD_MS}).
 *
 * @example
 * ```ts ignore
 * noteCommandLine(["xdg-open", "http://localhost:10000/start/…"]);
 * ```
 */
export function noteCommandLine(words: readonly string[]): void {
  commandLines.push({ text: words.join(" "), at: Date.now() });
  if (commandLines.length > 8) commandLines.shift();
}

/** The start link's side of a loopback login server. */
export interface LoginStart {
  /** Points the start link at `authorizeUrl`; returns the link to open. */
  arm(port: number, authorizeUrl: string): string;
  /** Whether `request` asks for a start link (`/start/…`). */
  handles(request: Request): boolean;
  /** Answers a request for a start link. */
  answer(request: Request): Response;
  /** Whether `request` comes from the browser that opened the start link. */
  owns(request: Request): boolean;
  /** A `Set-Cookie` value that removes the cookie, for the callback's answer. */
  clearCookie(): string;
  /** How long a login finished now must wait before it counts (0: at once). */
  holdMs(): number;
}

const WHAT_TO_DO =
  "Run the login again and finish it in the browser that opens. " +
  "To log in without a local server, use the paste flow " +
  "(`carto-auth login --no-browser`, or `openBrowser: false`).";

/** The error that ends a login when a second browser opens its start link. */
export function secondBrowserError(): CredentialsError {
  return new CredentialsError(
    "The login link was opened by two different browsers or programs, so the login " +
      "was stopped: another program on this computer may have read the link and tried " +
      `to take over the login. ${WHAT_TO_DO}`,
    { code: "bad_response" },
  );
}

/** The error that ends a login when the callback comes without the start link's cookie. */
export function foreignCallbackError(): CredentialsError {
  return new CredentialsError(
    "The browser that came back from the CARTO login is not the one that opened the " +
      "login link (it lacks the login's cookie), so the login was stopped: another " +
      "program may have tried to take over the login, or the browser keeps no cookies " +
      `for localhost (then allow them, or use the paste flow). ${WHAT_TO_DO}`,
    { code: "bad_response" },
  );
}

/**
 * The start link of one login. `end` ends the login (a second browser
 * opened the link).
 *
 * @example
 * ```ts ignore
 * const start = createLoginStart((error) => rejectLogin(error));
 * const link = start.arm(port, authorizeUrl); // http://localhost:<port>/start/…
 * ```
 */
export function createLoginStart(
  end: (error: CredentialsError) => void,
): LoginStart {
  const path = `/start/${generateState()}`;
  let port = 0;
  let authorizeUrl: string | undefined;
  let cookieName = "";
  // The cookie of the browser that opened the link first.
  let opener: string | undefined;

  const cookieOf = (request: Request): string | undefined => {
    for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
      const [name, ...value] = pair.trim().split("=");
      if (name === cookieName) return value.join("=");
    }
  };
  const owns = (request: Request) =>
    opener !== undefined && cookieOf(request) === opener;

  return {
    arm(serverPort, url) {
      port = serverPort;
      authorizeUrl = url;
      // Cookies ignore ports: one name per port keeps two logins apart.
      cookieName = `carto_auth_login_${port}`;
      return `http://localhost:${port}${path}`;
    },
    handles: (request) => new URL(request.url).pathname.startsWith("/start/"),
    answer(request) {
      const url = new URL(request.url);
      if (
        request.method !== "GET" || url.pathname !== path || !authorizeUrl
      ) {
        return page(404, "Not found", "Nothing here.");
      }
      // Cookies are kept per host name: set it where the callback will come
      // (the redirect URI's `localhost`), not on 127.0.0.1 or [::1].
      if (url.hostname !== "localhost") {
        return redirect(`http://localhost:${port}${path}`);
      }
      if (opener === undefined) {
        opener = generateState();
        return redirect(authorizeUrl, {
          "set-cookie":
            `${cookieName}=${opener}; Path=/; HttpOnly; SameSite=Lax`,
        });
      }
      // The same browser again (a reload, or back from the login page).
      if (owns(request)) return redirect(authorizeUrl);
      end(secondBrowserError());
      return page(
        403,
        "This login link was already used",
        "Another browser or program opened it first, so the login was stopped to keep " +
          "anyone else from taking it over. Run the login again.",
      );
    },
    owns,
    clearCookie: () => `${cookieName}=; Path=/; Max-Age=0`,
    holdMs() {
      const link = `http://localhost:${port}${path}`;
      const shown = commandLines.find((c) => c.text.includes(link));
      return shown
        ? Math.max(0, shown.at + COMMAND_LINE_HOLD_MS - Date.now())
        : 0;
    },
  };
}
