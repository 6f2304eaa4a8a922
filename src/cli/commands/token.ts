/** `carto-auth token`: the access token alone on stdout, for `$(carto-auth token)`. */
import { EXIT } from "../errors.ts";
import { canPrompt, env, stdout } from "../io.ts";
import type { Command } from "../main.ts";
import { safeLine } from "../safe_text.ts";
import {
  guard,
  isFresh,
  openAuth,
  select,
  type Selection,
} from "../credentials.ts";

/** Flags that pick M2M credentials, shared by the commands that use a token. */
export const CREDENTIAL_FLAGS = {
  m2m: {
    type: "boolean",
    help: "use the machine (M2M) login instead of yours",
  },
  credentials: {
    type: "string",
    arg: "FILE",
    help: "M2M credentials file (the Python format); implies --m2m",
  },
} as const;

/** `--m2m` and `--credentials` as {@linkcode select} wants them. */
export function wantedFrom(flags: Record<string, unknown>) {
  return {
    m2m: flags.m2m === true,
    credentials: flags.credentials as string | undefined,
  };
}

/** The cached token when it is fresh and belongs to the credentials asked for. */
function cachedToken(selection: Selection): string | undefined {
  const cached = selection.cached;
  if (!cached || !isFresh(cached)) return undefined;
  if (selection.kind === "m2m") {
    if (selection.wanted.credentials) return undefined; // the file decides
    const id = env("CARTO_CLIENT_ID");
    if (id && cached.clientId && cached.clientId !== id) return undefined;
  }
  return cached.accessToken;
}

/** `carto-auth token`. */
export const token: Command = {
  spec: {
    name: "token",
    summary: "Print the access token on stdout, for scripts",
    usage: "[--m2m] [--credentials FILE]",
    description:
      "Prints only the token, renewing it silently when it can (M2M client credentials,\n" +
      "OAuth refresh token). When a new login is needed it runs one in a terminal; when\n" +
      "stdin is not a terminal or CI is set it fails with exit code 4 instead.",
    flags: CREDENTIAL_FLAGS,
    examples: [
      `$ curl -H "Authorization: Bearer $(carto-auth token)" https://gcp-us-east1.api.carto.com/v3/maps`,
      "$ CARTO_CLIENT_ID=… CARTO_CLIENT_SECRET=… CARTO_API_BASE_URL=… carto-auth token",
      "$ carto-auth token --m2m --credentials carto_credentials.json",
    ],
  },
  async run({ flags }) {
    const selection = await select(wantedFrom(flags));
    let value = selection.kind === "env"
      ? env("CARTO_API_TOKEN")
      : cachedToken(selection);
    if (value === undefined) {
      const ui = canPrompt()
        ? await (await import("../login_ui.ts")).commandLoginUi(selection)
        : undefined;
      try {
        const auth = await openAuth(selection, { login: ui });
        value = await guard(selection, () => auth.getAccessToken());
      } finally {
        ui?.done();
      }
    }
    // A token never holds a control character; one from a hostile server is not obeyed.
    await stdout.write(`${safeLine(value!)}\n`);
    return EXIT.ok;
  },
};
