/**
 * The baseline of `worker_concurrency.ts`: the example worker's
 * `/sql/:connection` route without @carto/auth, sending a bearer token it is
 * given (binding `TOKEN`) with plain `fetch`. The difference in latency is
 * what the library's warm path costs.
 */
import { Hono } from "hono";

interface Env {
  CARTO_API_BASE_URL: string;
  TOKEN: string;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/sql/:connection", async (c) => {
  const q = c.req.query("q") ?? "";
  const connection = encodeURIComponent(c.req.param("connection"));
  const upstream = await fetch(
    `${c.env.CARTO_API_BASE_URL}/v3/sql/${connection}/query?q=${
      encodeURIComponent(q)
    }`,
    {
      headers: {
        accept: "application/json",
        authorization: `Bearer ${c.env.TOKEN}`,
      },
    },
  );
  const text = await upstream.text();
  if (!upstream.ok) return c.json({ error: text }, 502);
  return c.body(text, 200, { "content-type": "application/json" });
});

export default app;
