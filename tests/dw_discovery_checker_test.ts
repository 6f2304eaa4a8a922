/**
 * The discovery-document checker of the conformance tests (tests/discovery.ts)
 * itself: it must fail requests that BigQuery's API description does not
 * allow, starting from requests the client really sent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { QueryParameter } from "../mod.ts";
import { bigQueryDiscovery, checkRequest, checkResponse } from "./discovery.ts";
import { samples } from "./dw_exchanges.ts";

const doc = bigQueryDiscovery();

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
  assert.deepEqual(
    checkResponse(doc, checkRequest(doc, query).method!, answer),
    [
      "bigquery.jobs.query.totalRows: 7 is not a string",
    ],
  );
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
