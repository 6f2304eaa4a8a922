import { load } from "js-yaml";

/**
 * Parses YAML (the tenant's `config.yaml`); `undefined` when it is not YAML.
 * Reached as `#yaml`: worker builds resolve that to `./none.ts` instead.
 */
export function parseYaml(text: string): unknown {
  try {
    return load(text, { json: true });
  } catch {
    return undefined;
  }
}
