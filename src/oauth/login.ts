import { type Endpoints, PASTE_REDIRECT_URI } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import type { HttpOptions } from "../http.ts";
import { runtimeServe, type Serve } from "../runtime/serve.ts";
import { createAuthorizationRequest, generateState } from "./authorize.ts";
import {
  browserExpected,
  currentBrowserEnvironment,
  openSystemBrowser,
} from "./browser.ts";
import { startLoopbackReceiver } from "./loopback.ts";
import { parsePastedCode } from "./paste.ts";
import {
  authorizationCodeRequest,
  processAuthorizationCodeResponse,
  type TokenSet,
  UnansweredGrantError,
} from "./token.ts";

/**
 * Plays the browser: opens (or is told about) the login's one-time start link
 * `http://localhost:<port>/start/…`, which leads to the authorize URL.
 */
export type OpenBrowser = (url: string) => void | Promise<unknown>;
/** Asks a person for a line of text; `null` when there is no answer. */
export type Prompt = (message: string) => Promise<string | null>;

/** Options of {@linkcode interactiveLogin}. */
export interface InteractiveLoginOptions {
  endpoints: Endpoints;
  http?: HttpOptions;
  /** Auth0 organization id (`org_…`) for SSO. */
  organization?: string;
  /** `true`: the system browser where one can be expected; `false`: paste flow; a function: plays the browser. */
  openBrowser: boolean | OpenBrowser;
  /** Reads the pasted code; default reads the terminal. */
  prompt?: Prompt;
  /** Port of the loopback redirect, default 10000 (0 = any free port, for tests). */
  redirectPort: number;
  /** How long to wait for the person, default 5 minutes. */
  timeoutMs?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
  /** Where messages for the person go (the URL, what to do). */
  log: (message: string) => void;
  /** Server adapter for the loopback flow; default the runtime's. */
  serve?: Serve;
}

/** How long a person has to finish logging in. */
export const LOGIN_TIMEOUT_MS = 5 * 60_000;

/**
 * Logs a person in with OAuth 2.0 authorization code + PKCE: through a
 * loopback server when a browser can be used, else by pasting the code.
 */
export async function interactiveLogin(
  options: InteractiveLoginOptions,
): Promise<TokenSet> {
  try {
    return await authorizeAndExchange(options);
  } catch (e) {
    if (!(e instanceof UnansweredGrantError)) throw e;
    // The code may be spent. The person has just logged in, so a fresh
    // authorization is quick (the login service remembers them); once.
    options.log(
      "The login service did not answer the code exchange; a login code works only once, " +
        "so the login starts over.",
    );
    return await authorizeAndExchange(options);
  }
}

async function authorizeAndExchange(
  options: InteractiveLoginOptions,
): Promise<TokenSet> {
  const { openBrowser } = options;
  const useLoopback = typeof openBrowser === "function" ||
    (openBrowser && browserExpected(currentBrowserEnvironment()));
  const code = useLoopback
    ? await loopbackLogin(options)
    : await pasteLogin(options);
  const response = await authorizationCodeRequest({
    endpoints: options.endpoints,
    http: options.http,
    callbackParameters: code.parameters,
    redirectUri: code.redirectUri,
    codeVerifier: code.codeVerifier,
  });
  return processAuthorizationCodeResponse(options.endpoints, response);
}

interface CodeResult {
  parameters: URLSearchParams;
  redirectUri: string;
  codeVerifier: string;
}

async function loopbackLogin(
  options: InteractiveLoginOptions,
): Promise<CodeResult> {
  const serve = options.serve ?? await runtimeServe();
  // The receiver checks the state; the request needs the receiver's port.
  const state = generateState();
  const receiver = await startLoopbackReceiver({
    endpoints: options.endpoints,
    port: options.redirectPort,
    state,
    serve,
  });
  try {
    const request = await createAuthorizationRequest({
      endpoints: options.endpoints,
      redirectUri: receiver.redirectUri,
      organization: options.organization,
      state,
    });
    const url = receiver.startUrl(request.url);
    const parameters = waitFor(receiver.callback, options);
    // It may settle while the browser is still being opened; it is awaited below.
    parameters.catch(() => {});
    if (typeof options.openBrowser === "function") {
      await options.openBrowser(url);
    } else {
      options.log(`Opening your browser to log in to CARTO:\n  ${url}`);
      await openSystemBrowser(url).catch(() =>
        options.log(
          "Could not open a browser. Open the URL above yourself; waiting for you.",
        )
      );
    }
    return {
      parameters: await parameters,
      redirectUri: receiver.redirectUri,
      codeVerifier: request.codeVerifier,
    };
  } finally {
    await receiver.close();
  }
}

/**
 * The paste flow has no local server to take over: the authorize URL goes
 * only to the person's terminal (never to a command line), the code comes
 * back only through their keyboard, and PKCE makes a code useless without
 * this process's verifier.
 */
async function pasteLogin(
  options: InteractiveLoginOptions,
): Promise<CodeResult> {
  const request = await createAuthorizationRequest({
    endpoints: options.endpoints,
    redirectUri: PASTE_REDIRECT_URI,
    organization: options.organization,
  });
  const prompt = options.prompt ??
    (await import("../runtime/prompt.ts")).terminalPrompt;
  const message =
    `Open this URL in a browser and log in to CARTO:\n\n  ${request.url}\n\n` +
    `Then paste the code it shows (or the whole URL you end on) here: `;
  const answer = await waitFor(prompt(message), options);
  if (answer === null) {
    throw new CredentialsError(
      "No code was entered (the input ended). Run the login in a terminal, or use M2M credentials.",
      { code: "login_required" },
    );
  }
  return {
    parameters: parsePastedCode(options.endpoints, answer, request.state),
    redirectUri: request.redirectUri,
    codeVerifier: request.codeVerifier,
  };
}

/** `promise`, or a {@linkcode CredentialsError} when the person takes too long or the signal fires. */
function waitFor<T>(
  promise: Promise<T>,
  options: InteractiveLoginOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? LOGIN_TIMEOUT_MS;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      const minutes = timeoutMs / 60_000;
      const span = Number.isInteger(minutes)
        ? `${minutes} minute${minutes === 1 ? "" : "s"}`
        : timeoutMs >= 1000
        ? `${Math.round(timeoutMs / 1000)} s`
        : `${timeoutMs} ms`;
      reject(
        new CredentialsError(
          `The login was not completed within ${span}. Run the login again when you are ready.`,
          { code: "timeout" },
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      finish();
      reject(
        new CredentialsError("The login was cancelled.", {
          code: "aborted",
          cause: options.signal?.reason,
        }),
      );
    };
    const finish = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    promise.then((v) => {
      finish();
      resolve(v);
    }, (e) => {
      finish();
      reject(e);
    });
  });
}
