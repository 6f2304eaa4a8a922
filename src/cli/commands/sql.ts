/** `carto-auth sql`: the CARTO SQL API, `/v3/sql/{connection}/query`. */
import type { CartoAuth } from "../../auth.ts";
import { select } from "../credentials.ts";
import { CliError, EXIT } from "../errors.ts";
import { stdout } from "../io.ts";
import type { Command } from "../main.ts";
import { FORMAT_FLAGS, formatFrom, writeRows } from "../format/rows.ts";
import { interruptible, readSql } from "../query_input.ts";
import { withAuth } from "./dw.ts";
import { CREDENTIAL_FLAGS, wantedFrom } from "./token.ts";

/** Longer URLs than this go as POST (proxies cut long query strings). */
const MAX_GET_URL = 2000;

/** Sends `sql` to the SQL API of `connection`: GET when short, POST when long. */
async function send(
  auth: CartoAuth,
  connection: string,
  sql: string,
  signal: AbortSignal,
): Promise<Response> {
  const path = `/v3/sql/${encodeURIComponent(connection)}/query`;
  const get = `${path}?q=${encodeURIComponent(sql)}`;
  const base = auth.getApiBaseUrl() ?? "";
  if (base.length + get.length <= MAX_GET_URL) {
    return await auth.fetch(get, {
      headers: { accept: "application/json" },
      signal,
    });
  }
  return await auth.fetch(path, {
    method: "POST",
    headers: {
      accept: "application/json",
      "content-type": "application/json",
    },
    body: JSON.stringify({ q: sql }),
    signal,
  });
}

async function readResult(
  response: Response,
  connection: string,
): Promise<{ names: string[]; rows: Record<string, unknown>[] }> {
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const detail = typeof body?.error === "string"
      ? body.error
      : typeof body?.message === "string"
      ? body.message
      : text.slice(0, 300).trim() || response.statusText;
    const hint = response.status === 401
      ? " Log in again: carto-auth login"
      : response.status === 404
      ? ` Check the connection name (${JSON.stringify(connection)}).`
      : "";
    throw new CliError(
      `CARTO SQL API error (HTTP ${response.status}): ${detail}.${hint}`,
      response.status === 401 ? EXIT.auth : EXIT.failure,
    );
  }
  if (!body || !Array.isArray(body.rows)) {
    throw new CliError(
      `The CARTO SQL API answered without rows (HTTP ${response.status}).`,
    );
  }
  const rows = body.rows as Record<string, unknown>[];
  const schema = Array.isArray(body.schema)
    ? body.schema as { name?: unknown }[]
    : [];
  const names = schema.length
    ? schema.map((f) => String(f.name))
    : Object.keys(rows[0] ?? {});
  return { names, rows };
}

/** `carto-auth sql`. */
export const sql: Command = {
  spec: {
    name: "sql",
    summary: "Run SQL through the CARTO SQL API on one of your connections",
    usage: "CONNECTION SQL|- [--format FORMAT]",
    description:
      "Sends the query to {API base URL}/v3/sql/CONNECTION/query (GET for short queries,\n" +
      "POST for long ones) and prints the rows. SQL - reads it from stdin.",
    positionals: { min: 2, max: 2, names: "CONNECTION and SQL" },
    flags: { ...FORMAT_FLAGS, ...CREDENTIAL_FLAGS },
    examples: [
      `$ carto-auth sql carto_dw "SELECT 1 AS n"`,
      "$ carto-auth sql my_snowflake - --format csv < query.sql",
    ],
  },
  async run({ flags, args }) {
    const format = formatFrom(flags, "sql");
    const [connection] = args;
    const selection = await select(wantedFrom(flags));
    const query = await readSql(args[1], "sql");
    const { names, rows } = await withAuth(
      selection,
      (auth) =>
        interruptible(async (signal) =>
          readResult(await send(auth, connection, query, signal), connection)
        ),
    );
    await writeRows(stdout, format, names, rows);
    return EXIT.ok;
  },
};
