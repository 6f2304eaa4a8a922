/** `carto-auth logout`: removes cached tokens and says which. */
import { exclusive } from "../args.ts";
import { tokenStore } from "../config.ts";
import { EXIT, UsageError } from "../errors.ts";
import { env, stderr, style } from "../io.ts";
import type { Command } from "../main.ts";
import {
  cacheRoot,
  currentProfile,
  DEFAULT_PROFILE,
  listProfiles,
  profileDir,
  updateState,
} from "../profiles.ts";

const LABEL = { oauth: "your login (OAuth)", m2m: "the M2M login" } as const;

/** `carto-auth logout`. */
export const logout: Command = {
  spec: {
    name: "logout",
    summary:
      "Remove a cached token (yours; --m2m the machine's; --all every login of every profile)",
    usage: "[--m2m] [--profile NAME] | --all",
    description:
      "Deletes the token file of the profile in use (--profile NAME, CARTO_PROFILE, or the one\n" +
      "carto-auth use chose) from ~/.carto-auth (or CARTO_AUTH_CACHE_DIR). The default\n" +
      "profile's files are the Python carto-auth package's, so it is logged out too.",
    flags: {
      m2m: { type: "boolean", help: "remove the M2M token instead of yours" },
      all: {
        type: "boolean",
        help: "remove every login (yours and M2M) of every profile",
      },
    },
    examples: [
      "$ carto-auth logout",
      "$ carto-auth logout --profile staging",
      "$ carto-auth logout --all",
    ],
  },
  async run(parsed) {
    exclusive(parsed, "logout", ["m2m", "all"]);
    const chosen = await currentProfile();
    if (parsed.flags.all && chosen.source === "flag") {
      throw new UsageError(
        "--all removes every profile's logins; it cannot be used with --profile",
        "logout",
      );
    }
    const targets: [string, "oauth" | "m2m"][] = parsed.flags.all
      ? (await listProfiles()).flatMap((p) =>
        (["oauth", "m2m"] as const).map((k) => [p, k] as [string, typeof k])
      )
      : [[chosen.name, parsed.flags.m2m ? "m2m" : "oauth"]];
    const s = style(stderr);
    const lines: string[] = [];
    for (const [profile, key] of targets) {
      const store = await tokenStore(profile);
      const path = store.pathFor(key);
      const existed = await fileExists(path);
      await store.delete(key);
      const label = `${LABEL[key]}${
        profile === DEFAULT_PROFILE ? "" : ` of profile ${profile}`
      }`;
      if (existed) {
        lines.push(`${s.green("✓")} Logged out: removed ${label} (${path})`);
      } else if (!parsed.flags.all) {
        lines.push(`Not logged in with ${label}: nothing to remove (${path})`);
      }
      if (profile !== DEFAULT_PROFILE) await removeIfEmpty(profile);
    }
    if (parsed.flags.all) {
      if (!lines.length) lines.push("No login to remove.");
      await updateState(() => ({})).catch(() => {});
    }
    if (env("CARTO_API_TOKEN")) {
      lines.push(
        `${
          s.yellow("!")
        } CARTO_API_TOKEN is still set, and commands keep using it.`,
      );
    }
    await stderr.write(`${lines.join("\n")}\n`);
    return EXIT.ok;
  },
};

async function fileExists(path: string): Promise<boolean> {
  const { stat } = await import("node:fs/promises");
  return await stat(path).then(() => true, () => false);
}

/** Removes a named profile's folder once it holds no file (so status no longer lists it). */
async function removeIfEmpty(profile: string): Promise<void> {
  const { rmdir } = await import("node:fs/promises");
  await rmdir(profileDir(await cacheRoot(), profile)).catch(() => {});
}
