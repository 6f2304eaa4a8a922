import { normalizeBaseUrl } from "./endpoints.ts";
import { CredentialsError } from "./errors.ts";
import { nodeBuiltin } from "./runtime/builtins.ts";

type Fs = typeof import("node:fs/promises");

/** The credentials of a CARTO M2M (machine-to-machine) OAuth client. */
export interface M2MCredentials {
  /** The API base URL of the account, e.g. `https://gcp-us-east1.api.carto.com`. */
  apiBaseUrl: string;
  /** The client id of the M2M OAuth client. */
  clientId: string;
  /** The client secret; it is sent only to the token endpoint. */
  clientSecret: string;
}

const FILE_KEYS = [
  ["api_base_url", "apiBaseUrl"],
  ["client_id", "clientId"],
  ["client_secret", "clientSecret"],
] as const;

/**
 * Validates M2M credentials given as an object; every key must be present
 * and non-empty. `source` names where they came from in errors.
 */
export function parseM2MCredentials(
  value: unknown,
  source = "the M2M credentials",
): M2MCredentials {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new CredentialsError(
      `${source} must be an object with apiBaseUrl, clientId and clientSecret.`,
      { code: "invalid_input" },
    );
  }
  const v = value as Record<string, unknown>;
  const out: Partial<M2MCredentials> = {};
  for (const [, key] of FILE_KEYS) {
    out[key] = requireValue(v[key], key, source);
  }
  out.apiBaseUrl = normalizeBaseUrl(out.apiBaseUrl!, `apiBaseUrl in ${source}`);
  return out as M2MCredentials;
}

function requireValue(value: unknown, key: string, source: string): string {
  if (value === undefined) {
    throw new CredentialsError(`Missing attribute ${key} in ${source}.`, {
      code: "invalid_input",
    });
  }
  if (typeof value !== "string" || value.trim() === "") {
    throw new CredentialsError(`Missing value for ${key} in ${source}.`, {
      code: "invalid_input",
    });
  }
  return value.trim();
}

/**
 * Reads a credentials file in the Python package's format:
 * `{"api_base_url": "…", "client_id": "…", "client_secret": "…"}`.
 * `onWarning` hears about a file that others can read.
 */
export async function readM2MCredentialsFile(
  path: string,
  onWarning: (message: string) => void = (m) => console.warn(m),
): Promise<M2MCredentials> {
  const fs = nodeBuiltin<Fs>("node:fs/promises");
  if (!fs) {
    throw new CredentialsError(
      "There is no file system here to read M2M credentials from; pass them as an object.",
      { code: "invalid_input" },
    );
  }
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    throw new CredentialsError(
      missing
        ? `The M2M credentials file ${path} does not exist. Download it from CARTO ` +
          `(Developers → Credentials → M2M OAuth client) and pass its path.`
        : `Could not read the M2M credentials file ${path}: ${
          (e as Error).message
        }.`,
      { code: "invalid_input" },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CredentialsError(
      `The M2M credentials file ${path} is not valid JSON. It should look like ` +
        `{"api_base_url": "…", "client_id": "…", "client_secret": "…"}.`,
      { code: "invalid_input" },
    );
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new CredentialsError(
      `The M2M credentials file ${path} must hold a JSON object with api_base_url, client_id and client_secret.`,
      { code: "invalid_input" },
    );
  }
  const d = data as Record<string, unknown>;
  const source = `the M2M credentials file ${path}`;
  const creds = {
    apiBaseUrl: requireValue(d.api_base_url, "api_base_url", source),
    clientId: requireValue(d.client_id, "client_id", source),
    clientSecret: requireValue(d.client_secret, "client_secret", source),
  };
  await warnIfShared(fs, path, onWarning);
  return {
    ...creds,
    apiBaseUrl: normalizeBaseUrl(creds.apiBaseUrl, `api_base_url in ${source}`),
  };
}

async function warnIfShared(
  fs: Fs,
  path: string,
  warn: (message: string) => void,
) {
  const platform = (globalThis as { process?: { platform?: string } }).process
    ?.platform;
  if (platform === "win32") return;
  const mode = (await fs.stat(path).catch(() => undefined))?.mode;
  if (mode !== undefined && (mode & 0o077) !== 0) {
    warn(
      `carto-auth: ${path} holds a client secret and can be read by others ` +
        `(mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
}
