/**
 * Named queries: the only SQL that `GET /queries/:name` runs. Each lists the
 * query-string parameters it takes; they reach BigQuery as query parameters
 * (strings), never spliced into the SQL. Put your own here.
 */
export const NAMED_QUERIES: Record<string, { sql: string; params: string[] }> =
  {
    "airports-in": {
      sql:
        "SELECT iata, name, passengers FROM `your-project.your_dataset.airports` " +
        "WHERE country = @country ORDER BY passengers DESC LIMIT 100",
      params: ["country"],
    },
  };
