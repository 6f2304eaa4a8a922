/** `carto-auth dw credentials` and `carto-auth dw query`. */
import type {
  CartoDwClient,
  QueryOptions,
  TableFieldSchema,
} from "../../dw/client.ts";
import { intFlag } from "../args.ts";
import { guard, openAuth, select, type Selection } from "../credentials.ts";
import { EXIT } from "../errors.ts";
import { canPrompt, stdout } from "../io.ts";
import type { Command } from "../main.ts";
import { jsonSafe, safeLine } from "../safe_text.ts";
import { FORMAT_FLAGS, formatFrom, writeRows } from "../format/rows.ts";
import { parseParams } from "../params.ts";
import { queryProgress } from "../query_progress.ts";
import { interruptible, readSql } from "../query_input.ts";
import { CREDENTIAL_FLAGS, wantedFrom } from "./token.ts";

/** The largest page asked for when `--max-rows` limits the rows. */
const PAGE = 10_000;

/** A `CartoAuth` for `selection` that may log a person in on a terminal. */
export async function withAuth<T>(
  selection: Selection,
  fn: (auth: Awaited<ReturnType<typeof openAuth>>) => Promise<T>,
): Promise<T> {
  const ui = canPrompt()
    ? await (await import("../login_ui.ts")).commandLoginUi(selection)
    : undefined;
  try {
    const auth = await openAuth(selection, { login: ui });
    return await guard(selection, async () => {
      await auth.getAccessToken();
      ui?.done();
      return await fn(auth);
    });
  } finally {
    ui?.done();
  }
}

/** `carto-auth dw credentials`. */
export const dwCredentials: Command = {
  spec: {
    name: "dw credentials",
    summary: "Print the CARTO Data Warehouse project id and a BigQuery token",
    usage: "[--json] [--m2m] [--credentials FILE]",
    description:
      "Prints two lines, the project id and then the token (a Google OAuth token for\n" +
      'BigQuery, valid about an hour); with --json {"projectId": …, "token": …}.',
    flags: {
      json: { type: "boolean", help: 'print {"projectId", "token"}' },
      ...CREDENTIAL_FLAGS,
    },
    examples: [
      "$ carto-auth dw credentials",
      "$ { read -r project; read -r token; } < <(carto-auth dw credentials)",
      "$ carto-auth dw credentials --json | jq -r .projectId",
    ],
  },
  async run({ flags }) {
    const selection = await select(wantedFrom(flags));
    const [projectId, token] = await withAuth(
      selection,
      (auth) => auth.getCartoDwCredentials(),
    );
    await stdout.write(
      flags.json
        ? `${jsonSafe(JSON.stringify({ projectId, token }))}\n`
        : `${safeLine(projectId)}\n${safeLine(token)}\n`,
    );
    return EXIT.ok;
  },
};

/** `carto-auth dw query`. */
export const dwQuery: Command = {
  spec: {
    name: "dw query",
    summary: "Run SQL on the CARTO Data Warehouse (BigQuery)",
    usage:
      "SQL|- [--param NAME=VALUE]... [--format FORMAT] [--location L] [--max-rows N]",
    description:
      "Runs standard SQL with the DW client and prints the rows. SQL - reads it from stdin.\n" +
      "Parameters: --param n=1 is INT64, --param x=1.5 FLOAT64, --param b=true BOOL,\n" +
      "anything else STRING; NAME:TYPE=VALUE gives the type (DATE, NUMERIC, JSON, TIMESTAMP,\n" +
      "…; ARRAY<…>, STRUCT<…> and RANGE<…> values are written as JSON).\n" +
      "json, ndjson and csv are exact (64-bit integers keep every digit; BYTES are base64;\n" +
      "TIMESTAMP is ISO 8601 UTC; in CSV NULL is an empty field and '' is \"\").",
    positionals: { min: 1, max: 1, names: "SQL (or - to read it from stdin)" },
    flags: {
      param: {
        type: "string",
        short: "p",
        multiple: true,
        arg: "NAME=VALUE",
        help:
          "a named parameter @NAME (repeatable; NAME:TYPE=VALUE to set the type)",
      },
      ...FORMAT_FLAGS,
      location: {
        type: "string",
        arg: "L",
        help: "BigQuery location of the job, e.g. US, EU",
      },
      "max-rows": {
        type: "string",
        arg: "N",
        help: "print at most N rows",
      },
      ...CREDENTIAL_FLAGS,
    },
    examples: [
      `$ carto-auth dw query "SELECT 1 AS n, 'x' AS s"`,
      `$ carto-auth dw query "SELECT @n AS n" --param n=42 --format json`,
      "$ carto-auth dw query 'SELECT * FROM `carto-demo-data.demo_tables.airports`' --max-rows 10",
      "$ carto-auth dw query - --format csv < report.sql > report.csv",
    ],
  },
  async run({ flags, args }) {
    const name = "dw query";
    const format = formatFrom(flags, name);
    const params = await parseParams((flags.param as string[]) ?? [], name);
    const maxRows = intFlag(flags["max-rows"] as string, "max-rows", name, {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    });
    const selection = await select(wantedFrom(flags));
    const sql = await readSql(args[0], name);
    const { names, rows, totalRows } = await withAuth(
      selection,
      async (auth) => {
        const dw = await auth.getCartoDwClient();
        const progress = queryProgress();
        try {
          return await interruptible((signal) =>
            fetchRows(dw, sql, {
              ...params,
              location: flags.location as string | undefined,
              signal,
              // Exact: 64-bit integers keep every digit in every format.
              int64: "bigint",
              onProgress: progress.onProgress,
            }, maxRows)
          );
        } finally {
          progress.stop();
        }
      },
    );
    await writeRows(stdout, format, names, rows, totalRows);
    return EXIT.ok;
  },
};

interface Fetched {
  names: string[];
  rows: Record<string, unknown>[];
  /** Rows of the whole result (more than `rows` when `--max-rows` cut it). */
  totalRows: number;
}

async function fetchRows(
  dw: CartoDwClient,
  sql: string,
  options: QueryOptions,
  maxRows: number | undefined,
): Promise<Fetched> {
  if (maxRows === undefined) {
    const result = await dw.query(sql, options);
    return {
      names: columnNames(result.schema),
      rows: result.rows,
      totalRows: result.rows.length,
    };
  }
  // Stops after maxRows: later pages are never fetched.
  const stream = dw.queryRows(sql, {
    ...options,
    maxResults: Math.min(maxRows, PAGE),
  });
  const meta = await stream.meta();
  const rows: Record<string, unknown>[] = [];
  if (maxRows > 0) {
    for await (const row of stream) {
      rows.push(row);
      if (rows.length >= maxRows) break;
    }
  }
  return {
    names: columnNames(meta.schema),
    rows,
    totalRows: Math.max(meta.totalRows, rows.length),
  };
}

function columnNames(schema: TableFieldSchema[]): string[] {
  return schema.map((f) => f.name);
}
