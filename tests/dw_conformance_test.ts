/**
 * The DW client against Google's own description of the BigQuery v2 API
 * (its discovery document, kept in tests/fixtures/bigquery/): every request
 * the client sends — each option, each parameter type, paging, polling, dry
 * run, cancel, retries — names a method and path that exist, declared and
 * well-typed query-string parameters, and a body without unknown fields at
 * any depth; every answer of the fake BigQuery fits the response schemas;
 * and every response field the client reads exists in them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type {
  ErrorProto,
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
  TableFieldSchema,
} from "../mod.ts";
import type {
  JobReference,
  QueryResponse,
  WireCell,
  WireRow,
} from "../src/dw/types.ts";
import {
  bigQueryDiscovery,
  checkRequest,
  checkResponse,
  type Method,
  schemaAt,
} from "./discovery.ts";
import { calls, type Exchange, PARAMS } from "./dw_exchanges.ts";

const doc = bigQueryDiscovery();

/** The method each exchange went to, checked. */
function methodOf(exchange: Exchange): Method {
  const { method, problems } = checkRequest(doc, exchange);
  assert.deepEqual(problems, [], `${exchange.method} ${exchange.url}`);
  return method!;
}

test("every request the client sends conforms to BigQuery's discovery document", async () => {
  const exchanges = await calls();
  const methods = new Map<string, number>();
  for (const exchange of exchanges) {
    const { id } = methodOf(exchange);
    methods.set(id, (methods.get(id) ?? 0) + 1);
  }
  // Every kind of call was made: jobs.query, pages and polls, jobs.cancel.
  assert.deepEqual([...methods.keys()].sort(), [
    "bigquery.jobs.cancel",
    "bigquery.jobs.getQueryResults",
    "bigquery.jobs.query",
  ]);
  const retried = exchanges.filter((e) => e.status >= 400);
  assert.equal(retried.length, 3, "the failed attempts are in the log too");
  const dryRuns = exchanges.filter((e) =>
    (e.body as { dryRun?: boolean } | undefined)?.dryRun
  );
  assert.equal(dryRuns.length, 1);
});

test("every parameter type reaches BigQuery as a well-formed QueryParameter", async () => {
  const exchanges = await calls();
  const sent = exchanges.flatMap((
    e,
  ) => ((e.body as { queryParameters?: QueryParameter[] })?.queryParameters ??
    [])
  );
  const types = new Set(sent.flatMap((p) => typeNames(p.parameterType)));
  for (
    const type of [
      "INT64",
      "FLOAT64",
      "NUMERIC",
      "BIGNUMERIC",
      "BOOL",
      "STRING",
      "BYTES",
      "TIMESTAMP",
      "DATE",
      "DATETIME",
      "TIME",
      "GEOGRAPHY",
      "INTERVAL",
      "JSON",
      "ARRAY",
      "STRUCT",
      "RANGE",
    ]
  ) {
    assert.ok(types.has(type), `a ${type} parameter was sent`);
  }
  // The body checks above cover them; this one is to say what was covered.
  assert.ok(sent.length >= Object.keys(PARAMS.params).length + 3);
});

test("every answer of the fake BigQuery fits the discovery document's response schemas", async () => {
  const exchanges = await calls();
  let checked = 0;
  for (const exchange of exchanges) {
    if (exchange.status !== 200) continue;
    const problems = checkResponse(doc, methodOf(exchange), exchange.answer);
    assert.deepEqual(problems, [], `${exchange.method} ${exchange.url}`);
    checked++;
  }
  assert.ok(checked > 20, `${checked} answers`);
});

test("every response field the client reads exists in BigQuery's response schemas", async () => {
  const exchanges = await calls();
  // Each map below must list every field of the client's type (deno check
  // fails otherwise), so a field read from a new place is checked here too.
  const reads: [string[], string[]][] = [
    [
      ["QueryResponse", "GetQueryResultsResponse"],
      fieldsOf<QueryResponse>({
        schema: 1,
        jobReference: 1,
        queryId: 1,
        location: 1,
        totalRows: 1,
        pageToken: 1,
        rows: 1,
        totalBytesProcessed: 1,
        jobComplete: 1,
        cacheHit: 1,
        numDmlAffectedRows: 1,
        errors: 1,
      }),
    ],
    [
      ["TableSchema"],
      fieldsOf<NonNullable<QueryResponse["schema"]>>({
        fields: 1,
      }),
    ],
    [
      ["TableFieldSchema"],
      fieldsOf<TableFieldSchema>({
        name: 1,
        type: 1,
        mode: 1,
        fields: 1,
        rangeElementType: 1,
        description: 1,
      }),
    ],
    [
      ["TableFieldSchema.rangeElementType"],
      fieldsOf<NonNullable<TableFieldSchema["rangeElementType"]>>({ type: 1 }),
    ],
    [
      ["JobReference"],
      fieldsOf<JobReference>({
        projectId: 1,
        jobId: 1,
        location: 1,
      }),
    ],
    [
      ["ErrorProto"],
      fieldsOf<ErrorProto>({
        reason: 1,
        location: 1,
        message: 1,
        debugInfo: 1,
      }),
    ],
    [["TableRow"], fieldsOf<WireRow>({ f: 1 })],
    [["TableCell"], fieldsOf<WireCell>({ v: 1 })],
  ];
  for (const [schemas, fields] of reads) {
    for (const field of fields) {
      assert.ok(
        schemas.some((s) => schemaAt(doc, s).properties?.[field]),
        `${schemas.join(" / ")} has no field ${field}`,
      );
    }
  }
  // Later pages are asked for with fields=…: each is in getQueryResults' answer.
  const page = exchanges.find((e) => e.url.searchParams.has("pageToken"));
  const selected = page?.url.searchParams.get("fields")?.split(",") ?? [];
  assert.deepEqual(selected, ["jobComplete", "pageToken", "rows"]);
  for (const field of selected) {
    assert.ok(schemaAt(doc, "GetQueryResultsResponse").properties?.[field]);
  }
});

test("the parameter types the client builds use only fields of BigQuery's request schemas", () => {
  const writes: [string, string[]][] = [
    [
      "QueryParameter",
      fieldsOf<QueryParameter>({
        name: 1,
        parameterType: 1,
        parameterValue: 1,
      }),
    ],
    [
      "QueryParameterType",
      fieldsOf<QueryParameterType>({
        type: 1,
        arrayType: 1,
        structTypes: 1,
        rangeElementType: 1,
      }),
    ],
    [
      "QueryParameterType.structTypes[]",
      fieldsOf<NonNullable<QueryParameterType["structTypes"]>[number]>({
        name: 1,
        type: 1,
      }),
    ],
    [
      "QueryParameterValue",
      fieldsOf<QueryParameterValue>({
        value: 1,
        arrayValues: 1,
        structValues: 1,
        rangeValue: 1,
      }),
    ],
    [
      "RangeValue",
      fieldsOf<NonNullable<QueryParameterValue["rangeValue"]>>({
        start: 1,
        end: 1,
      }),
    ],
  ];
  for (const [schema, fields] of writes) {
    for (const field of fields) {
      assert.ok(
        schemaAt(doc, schema).properties?.[field],
        `${schema} has no field ${field}`,
      );
    }
  }
});

// --- the checker itself -------------------------------------------------

function typeNames(type: QueryParameterType): string[] {
  return [
    type.type,
    ...(type.arrayType ? typeNames(type.arrayType) : []),
    ...(type.rangeElementType ? typeNames(type.rangeElementType) : []),
    ...(type.structTypes ?? []).flatMap((s) => typeNames(s.type)),
  ];
}

/** The keys of `map`, which must name every field of `T`. */
function fieldsOf<T>(map: { [K in keyof Required<T>]: 1 }): string[] {
  return Object.keys(map);
}
