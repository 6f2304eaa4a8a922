import { CredentialsError } from "../errors.ts";

/**
 * `#yaml` under the `workerd` and `worker` conditions: worker builds leave the
 * YAML parser (≈ 19 KB gzipped) out, because only discovery of an OAuth
 * user's API base URL needs it, and workers get theirs from M2M credentials
 * or configuration.
 */
export function parseYaml(_text: string): unknown {
  throw new CredentialsError(
    "Finding the API base URL needs the tenant's config.yaml, and this worker build has no " +
      "YAML parser. Pass apiBaseUrl (e.g. https://gcp-us-east1.api.carto.com).",
    { code: "invalid_input" },
  );
}
