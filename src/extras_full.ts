/**
 * Imported for its effect by the doors that offer everything (`mod.ts`, the
 * CLI): discovery's YAML parser and the browser login load on first use; the
 * file store is the default wherever there is a file system. `#yaml` is
 * js-yaml, except in npm builds for workers, where package.json "imports"
 * resolves it to a stub.
 */
import { provideExtras } from "./extras.ts";
import { nodeBuiltin } from "./runtime/builtins.ts";
import { FileTokenStore } from "./stores/file.ts";

provideExtras({
  yamlParser: async () => (await import("#yaml")).parseYaml,
  interactiveLogin: async () =>
    (await import("./oauth/login.ts")).interactiveLogin,
  fileStore: (options) =>
    options.path !== undefined || nodeBuiltin("node:fs/promises")
      ? new FileTokenStore(options)
      : undefined,
});
