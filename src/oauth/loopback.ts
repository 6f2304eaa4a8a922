import {
  type Endpoints,
  LOGIN_ERROR_URL,
  LOGIN_SUCCESS_URL,
  loopbackRedirectUri,
} from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import type { Handler, Serve, Server } from "../runtime/serve.ts";
import { validateCallback } from "./authorize.ts";

/** A one-shot server waiting for the browser to come back from the login. */
export interface LoopbackReceiver {
  /** `http://localhost:<port>/callback/`. */
  readonly redirectUri: string;
  /** Resolves with the validated callback parameters, rejects on `error=…`. */
  readonly callback: Promise<URLSearchParams>;
  /** Stops listening. */
  close(): Promise<void>;
}

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // The callback URL holds the code: never send it on as a Referer.
  "referrer-policy": "no-referrer",
};

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, text: string): Response {
  const body =
    `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`;
  return new Response(body, { status, headers: PAGE_HEADERS });
}

function redirect(location: string): Response {
  return new Response(null, {
    status: 302,
    headers: { ...PAGE_HEADERS, location },
  });
}

/**
 * The callback's request handler: `GET /callback/` with the right `state`
 * settles the login and sends the browser to CARTO's success (or error) page;
 * a wrong `state` gets an error page and the login keeps waiting; any other
 * path is 404.
 */
export function callbackHandler(
  endpoints: Endpoints,
  state: string,
  settle: (result: URLSearchParams | CredentialsError) => void,
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
      settle(e as CredentialsError);
      return redirect(LOGIN_ERROR_URL);
    }
    done = true;
    settle(params);
    return redirect(LOGIN_SUCCESS_URL);
  };
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
  const callback = new Promise<URLSearchParams>((resolve, reject) => {
    settle = (result) =>
      result instanceof CredentialsError ? reject(result) : resolve(result);
  });
  callback.catch(() => {}); // handled by whoever awaits it; never unhandled
  const handler = callbackHandler(options.endpoints, options.state, settle);
  const servers: Server[] = [];
  const close = async () => {
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
  return { redirectUri: loopbackRedirectUri(servers[0].port), callback, close };
}
