/**
 * A real, certified OAuth 2.0 / OpenID Connect server for the tests:
 * `oidc-provider` (by the author of oauth4webapi) on 127.0.0.1 and a random
 * port, dressed as CARTO's Auth0 tenant. What it records (grants, tokens,
 * introspection, events) is what the tests assert on — never our own fake.
 *
 * Adaptations needed to look like Auth0; each is a behaviour the suite
 * cannot check against Auth0 itself, so it is Auth0-only:
 *
 * - Paths: Auth0's `/authorize`, `/oauth/token`, `/oauth/revoke` (and
 *   `/oauth/introspect`, which Auth0 does not have: the tests' window into
 *   the server).
 * - Issuer: `http://127.0.0.1:<port>/` with the trailing slash, as Auth0's
 *   `https://auth.carto.com/`. oidc-provider sends it as `iss` in every
 *   authorization response (RFC 9207); Auth0 does not send `iss` there.
 * - `audience`: Auth0 needs `audience=carto-cloud-native-api` to issue a
 *   token for CARTO's API. oidc-provider knows resource indicators
 *   (RFC 8707, `resource=<URI>`) instead: `audience` is declared an extra
 *   authorization parameter that must equal CARTO's (else `invalid_request`),
 *   and every token — code, refresh, client credentials — is issued for one
 *   resource server whose audience is `carto-cloud-native-api`. The token
 *   endpoint ignores `audience` (Auth0 requires it for client credentials).
 * - `offline_access`: under OpenID Connect rules (Core §11) oidc-provider
 *   ignores it unless the request has `prompt=consent`; Auth0 grants it
 *   without (when the API allows offline access). The library sends no
 *   `prompt`, so the harness adds `prompt=consent` to authorization requests
 *   that ask for `offline_access` and have no `prompt`. Auth0 shows no
 *   consent page to a first-party client; here the person passes one after
 *   the login page.
 * - `openid`: not requested by the library (a plain OAuth 2.0 request), so
 *   no ID token; Auth0 behaves the same.
 * - Loopback redirect: the public client is a native app, so any port of
 *   `http://localhost:<port>/callback/` is accepted (RFC 8252 §7.3); Auth0
 *   registers the exact `http://localhost:10000/callback/`.
 * - Tokens: opaque access tokens (Auth0 issues JWTs for an API audience);
 *   the library only needs `expires_in`, and introspection reads them.
 *   Short lifetimes (60 s access tokens) as the tests want.
 * - Refresh tokens rotate on every use and a reused one revokes the whole
 *   grant (Auth0: "Refresh Token Rotation" with reuse detection, no reuse
 *   interval).
 * - M2M: a confidential client with `client_secret_post` and the
 *   client credentials grant, as Auth0's machine-to-machine applications.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { errors } from "oidc-provider";
import { AUDIENCE, OAUTH_CLIENT_ID } from "../src/endpoints.ts";
import { walkLogin } from "./oidc_browser.ts";

/** The part of Koa's context the harness touches. */
interface KoaContext {
  path: string;
  query: Record<string, string | string[] | undefined>;
  respond?: boolean;
  req: IncomingMessage;
  oidc?: { params?: { grant_type?: string } };
}

/** The resource server of CARTO's API, as oidc-provider names it (RFC 8707). */
const CARTO_API = "urn:carto:api";

/** A running {@linkcode startOidcProvider}. */
export interface OidcProvider {
  /** `endpoints.auth` for `CartoAuth`: the provider's origin. */
  readonly auth: string;
  /** The issuer, `${auth}/`. */
  readonly issuer: string;
  /** The M2M client's credentials. */
  readonly m2m: { clientId: string; clientSecret: string };
  /** Every provider event by name, in order (e.g. `grant.revoked`). */
  readonly events: string[];
  /** How many times `event` was emitted. */
  count(event: string): number;
  /**
   * A person in a browser: opens the authorize URL, signs in as `user` on the
   * login page, then answers the consent page (`decline` cancels it).
   * Resolves with the redirect URI the provider sent the browser to (after
   * visiting it when it is a loopback callback, as a browser would).
   */
  browser(
    url: string,
    options?: { user?: string; decline?: boolean },
  ): Promise<string>;
  /** A person for the paste flow: logs in from the URL in `message` and pastes the URL they end on. */
  paste(message: string): Promise<string>;
  /**
   * The next token request with `grantType` is processed (a code spent, a
   * refresh token rotated) but its answer is lost: the connection drops.
   */
  dropNextAnswer(grantType: string): void;
  /** RFC 7662 introspection, as the resource server. */
  introspect(token: string): Promise<Record<string, unknown>>;
  /** The grants the server holds, by id: who, which client, which scopes. */
  grants(): Promise<{ id: string; accountId: string; clientId: string }[]>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode startOidcProvider}. */
export interface OidcProviderOptions {
  /** Whether the public client may ask for `offline_access` (refresh tokens), default true. */
  offlineAccess?: boolean;
}

/** Starts the provider on 127.0.0.1 and a free port. */
export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<OidcProvider> {
  let handle: (req: IncomingMessage, res: unknown) => void = () => {};
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  const auth = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${auth}/`;
  const m2m = { clientId: "m2m-client", clientSecret: randomSecret() };
  const introspector = { id: "resource-server", secret: randomSecret() };
  const store = new Map<string, Map<string, Record<string, unknown>>>();
  const provider = new Provider(issuer, {
    ...configuration(m2m, introspector, options.offlineAccess ?? true),
    adapter: memoryAdapter(store),
  });
  provider.proxy = false;
  // OpenID Connect Core §11: offline_access is ignored without prompt=consent.
  // Auth0 grants it without; the library sends no prompt, so add it here.
  // Answers to lose: the provider processes the request, the client never hears back.
  const drops: string[] = [];
  provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
    await next();
    const grant = ctx.oidc?.params?.grant_type;
    const index = ctx.path === "/oauth/token" ? drops.indexOf(grant!) : -1;
    if (index < 0) return;
    drops.splice(index, 1);
    ctx.respond = false;
    ctx.req.socket.destroy();
  });
  provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
    const q = ctx.query;
    if (
      ctx.path === "/authorize" && typeof q.scope === "string" &&
      q.scope.split(" ").includes("offline_access") && q.prompt === undefined
    ) ctx.query = { ...q, prompt: "consent" };
    await next();
  });
  const events: string[] = [];
  for (
    const name of [
      "grant.success",
      "grant.error",
      "grant.revoked",
      "refresh_token.consumed",
      "refresh_token.destroyed",
      "authorization.error",
    ]
  ) {
    provider.on(name, () => events.push(name));
  }
  handle = provider.callback() as typeof handle;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const browser: OidcProvider["browser"] = (url, options) =>
    walkLogin(auth, url, options);

  return {
    auth,
    issuer,
    m2m,
    events,
    count: (event) => events.filter((e) => e === event).length,
    dropNextAnswer: (grantType) => void drops.push(grantType),
    browser,
    async paste(message) {
      const url = /https?:\/\/\S+\/authorize\?\S+/.exec(message)?.[0];
      if (!url) throw new Error(`no authorize URL in the prompt: ${message}`);
      return await browser(url);
    },
    async introspect(token) {
      const res = await fetch(`${auth}/oauth/introspect`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          token,
          client_id: introspector.id,
          client_secret: introspector.secret,
        }),
      });
      if (!res.ok) throw new Error(`introspection: ${await res.text()}`);
      return await res.json();
    },
    grants() {
      const grants = store.get("Grant") ?? new Map();
      return Promise.resolve(
        [...grants].map(([id, g]) => ({
          id,
          accountId: String(g.accountId),
          clientId: String(g.clientId),
        })),
      );
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function configuration(
  m2m: { clientId: string; clientSecret: string },
  introspector: { id: string; secret: string },
  offlineAccess: boolean,
): Record<string, unknown> {
  return {
    clients: [
      {
        // The library's public client: PKCE (S256) is required of it.
        client_id: OAUTH_CLIENT_ID,
        application_type: "native",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        // Without offline access, asking for it is invalid_scope.
        ...offlineAccess ? {} : { scope: "openid" },
        redirect_uris: [
          "http://localhost:10000/callback/",
          "https://app.carto.com/auth/token",
        ],
      },
      {
        client_id: m2m.clientId,
        client_secret: m2m.clientSecret,
        token_endpoint_auth_method: "client_secret_post",
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: introspector.id,
        client_secret: introspector.secret,
        token_endpoint_auth_method: "client_secret_post",
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    routes: {
      authorization: "/authorize",
      token: "/oauth/token",
      revocation: "/oauth/revoke",
      introspection: "/oauth/introspect",
    },
    scopes: ["openid", "offline_access"],
    extraParams: {
      audience(_ctx: unknown, value: string | undefined) {
        if (value !== AUDIENCE) {
          throw new errors.InvalidRequest(`audience must be ${AUDIENCE}`);
        }
      },
    },
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => CARTO_API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "",
          audience: AUDIENCE,
          accessTokenTTL: 60,
          accessTokenFormat: "opaque",
        }),
      },
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 60,
      ClientCredentials: 60,
      AuthorizationCode: 60,
      RefreshToken: 3600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    cookies: { keys: [randomSecret()] },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub }),
    }),
  };
}

/** oidc-provider's storage, kept in maps the tests can read. */
function memoryAdapter(
  store: Map<string, Map<string, Record<string, unknown>>>,
) {
  return class {
    #items: Map<string, Record<string, unknown>>;
    constructor(name: string) {
      if (!store.has(name)) store.set(name, new Map());
      this.#items = store.get(name)!;
    }
    upsert(id: string, payload: Record<string, unknown>) {
      this.#items.set(id, payload);
      return Promise.resolve();
    }
    find(id: string) {
      return Promise.resolve(this.#items.get(id));
    }
    findByUid(uid: string) {
      return Promise.resolve(
        [...this.#items.values()].find((p) => p.uid === uid),
      );
    }
    findByUserCode(code: string) {
      return Promise.resolve(
        [...this.#items.values()].find((p) => p.userCode === code),
      );
    }
    consume(id: string) {
      const item = this.#items.get(id);
      if (item) item.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }
    destroy(id: string) {
      this.#items.delete(id);
      return Promise.resolve();
    }
    revokeByGrantId(grantId: string) {
      for (const [name, items] of store) {
        for (const [id, item] of items) {
          if (item.grantId === grantId) items.delete(id);
        }
        if (name === "Grant") items.delete(grantId);
      }
      return Promise.resolve();
    }
  };
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "x");
}
