// An empty script: bench/cli_token_bench.ts times the runtime starting it.
