/** Shared assertion of the test files: a promise that must reject with a `CredentialsError`. */
import assert from "node:assert/strict";
import { CredentialsError } from "../mod.ts";

/** The `CredentialsError` (or subclass `T`) that `promise` rejects with; fails otherwise. */
export async function rejection<T extends CredentialsError = CredentialsError>(
  promise: Promise<unknown>,
): Promise<T> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(
    error instanceof CredentialsError,
    `expected a CredentialsError, got ${error}`,
  );
  return error as T;
}
