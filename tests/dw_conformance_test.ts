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
import type { FakeResult } from "../src/testing/mod.ts";
import {
  bigQueryDiscovery,
  checkRequest,
  checkResponse,
  type HttpCall,
  type Method,
  schemaAt,
} from "./discovery.ts";
import { bigqueryError, dwFixture } from "./dw_fixture.ts";

const doc = bigQueryDiscovery();

/** One exchange with BigQuery as the transport saw it. */
interface Exchange extends HttpCall {
  status: number;
  answer: unknown;
}

/** A transport that records BigQuery exchanges (it does not change them). */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.pathname.startsWith("/bigquery/")) return response;
    const text = await response.text();
    log.push({
      method: init?.method ?? "GET",
      url,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      status: response.status,
      answer: text ? JSON.parse(text) : undefined,
    });
    return new Response(text, response);
  };
}

const NUMBERS: FakeResult = {
  schema: [
    { name: "n", type: "INTEGER", mode: "NULLABLE" },
    { name: "at", type: "TIMESTAMP", mode: "NULLABLE" },
  ],
  rows: Array.from({ length: 7 }, (_, i) => ({
    f: [{ v: String(i) }, { v: String(1712609904434123 + i) }],
  })),
};

const AT = new Date("2024-04-08T20:58:24.434Z");

/** Every parameter type the client encodes, inferred and given. */
const PARAMS: {
  params: Record<string, unknown>;
  types: Record<string, string>;
} = {
  params: {
    int: 42,
    big: 9007199254740993n,
    intText: "12",
    float: 2.5,
    nan: NaN,
    inf: -Infinity,
    numeric: "1.25",
    bignumeric: 10n ** 40n,
    bool: true,
    text: "it's",
    bytes: new Uint8Array([0, 1, 254, 255]),
    at: AT,
    atText: "2024-04-08 20:58:24.434123+00:00",
    day: AT,
    civil: AT,
    time: "12:30:00.5",
    geo: "POINT(1 2)",
    interval: "1-2 3 4:5:6",
    doc: { a: [1, "x"] },
    ints: [1, 2, 3],
    empty: [],
    none: null,
    point: { x: 1.5, tags: ["a"], inner: { ok: false } },
    points: [{ x: 1 }, { x: 2 }],
    pair: { a: 1, b: "x" },
    dates: { start: "2024-01-01", end: null },
    civils: { start: null, end: "2024-01-01T00:00:00" },
    instants: { start: AT, end: AT },
  },
  types: {
    intText: "INT64",
    numeric: "NUMERIC",
    bignumeric: "BIGNUMERIC",
    atText: "TIMESTAMP",
    day: "DATE",
    civil: "DATETIME",
    time: "TIME",
    geo: "GEOGRAPHY",
    interval: "INTERVAL",
    doc: "JSON",
    empty: "ARRAY<INT64>",
    none: "STRING",
    dates: "RANGE<DATE>",
    civils: "RANGE<DATETIME>",
    instants: "RANGE<TIMESTAMP>",
  },
};

/** Runs every kind of call the client makes and returns what went over the wire. */
async function everyCall(): Promise<Exchange[]> {
  const log: Exchange[] = [];
  await using f = await dwFixture({
    fetch: recordingFetch(log),
    labels: { team: "geo" },
    location: "EU",
  });
  const { dw, fake } = f;
  fake.bigquery.setResult("SELECT * FROM numbers", NUMBERS);
  fake.bigquery.setResult("SELECT * FROM slow", NUMBERS, { pendingPolls: 2 });
  fake.bigquery.setResult("SELECT * FROM forever", NUMBERS, {
    pendingPolls: 1_000,
  });

  // Every option of jobs.query, each maximumBytesBilled form.
  for (const maximumBytesBilled of [10_000_000, 10_000_000n, "10000000"]) {
    await dw.query("SELECT 1 AS n", {
      location: "US",
      maxResults: 500,
      timeoutMs: 2_000,
      labels: { job: "test", "ünï-cödé_1": "" },
      maximumBytesBilled,
      useQueryCache: false,
      jobCreationMode: "JOB_CREATION_REQUIRED",
      int64: "bigint",
    });
  }
  // Named parameters of every type, then positional ones.
  const sql = `SELECT ${
    Object.keys(PARAMS.params).map((name) => `@${name} AS ${name}`).join(", ")
  }`;
  await dw.query(sql, { ...PARAMS, int64: "string" });
  await dw.query("SELECT ? AS a, ? AS b, ? AS c", {
    params: [1, "x", null],
    types: [undefined, undefined, "DATE"],
  });
  // Paging (given and default page sizes), streaming, polling.
  await dw.query("SELECT * FROM numbers", { maxResults: 2 });
  for await (
    const _ of dw.queryRows("SELECT * FROM numbers", { maxResults: 3 })
  ) {
    // read to the end
  }
  await dw.query("SELECT * FROM slow", { timeoutMs: 100, maxResults: 4 });
  await dw.query("SELECT * FROM slow");
  // Dry run.
  await dw.dryRun("SELECT * FROM numbers", { maximumBytesBilled: 1 });
  // Cancel: abort while the job runs.
  const controller = new AbortController();
  const cancelled = dw.query("SELECT * FROM forever", {
    signal: controller.signal,
  });
  while (!log.some((e) => e.method === "GET")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort();
  await cancelled.catch(() => {});
  // Retries: a transient failure, a refused token, a failing page.
  fake.failNext("bigquery", bigqueryError(503, "backendError"));
  await dw.query("SELECT 1 AS n");
  fake.failNext("bigquery", bigqueryError(401, "authError"));
  await dw.query("SELECT 1 AS n");
  fake.failNext(
    "bigquery",
    bigqueryError(500, "internalError"),
    1,
    (r) => r.method === "GET",
  );
  await dw.query("SELECT * FROM numbers", { maxResults: 3 });
  return log;
}

let recorded: Promise<Exchange[]> | undefined;
/** The exchanges of {@linkcode everyCall}, made once for all the tests. */
const calls = () => recorded ??= everyCall();

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

/** A jobs.query with parameters and a later page, as the client sent them. */
async function samples(): Promise<{ query: Exchange; page: Exchange }> {
  const exchanges = await calls();
  const query = exchanges.find((e) =>
    e.method === "POST" &&
    (e.body as { queryParameters?: unknown })?.queryParameters
  )!;
  const page = exchanges.find((e) => e.url.searchParams.has("pageToken"))!;
  return { query, page };
}

test("the checker fails a request body that gains an unknown field, at any depth", async () => {
  const { query } = await samples();
  const body = structuredClone(query.body) as Record<string, unknown>;
  assert.deepEqual(checkRequest(doc, { ...query, body }).problems, []);
  body.maxResult = 10; // a typo of maxResults
  (body.formatOptions as Record<string, unknown>).useInt64Timestamps = true;
  const [parameter] = body.queryParameters as QueryParameter[];
  (parameter.parameterType as unknown as Record<string, unknown>).arraytype =
    {};
  assert.deepEqual(checkRequest(doc, { ...query, body }).problems.sort(), [
    "bigquery.jobs.query.formatOptions.useInt64Timestamps: unknown property",
    "bigquery.jobs.query.maxResult: unknown property",
    "bigquery.jobs.query.queryParameters[0].parameterType.arraytype: unknown property",
  ]);
});

test("the checker fails wrong types, formats, enums and missing required fields", async () => {
  const { query } = await samples();
  const body = {
    ...(query.body as Record<string, unknown>),
    maximumBytesBilled: "1e+21",
    maxResults: 2.5,
    timeoutMs: -1,
    useQueryCache: "no",
    jobCreationMode: "JOB_CREATION_SOMETIMES",
    labels: { team: 1 },
    queryParameters: [{ parameterType: {}, parameterValue: { value: 1 } }],
    query: undefined,
  };
  assert.deepEqual(checkRequest(doc, { ...query, body }).problems.sort(), [
    'bigquery.jobs.query.jobCreationMode: "JOB_CREATION_SOMETIMES" is not one of JOB_CREATION_MODE_UNSPECIFIED, JOB_CREATION_REQUIRED, JOB_CREATION_OPTIONAL',
    "bigquery.jobs.query.labels.team: 1 is not a string",
    "bigquery.jobs.query.maxResults: 2.5 is not an integer",
    'bigquery.jobs.query.maximumBytesBilled: "1e+21" is not a int64 decimal string',
    "bigquery.jobs.query.query: required, missing",
    "bigquery.jobs.query.queryParameters[0].parameterType.type: required, missing",
    "bigquery.jobs.query.queryParameters[0].parameterValue.value: 1 is not a string",
    "bigquery.jobs.query.timeoutMs: -1 is not a uint32",
    'bigquery.jobs.query.useQueryCache: "no" is not a boolean',
  ]);
  const answer = structuredClone(query.answer) as Record<string, unknown>;
  const echoed = { ...(query.body as object), totalBytesBilled: "1" };
  assert.deepEqual(
    checkRequest(doc, { ...query, body: echoed }).problems,
    ["bigquery.jobs.query.totalBytesBilled: unknown property"],
  );
  answer.totalRows = 7;
  assert.deepEqual(checkResponse(doc, methodOf(query), answer), [
    "bigquery.jobs.query.totalRows: 7 is not a string",
  ]);
});

test("the checker fails undeclared or ill-typed query-string parameters and unknown paths", async () => {
  const { page } = await samples();
  const url = new URL(page.url);
  url.searchParams.set("maxResults", "-3");
  url.searchParams.set("formatOptions.useInt64Timestamp", "yes");
  url.searchParams.set("pagetoken", "x");
  assert.deepEqual(checkRequest(doc, { ...page, url }).problems, [
    "bigquery.jobs.getQueryResults?maxResults: -3 is not a uint32",
    'bigquery.jobs.getQueryResults?formatOptions.useInt64Timestamp: "yes" is not a boolean',
    "bigquery.jobs.getQueryResults: query parameter pagetoken is not declared",
  ]);
  const wrongPath = new URL(page.url);
  wrongPath.pathname = wrongPath.pathname.replace("/queries/", "/query/");
  assert.match(
    checkRequest(doc, { ...page, url: wrongPath }).problems[0],
    /^no method GET \/bigquery\/v2\/projects\/[^/]+\/query\/job_/,
  );
  assert.deepEqual(
    checkRequest(doc, { ...page, body: {} }).problems,
    ["bigquery.jobs.getQueryResults: takes no request body"],
  );
});

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
