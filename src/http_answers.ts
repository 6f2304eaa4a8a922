/**
 * Reading what a server answered: a JSON object, or a
 * {@linkcode CredentialsError} that carries the server's `error` /
 * `error_description` and says what to do. The sending (timeouts, retries,
 * the size limit) is in `http.ts`.
 *
 * @module
 */
import { CredentialsError, type CredentialsErrorCode } from "./errors.ts";
import { endpointOf } from "./http.ts";

/**
 * Reads a JSON object from `response`. A non-2xx status, an HTML page,
 * invalid JSON or a non-object all become a {@linkcode CredentialsError} that
 * names `what`; the server's `error`/`error_description` are carried over.
 * `hint` is appended to messages about refused credentials.
 */
export async function readJson(
  response: Response,
  what: string,
  hint?: string,
): Promise<Record<string, unknown>> {
  // Bodies from `send` are already in memory: reading them cannot fail.
  const text = await response.text();
  if (!response.ok) throw httpError(response, text, what, hint);
  const endpoint = response.url ? endpointOf(response.url) : undefined;
  const where = endpoint ? ` (${endpoint})` : "";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const kind = looksLikeHtml(response, text)
      ? "an HTML page"
      : "something that is not JSON";
    throw new CredentialsError(
      `${what}${where} answered with ${kind} (HTTP ${response.status}). ` +
        `Check the URL, or try again later.`,
      { code: "bad_response", status: response.status, endpoint },
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CredentialsError(
      `${what}${where} answered with JSON that is not an object. Check the URL.`,
      { code: "bad_response", status: response.status, endpoint },
    );
  }
  return value as Record<string, unknown>;
}

function looksLikeHtml(response: Response, text: string): boolean {
  return (response.headers.get("content-type") ?? "").includes("html") ||
    /^\s*</.test(text);
}

/** The error for a non-2xx response, with what the server said about it. */
export function httpError(
  response: Response,
  text: string,
  what: string,
  hint?: string,
): CredentialsError {
  const status = response.status;
  const endpoint = response.url ? endpointOf(response.url) : undefined;
  const said = serverSaid(text);
  const code: CredentialsErrorCode = status === 401 || status === 403 ||
      said.error === "invalid_client" || said.error === "invalid_grant" ||
      said.error === "access_denied" || said.error === "unauthorized_client"
    ? "invalid_credentials"
    : status >= 500
    ? "server_error"
    : "bad_response";
  let message = `${what}${
    endpoint ? ` (${endpoint})` : ""
  } answered HTTP ${status}`;
  const detail = [said.error, said.errorDescription].filter(Boolean).join(": ");
  if (detail) message += ` ${detail}`;
  else if (looksLikeHtml(response, text)) message += " with an HTML page";
  message += ".";
  if (code === "invalid_credentials" && hint) message += ` ${hint}`;
  else if (code === "server_error") {
    message += " The service may be down; try again later.";
  }
  return new CredentialsError(message, {
    code,
    status,
    endpoint,
    error: said.error,
    errorDescription: said.errorDescription,
  });
}

/** `error` / `error_description` (OAuth) or `error.message` (Google, CARTO) from a body. */
function serverSaid(
  text: string,
): { error?: string; errorDescription?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (!body || typeof body !== "object") return {};
  const b = body as Record<string, unknown>;
  const str = (
    v: unknown,
  ) => (typeof v === "string" && v ? clip(v) : undefined);
  if (b.error && typeof b.error === "object") {
    const e = b.error as Record<string, unknown>;
    return {
      error: str(e.status) ?? str(e.code),
      errorDescription: str(e.message),
    };
  }
  return {
    error: str(b.error),
    errorDescription: str(b.error_description) ?? str(b.message) ??
      str(b.detail),
  };
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
