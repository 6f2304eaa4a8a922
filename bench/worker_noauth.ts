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

app.post("/sql/:connection", async (c) => {
  const { q } = await c.req.json();
  const connection = encodeURIComponent(c.req.param("connection"));
  const upstream = await fetch(
    `${c.env.CARTO_API_BASE_URL}/v3/sql/${connection}/query`,
    {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        authorization: `Bearer ${c.env.TOKEN}`,
      },
      body: JSON.stringify({ q }),
    },
  );
  if (!upstream.ok) return c.json({ error: await upstream.text() }, 502);
  return new Response(upstream.body, {
    headers: { "content-type": "application/json" },
  });
});

export default app;
