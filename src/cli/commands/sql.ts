/** `carto-auth sql`: the CARTO SQL API, `/v3/sql/{connection}/query`. */
import { select } from "../credentials.ts";
import { EXIT } from "../errors.ts";
import { stdout } from "../io.ts";
import type { Command } from "../main.ts";
import { FORMAT_FLAGS, formatFrom, writeRows } from "../format/rows.ts";
import { interruptible, readSql } from "../query_input.ts";
import { withAuth } from "./dw.ts";
import { CREDENTIAL_FLAGS, wantedFrom } from "./token.ts";

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
    const { schema, rows } = await withAuth(
      selection,
      (auth) =>
        interruptible((signal) => auth.querySql(connection, query, { signal })),
    );
    const names = schema.length
      ? schema.map((f) => f.name)
      : Object.keys(rows[0] ?? {});
    await writeRows(stdout, format, names, rows);
    return EXIT.ok;
  },
};
