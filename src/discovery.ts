import {
  type Endpoints,
  isLoopbackHost,
  normalizeBaseUrl,
} from "./endpoints.ts";
import { CredentialsError } from "./errors.ts";
import { endpointOf, type HttpOptions, send } from "./http.ts";
import { readJson } from "./http_answers.ts";
import { yamlParser } from "./extras.ts";

/** Where a CARTO account lives. */
export interface AccountLocation {
  /** The API base URL (`apis.baseUrl` of the tenant's `config.yaml`). */
  apiBaseUrl: string;
  /** The tenant's host name, e.g. `clausa.app.carto.com`. */
  tenantDomain: string;
  /** `apis.workspaceUrl`, when the tenant gives one. */
  workspaceUrl?: string;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * The `config.yaml` URL of a tenant. `tenantDomain` must be a plain host name
 * (no scheme, path, user info, port or IP address). A loopback host (the fake
 * CARTO) may carry a port and is reached over plain http, but only when
 * `loopback` says the accounts service itself is on this machine: the
 * production service never sends one, and a local port is anyone's.
 */
export function tenantConfigUrl(
  tenantDomain: string,
  loopback = false,
): string {
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?$/i.exec(
    tenantDomain,
  );
  if (local && loopback) return `http://${tenantDomain}/config.yaml`;
  if (!isHostName(tenantDomain) || isLoopbackHost(tenantDomain) || local) {
    throw new CredentialsError(
      `The CARTO accounts service gave a tenant_domain that is not a host name ` +
        `(${
          JSON.stringify(tenantDomain.slice(0, 100))
        }). Pass apiBaseUrl to skip discovery.`,
      { code: "bad_response" },
    );
  }
  return `https://${tenantDomain}/config.yaml`;
}

/**
 * A DNS name, not an address: URL parsers read a host whose last label is a
 * number (`169.254.169.254`, `2130706433`, `0x7f000001`, `1.0x7f`) as IPv4.
 */
function isHostName(host: string): boolean {
  const lastLabel = host.slice(host.lastIndexOf(".") + 1);
  return HOSTNAME.test(host) && !/^(\d+|0x[0-9a-f]*)$/i.test(lastLabel);
}

/**
 * Finds the API base URL of the account `accessToken` belongs to: the
 * accounts service gives the tenant domain, whose `config.yaml` gives
 * `apis.baseUrl`.
 *
 * @example
 * ```ts ignore
 * const { apiBaseUrl } = await discoverAccount(token, { endpoints });
 * ```
 */
export async function discoverAccount(
  accessToken: string,
  options: { endpoints: Endpoints; http?: HttpOptions },
): Promise<AccountLocation> {
  const accountsUrl = `${options.endpoints.accounts}/accounts`;
  const what = "CARTO accounts service";
  const accounts = await readJson(
    await send(what, accountsUrl, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: "application/json",
      },
    }, options.http),
    what,
    "Log in again.",
  );
  if (typeof accounts.error === "string") {
    throw new CredentialsError(
      `${what} answered with an error: ${accounts.error}.`,
      {
        code: "bad_response",
        error: accounts.error,
      },
    );
  }
  const tenantDomain = accounts.tenant_domain;
  if (typeof tenantDomain !== "string" || !tenantDomain) {
    throw new CredentialsError(
      `${what} (${accountsUrl}) answered without a tenant_domain, so the API base URL ` +
        `cannot be found. Pass apiBaseUrl (e.g. https://gcp-us-east1.api.carto.com).`,
      { code: "bad_response", endpoint: accountsUrl },
    );
  }
  const loopback = isLoopbackHost(new URL(accountsUrl).hostname);
  const configUrl = tenantConfigUrl(tenantDomain, loopback);
  const configWhat = "CARTO tenant configuration";
  const response = await send(configWhat, configUrl, {}, options.http);
  const text = await response.text();
  // The parser is loaded only now: M2M and workers never need it.
  const config = response.ok ? (await yamlParser())(text) : undefined;
  const apis =
    (config as { apis?: { baseUrl?: unknown; workspaceUrl?: unknown } })?.apis;
  if (!response.ok || typeof apis?.baseUrl !== "string" || !apis.baseUrl) {
    const why = response.ok
      ? "has no apis.baseUrl"
      : `answered HTTP ${response.status}`;
    throw new CredentialsError(
      `${configWhat} (${configUrl}) ${why}. Pass apiBaseUrl to skip discovery.`,
      { code: "bad_response", status: response.status, endpoint: configUrl },
    );
  }
  const apiBaseUrl = normalizeBaseUrl(
    apis.baseUrl,
    "apis.baseUrl of the tenant configuration",
  );
  if (!loopback && isLoopbackHost(new URL(apiBaseUrl).hostname)) {
    throw new CredentialsError(
      `${configWhat} (${configUrl}) gave a local apis.baseUrl (${
        new URL(apiBaseUrl).origin
      }). Pass apiBaseUrl to skip discovery.`,
      { code: "bad_response", endpoint: configUrl },
    );
  }
  return {
    apiBaseUrl,
    tenantDomain,
    workspaceUrl: typeof apis.workspaceUrl === "string"
      ? apis.workspaceUrl
      : undefined,
  };
}

/**
 * The Auth0 organization id of an SSO organization: an `org_…` id is returned
 * as is, a name is looked up with the accounts service.
 */
export async function resolveOrganization(
  org: string,
  options: { endpoints: Endpoints; http?: HttpOptions },
): Promise<string> {
  if (/^org_[A-Za-z0-9]+$/.test(org)) return org;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(org)) {
    throw new CredentialsError(
      `${JSON.stringify(org)} is neither an organization name nor an org_… id.`,
      { code: "invalid_input" },
    );
  }
  const url = `${options.endpoints.accounts}/accounts/${
    encodeURIComponent(org)
  }/auth0_org_id`;
  const what = "CARTO accounts service (organization lookup)";
  const response = await send(what, url, {
    headers: { accept: "application/json" },
  }, options.http);
  if (response.status === 404) {
    await response.body?.cancel();
    throw new CredentialsError(
      `There is no CARTO organization named ${
        JSON.stringify(org)
      }. Check the name, or pass its org_… id.`,
      { code: "invalid_input", status: 404 },
    );
  }
  const body = await readJson(response, what);
  if (typeof body.auth0orgId !== "string" || !/^org_/.test(body.auth0orgId)) {
    throw new CredentialsError(
      `${what} (${endpointOf(url)}) answered without an auth0orgId for ${
        JSON.stringify(org)
      }. Pass the org_… id instead.`,
      { code: "bad_response", endpoint: endpointOf(url) },
    );
  }
  return body.auth0orgId;
}
