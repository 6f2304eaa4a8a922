/**
 * Node built-ins reached through `process.getBuiltinModule`, which Node (≥ 20.16),
 * Deno and Bun all provide. Unlike an `import "node:…"`, it leaves no trace a
 * worker bundler would try to resolve, so modules that use it stay bundleable.
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const proc =
    (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}

/** Like {@linkcode nodeBuiltin}, but says what is missing when there is no such module. */
export function requireBuiltin<T>(id: string, purpose: string): T {
  const mod = nodeBuiltin<T>(id);
  if (!mod) {
    throw new Error(
      `${purpose} needs ${id}, which this runtime does not provide (Node ≥ 20.16, Deno or Bun do).`,
    );
  }
  return mod;
}

/** An environment variable, or `undefined` where there is no environment (workers). */
export function envVar(name: string): string | undefined {
  const env =
    (globalThis as { process?: { env?: Record<string, string | undefined> } })
      .process
      ?.env;
  try {
    return env?.[name];
  } catch {
    // Deno without --allow-env throws; treat as unset.
    return undefined;
  }
}
