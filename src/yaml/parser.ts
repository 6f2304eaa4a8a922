import { CredentialsError } from "../errors.ts";

/** Parses YAML text; `undefined` when it is not YAML. */
export type ParseYaml = (text: string) => unknown;

let loader: (() => Promise<ParseYaml>) | undefined;

/**
 * Says how API-base-URL discovery loads its YAML parser. The doors that offer
 * discovery (`mod.ts`, the CLI) call this; `worker.ts` does not, so no
 * bundler, whatever its resolution rules (package.json conditions for npm,
 * the import map for JSR), finds a way from there to the parser.
 */
export function provideYamlParser(load: () => Promise<ParseYaml>): void {
  loader ??= load;
}

/** The YAML parser; where none was provided, a `CredentialsError` asking for `apiBaseUrl`. */
export async function yamlParser(): Promise<ParseYaml> {
  if (!loader) {
    throw new CredentialsError(
      "Finding the API base URL needs the tenant's config.yaml, and @carto/auth/worker has no " +
        "YAML parser. Pass apiBaseUrl (e.g. https://gcp-us-east1.api.carto.com).",
      { code: "invalid_input" },
    );
  }
  return await loader();
}
