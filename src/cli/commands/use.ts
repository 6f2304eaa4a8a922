/** `carto-auth use NAME`: the profile commands use from now on. */
import { tokenStore } from "../config.ts";
import { CliError, EXIT } from "../errors.ts";
import { env, stderr, style } from "../io.ts";
import type { Command } from "../main.ts";
import {
  checkedProfileName,
  DEFAULT_PROFILE,
  listProfiles,
  updateState,
} from "../profiles.ts";

/** `carto-auth use`. */
export const use: Command = {
  spec: {
    name: "use",
    summary: "Choose the profile (account) that commands use from now on",
    usage: "NAME",
    description:
      "Saves NAME in ~/.carto-auth/cli.json; every command then uses that profile's logins\n" +
      "unless --profile or CARTO_PROFILE says otherwise. 'default' is the profile of the\n" +
      "Python-compatible files. Log in to a new profile with carto-auth login --profile NAME.",
    positionals: { min: 1, max: 1, names: "NAME (a profile)" },
    flags: {},
    examples: [
      "$ carto-auth login --profile work --org acme",
      "$ carto-auth use work",
      "$ carto-auth use default",
    ],
  },
  async run({ args }) {
    const name = checkedProfileName(args[0], "use");
    const profiles = await listProfiles();
    if (!profiles.includes(name)) {
      throw new CliError(
        `There is no profile ${JSON.stringify(name)} (profiles: ${
          profiles.join(", ")
        }). Log in to it first: carto-auth login --profile ${name}`,
        EXIT.failure,
      );
    }
    await updateState((state) => {
      const { profile: _, ...rest } = state;
      return name === DEFAULT_PROFILE ? rest : { ...rest, profile: name };
    });
    const s = style(stderr);
    const store = await tokenStore(name);
    const lines = [
      `${s.green("✓")} Commands now use profile ${s.bold(name)} (${
        store.pathFor("oauth").replace(/\/token_oauth\.json$/, "")
      })`,
    ];
    const fromEnv = env("CARTO_PROFILE");
    if (fromEnv && fromEnv !== name) {
      lines.push(
        `${
          s.yellow("!")
        } CARTO_PROFILE=${fromEnv} is set, and wins over this choice while it is.`,
      );
    }
    await stderr.write(`${lines.join("\n")}\n`);
    return EXIT.ok;
  },
};
