/**
 * Named profiles of the token cache: several accounts side by side (a
 * personal and a work tenant, staging and production). The default profile
 * keeps the Python package's files, `~/.carto-auth/token_oauth.json` and
 * `token_m2m.json`, so both keep sharing it; profile `NAME` keeps the same
 * two files in `~/.carto-auth/profiles/NAME/`, where Python never looks.
 *
 * cli.ts repeats these rules for its `token` fast path, which loads no module.
 */

/** The profile of the Python-compatible files. */
export const DEFAULT_PROFILE = "default";

/** What a profile name may be: a letter or digit, then letters, digits, `_`, `.`, `-`; 64 at most. */
export const PROFILE_NAME: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The folder of `profile`'s token files inside the cache folder `root`:
 * `root` itself for the default profile, else `root/profiles/<profile>`.
 *
 * @example
 * ```ts
 * import { profileDir } from "./profiles.ts";
 * profileDir("/home/jane/.carto-auth", "work"); // "/home/jane/.carto-auth/profiles/work"
 * profileDir("/home/jane/.carto-auth", "default"); // "/home/jane/.carto-auth"
 * ```
 */
export function profileDir(root: string, profile?: string): string {
  if (profile === undefined || profile === DEFAULT_PROFILE) return root;
  if (!PROFILE_NAME.test(profile)) {
    throw new TypeError(
      `${
        JSON.stringify(profile)
      } is not a profile name: use letters, digits, "_", "." and "-", starting with a letter or digit.`,
    );
  }
  return `${root.replace(/\/+$/, "")}/profiles/${profile}`;
}
