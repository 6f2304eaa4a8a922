import type { Endpoints } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { validateCallback } from "./authorize.ts";

/**
 * Reads what a person pasted after a paste-flow login: the bare code shown by
 * CARTO, or the whole URL the browser ended on (its `state` must match).
 * Returns callback parameters ready for the code exchange.
 *
 * @example
 * ```ts ignore
 * parsePastedCode(endpoints, "https://app.carto.com/auth/token?code=abc&state=xyz", "xyz");
 * parsePastedCode(endpoints, "abc", "xyz");
 * ```
 */
export function parsePastedCode(
  endpoints: Endpoints,
  input: string,
  expectedState: string,
): URLSearchParams {
  const text = input.trim();
  if (!text) {
    throw new CredentialsError(
      "No code was entered. Run the login again and paste the code.",
      {
        code: "invalid_input",
      },
    );
  }
  if (/[?&](code|error|state)=/.test(text)) {
    const params = new URLSearchParams(
      text.slice(text.indexOf("?") + 1).split("#")[0],
    );
    if (!params.has("error") && !params.get("code")) {
      throw new CredentialsError(
        "The pasted URL has no code. Paste the code or the whole URL.",
        {
          code: "invalid_input",
        },
      );
    }
    return validateCallback(
      endpoints,
      params,
      params.has("state") ? expectedState : undefined,
    );
  }
  if (!/^[A-Za-z0-9._~-]+$/.test(text)) {
    throw new CredentialsError(
      "That does not look like a login code. Paste the code shown by CARTO, or the whole URL.",
      { code: "invalid_input" },
    );
  }
  return validateCallback(
    endpoints,
    new URLSearchParams({ code: text }),
    undefined,
  );
}
