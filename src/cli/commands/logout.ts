/** `carto-auth logout`: removes cached tokens and says which. */
import { exclusive } from "../args.ts";
import { tokenStore } from "../config.ts";
import { EXIT } from "../errors.ts";
import { env, stderr, style } from "../io.ts";
import type { Command } from "../main.ts";

const LABEL = { oauth: "your login (OAuth)", m2m: "the M2M login" } as const;

/** `carto-auth logout`. */
export const logout: Command = {
  spec: {
    name: "logout",
    summary: "Remove the cached token (yours; --m2m the machine's; --all both)",
    usage: "[--m2m | --all]",
    description:
      "Deletes the token file from ~/.carto-auth (or CARTO_AUTH_CACHE_DIR). The Python\n" +
      "carto-auth package uses the same files, so it is logged out too.",
    flags: {
      m2m: { type: "boolean", help: "remove the M2M token instead of yours" },
      all: { type: "boolean", help: "remove both" },
    },
    examples: ["$ carto-auth logout", "$ carto-auth logout --all"],
  },
  async run(parsed) {
    exclusive(parsed, "logout", ["m2m", "all"]);
    const keys = parsed.flags.all
      ? ["oauth", "m2m"] as const
      : parsed.flags.m2m
      ? ["m2m"] as const
      : ["oauth"] as const;
    const store = tokenStore();
    const s = style(stderr);
    const lines: string[] = [];
    for (const key of keys) {
      const path = store.pathFor(key);
      const existed = await fileExists(path);
      await store.delete(key);
      lines.push(
        existed
          ? `${s.green("✓")} Logged out: removed ${LABEL[key]} (${path})`
          : `Not logged in with ${LABEL[key]}: nothing to remove (${path})`,
      );
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
