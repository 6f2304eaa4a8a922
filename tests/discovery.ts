/**
 * Checks HTTP requests and answers against a Google API discovery document
 * (https://developers.google.com/discovery/v1/reference/apis): the method
 * and path exist, query-string parameters are declared and well typed,
 * bodies have no unknown property at any depth, the ones the document calls
 * "Required." are there, and every value has the declared type, format and
 * enum. `null` passes anywhere: ProtoJSON reads it as "not set".
 */
import { readFileSync } from "node:fs";

/** A schema of the document, or a property or item of one. */
export interface Schema {
  id?: string;
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
}

/** A query or path parameter of a method. */
export interface Parameter extends Schema {
  location: "query" | "path";
  required?: boolean;
  repeated?: boolean;
  pattern?: string;
}

/** A method of the API. */
export interface Method {
  id: string;
  httpMethod: string;
  path: string;
  parameters?: Record<string, Parameter>;
  request?: { $ref: string };
  response?: { $ref: string };
}

interface Resource {
  methods?: Record<string, Method>;
  resources?: Record<string, Resource>;
}

/** The parts of a discovery document read here. */
export interface Discovery {
  revision: string;
  servicePath: string;
  parameters: Record<string, Parameter>;
  schemas: Record<string, Schema>;
  resources: Record<string, Resource>;
}

/** BigQuery v2's discovery document, kept as test data (see tests/fixtures/bigquery/README.md). */
export function bigQueryDiscovery(): Discovery {
  const url = new URL(
    "./fixtures/bigquery/bigquery_v2_discovery.json",
    import.meta.url,
  );
  return JSON.parse(readFileSync(url, "utf8"));
}

/** A request as sent: method, URL (path and query string) and JSON body. */
export interface HttpCall {
  method: string;
  url: URL;
  body?: unknown;
}

/** The method `call` is to, and what is wrong with the call; no problems means conformant. */
export function checkRequest(
  doc: Discovery,
  call: HttpCall,
): { method?: Method; problems: string[] } {
  const path = call.url.pathname.replace(/^\//, "");
  if (!path.startsWith(doc.servicePath)) {
    return { problems: [`${path} is not under /${doc.servicePath}`] };
  }
  const found = findMethod(
    doc,
    call.method,
    path.slice(doc.servicePath.length),
  );
  if (!found) {
    return { problems: [`no method ${call.method} /${path}`] };
  }
  const { method, pathParams } = found;
  const problems: string[] = [];
  const params = method.parameters ?? {};
  for (const [name, value] of Object.entries(pathParams)) {
    const p = params[name];
    if (p.pattern && !new RegExp(p.pattern).test(value)) {
      problems.push(
        `${method.id}: path parameter ${name}=${value} does not match ${p.pattern}`,
      );
    }
  }
  const seen = new Set<string>();
  for (const [name, value] of call.url.searchParams) {
    const p = params[name] ?? doc.parameters[name];
    if (!p || p.location !== "query") {
      problems.push(`${method.id}: query parameter ${name} is not declared`);
      continue;
    }
    if (seen.has(name) && !p.repeated) {
      problems.push(`${method.id}: query parameter ${name} is repeated`);
    }
    seen.add(name);
    problems.push(
      ...checkScalar(p, queryValue(p, value), `${method.id}?${name}`),
    );
  }
  for (const [name, p] of Object.entries(params)) {
    if (p.location === "query" && p.required && !seen.has(name)) {
      problems.push(
        `${method.id}: required query parameter ${name} is missing`,
      );
    }
  }
  const hasBody = call.body !== undefined;
  if (method.request) {
    if (!hasBody) problems.push(`${method.id}: the request body is missing`);
    else {
      problems.push(
        ...checkValue(doc, method.request, call.body, method.id, "request"),
      );
    }
  } else if (hasBody) {
    problems.push(`${method.id}: takes no request body`);
  }
  return { method, problems };
}

/** What is wrong with `body` as the answer of `method`. */
export function checkResponse(
  doc: Discovery,
  method: Method,
  body: unknown,
): string[] {
  if (!method.response) return [];
  return checkValue(doc, method.response, body, method.id, "response");
}

/** Every method of the document. */
export function methodsOf(doc: Discovery): Method[] {
  const out: Method[] = [];
  const walk = (r: Resource) => {
    out.push(...Object.values(r.methods ?? {}));
    Object.values(r.resources ?? {}).forEach(walk);
  };
  Object.values(doc.resources).forEach(walk);
  return out;
}

/**
 * The schema at `location`: a schema id, then property names, e.g.
 * `TableFieldSchema.rangeElementType`; `[]` steps into array items.
 */
export function schemaAt(doc: Discovery, location: string): Schema {
  const [id, ...steps] = location.split(".");
  let schema = resolve(doc, { $ref: id });
  for (const step of steps) {
    const name = step.replace(/\[\]$/, "");
    const next = schema.properties?.[name];
    if (!next) throw new Error(`${location}: no property ${name}`);
    schema = resolve(doc, next);
    if (step.endsWith("[]")) schema = resolve(doc, schema.items ?? {});
  }
  return schema;
}

function findMethod(
  doc: Discovery,
  httpMethod: string,
  path: string,
): { method: Method; pathParams: Record<string, string> } | undefined {
  for (const method of methodsOf(doc)) {
    if (method.httpMethod !== httpMethod) continue;
    const names: string[] = [];
    const pattern = method.path.replace(
      /[.*+?^$()|[\]\\]|\{\+?([^}]+)\}/g,
      (m, name?: string) => {
        if (!name) return `\\${m}`;
        names.push(name);
        return "([^/]+)";
      },
    );
    const m = new RegExp(`^${pattern}$`).exec(path);
    if (!m) continue;
    const pathParams = Object.fromEntries(
      names.map((n, i) => [n, decodeURIComponent(m[i + 1])]),
    );
    return { method, pathParams };
  }
}

/** A query-string value as the JSON value it stands for. */
function queryValue(p: Parameter, value: string): unknown {
  if (p.type === "integer") {
    return /^-?\d+$/.test(value) ? Number(value) : value;
  }
  if (p.type === "boolean") {
    return value === "true" ? true : value === "false" ? false : value;
  }
  return value;
}

function resolve(doc: Discovery, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const target = doc.schemas[schema.$ref];
  if (!target) throw new Error(`no schema ${schema.$ref}`);
  return target;
}

function checkValue(
  doc: Discovery,
  declared: Schema,
  value: unknown,
  path: string,
  direction: "request" | "response",
): string[] {
  if (value === null) return [];
  const schema = resolve(doc, declared);
  const problems: string[] = [];
  switch (schema.type) {
    case "any":
      return [];
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) {
        return [`${path}: ${show(value)} is not an object`];
      }
      const record = value as Record<string, unknown>;
      for (const [key, v] of Object.entries(record)) {
        if (v === undefined) continue; // not sent
        const property = schema.properties?.[key];
        const where = `${path}.${key}`;
        if (property) {
          problems.push(...checkValue(doc, property, v, where, direction));
        } else if (schema.additionalProperties) {
          problems.push(
            ...checkValue(
              doc,
              schema.additionalProperties,
              v,
              where,
              direction,
            ),
          );
        } else {
          problems.push(`${where}: unknown property`);
        }
      }
      if (direction === "request") {
        for (const [key, property] of Object.entries(schema.properties ?? {})) {
          const required = /^Required\b/.test(property.description ?? "");
          if (required && record[key] === undefined) {
            problems.push(`${path}.${key}: required, missing`);
          }
        }
      }
      return problems;
    }
    case "array":
      if (!Array.isArray(value)) {
        return [`${path}: ${show(value)} is not an array`];
      }
      value.forEach((item, i) =>
        problems.push(
          ...checkValue(
            doc,
            schema.items ?? {},
            item,
            `${path}[${i}]`,
            direction,
          ),
        )
      );
      return problems;
    default:
      return checkScalar(schema, value, path);
  }
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function checkScalar(schema: Schema, value: unknown, path: string): string[] {
  const bad = (what: string) => [`${path}: ${show(value)} is not ${what}`];
  const range = schema.format ? INTEGER_RANGES[schema.format] : undefined;
  switch (schema.type) {
    case "boolean":
      return typeof value === "boolean" ? [] : bad("a boolean");
    case "number":
      return typeof value === "number" ? [] : bad("a number");
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return bad("an integer");
      }
      return inRange(BigInt(value), range) ? [] : bad(`a ${schema.format}`);
    }
    case "string": {
      if (typeof value !== "string") return bad("a string");
      if (range) {
        // int64 and uint64 travel as decimal strings.
        if (!/^-?\d+$/.test(value) || !inRange(BigInt(value), range)) {
          return bad(`a ${schema.format} decimal string`);
        }
      }
      if (schema.format === "byte" && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        return bad("base64");
      }
      if (schema.enum && !schema.enum.includes(value)) {
        return bad(`one of ${schema.enum.join(", ")}`);
      }
      return [];
    }
    default:
      return [`${path}: the schema has type ${schema.type}, unknown here`];
  }
}

function inRange(n: bigint, range: [bigint, bigint] | undefined): boolean {
  return !range || (n >= range[0] && n <= range[1]);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
