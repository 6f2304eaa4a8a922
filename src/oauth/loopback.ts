import {
  type Endpoints,
  LOGIN_ERROR_URL,
  LOGIN_SUCCESS_URL,
  loopbackRedirectUri,
} from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import type { Handler, Serve, Server } from "../runtime/serve.ts";
import { validateCallback } from "./authorize.ts";
import {
  createLoginStart,
  foreignCallbackError,
  type LoginStart,
} from "./login_start.ts";
import { page, redirect } from "./pages.ts";

export { escapeHtml } from "./pages.ts";

/** A one-shot server waiting for the browser to come back from the login. */
export interface LoopbackReceiver {
  /** `http://localhost:<port>/callback/`. */
  readonly redirectUri: string;
  /** Resolves with the validated callback parameters, rejects on `error=…`. */
  readonly callback: Promise<URLSearchParams>;
  /**
   * The one-time link to open in the browser, which leads to `authorizeUrl`
   * (see `login_start.ts`: the authorize URL never goes on a command line).
   */
  startUrl(authorizeUrl: string): string;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * The callback's request handler: `GET /callback/` with the right `state`
 * settles the login and sends the browser to CARTO's success (or error) page;
 * a wrong `state` gets an error page and the login keeps waiting; the right
 * `state` from a browser that did not open the start link (`start.owns`)
 * ends the login; any other path is 404.
 */
export function callbackHandler(
  endpoints: Endpoints,
  state: string,
  settle: (result: URLSearchParams | CredentialsError) => void,
  start: Pick<LoginStart, "owns" | "clearCookie">,
): Handler {
  let done = false;
  return (request) => {
    const url = new URL(request.url);
    if (
      done || request.method !== "GET" || !/^\/callback\/?$/.test(url.pathname)
    ) {
      return page(404, "Not found", "Nothing here.");
    }
    let params: URLSearchParams;
    try {
      params = validateCallback(endpoints, url.searchParams, state);
    } catch (e) {
      if (e instanceof CredentialsError && e.error === "state_mismatch") {
        return page(
          400,
          "This login link is out of date",
          "It belongs to another login attempt. Use the link of the newest login, " +
            "or close this tab.",
        );
      }
      done = true;
      if (!start.owns(request)) return foreign(settle);
      settle(e as CredentialsError);
      return redirect(LOGIN_ERROR_URL);
    }
    done = true;
    if (!start.owns(request)) return foreign(settle);
    settle(params);
    return redirect(LOGIN_SUCCESS_URL, { "set-cookie": start.clearCookie() });
  };
}

function foreign(
  settle: (result: URLSearchParams | CredentialsError) => void,
): Response {
  settle(foreignCallbackError());
  return page(
    403,
    "This browser did not start this login",
    "The login was stopped: it came back to a browser other than the one that " +
      "opened the login link. Run the login again.",
  );
}

/**
 * Listens on `localhost:<port>` (127.0.0.1 and, where there is IPv6, ::1)
 * for the login callback. A port in use is a {@linkcode CredentialsError}
 * that says what to do.
 */
export async function startLoopbackReceiver(options: {
  endpoints: Endpoints;
  port: number;
  state: string;
  serve: Serve;
}): Promise<LoopbackReceiver> {
  let settle!: (result: URLSearchParams | CredentialsError) => void;
  let over = false;
  const callback = new Promise<URLSearchParams>((resolve, reject) => {
    settle = (result) => {
      over = true;
      result instanceof CredentialsError ? reject(result) : resolve(result);
    };
  });
  callback.catch(() => {}); // handled by whoever awaits it; never unhandled
  const start = createLoginStart(settle);
  // A login whose link a watcher may have read is held a while; a second
  // visitor of the link meanwhile (the browser, late) still stops it.
  let hold: ReturnType<typeof setTimeout> | undefined;
  const settleHeld = (result: URLSearchParams | CredentialsError) => {
    const ms = result instanceof CredentialsError ? 0 : start.holdMs();
    if (ms === 0) return settle(result);
    hold = setTimeout(() => settle(result), ms);
  };
  const callbackAnswer = callbackHandler(
    options.endpoints,
    options.state,
    settleHeld,
    start,
  );
  const handler: Handler = (request) =>
    over
      ? page(
        410,
        "This login has ended",
        "The terminal or program that started it says how it ended.",
      )
      : start.handles(request)
      ? start.answer(request)
      : callbackAnswer(request);
  const servers: Server[] = [];
  const close = async () => {
    clearTimeout(hold);
    await Promise.all(servers.splice(0).map((s) => s.close()));
  };
  try {
    const v4 = await options.serve({
      hostname: "127.0.0.1",
      port: options.port,
    }, handler);
    servers.push(v4);
    try {
      servers.push(
        await options.serve({ hostname: "::1", port: v4.port }, handler),
      );
    } catch (e) {
      // No IPv6 here is fine; someone else on [::1]:port would get our callback.
      if ((e as { code?: string }).code === "EADDRINUSE") throw e;
    }
  } catch (e) {
    await close();
    if ((e as { code?: string }).code === "EADDRINUSE") {
      throw new CredentialsError(
        `Port ${options.port} on localhost is already in use, so the login cannot receive ` +
          `the browser's answer. Is another login running? Close it and try again, or log ` +
          `in without the local server (openBrowser: false, or \`carto-auth login --no-browser\`).`,
        { code: "invalid_input", cause: e },
      );
    }
    throw e;
  }
  const port = servers[0].port;
  return {
    redirectUri: loopbackRedirectUri(port),
    callback,
    startUrl: (authorizeUrl) => start.arm(port, authorizeUrl),
    close,
  };
}
