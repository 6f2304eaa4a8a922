/**
 * Imported for its effect by the doors that offer API-base-URL discovery
 * (`mod.ts`, the CLI): the YAML parser loads the first time a tenant's
 * config.yaml is read. `#yaml` is js-yaml, except in npm builds for workers,
 * where package.json "imports" resolves it to a stub.
 */
import { provideYamlParser } from "./parser.ts";

provideYamlParser(async () => (await import("#yaml")).parseYaml);
