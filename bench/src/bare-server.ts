import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import type { CaptureIndex, Variant } from "./capture.ts";

/**
 * The physical limit of this stack: node:http answering bytes captured from Packr, from memory.
 * No routing framework, no database, no auth; one map lookup per request. Run as its own process
 * (`node --import tsx bare-server.ts <captureDir>` with PORT set) so its CPU and RSS are its own.
 */

const dir = process.argv[2];
const port = Number(process.env.PORT);
if (!dir || !port) throw new Error("usage: PORT=<port> bare-server.ts <captureDir>");

const bodies = readFileSync(path.join(dir, "bodies.bin"));
const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as CaptureIndex;

/** headers: flat [name, value, name, value…], the form writeHead takes without copying. */
type Ready = { status: number; headers: string[]; body: Buffer; etag?: string };
type Route = { abbreviated?: Ready[]; full?: Ready[]; any?: Ready[] };

// Precompute header arrays and body slices once, so a request does no work but the lookup.
const routes = new Map<string, Route>();
for (const [key, variants] of Object.entries(index.routes)) {
  const route: Route = {};
  for (const v of variants) {
    const list = route[v.form] ?? [];
    list[v.gzip ? 1 : 0] = ready(v);
    route[v.form] = list;
  }
  routes.set(key, route);
}

function ready(v: Variant): Ready {
  const body = bodies.subarray(v.offset, v.offset + v.length);
  const headers = Object.entries(v.headers).flat();
  headers.push("content-length", String(body.length));
  return { status: v.status, headers, body, etag: v.headers.etag };
}

const notFound = Buffer.from('{"error":"not found"}');

const server = http.createServer((req, res) => {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  let key = q === -1 ? url : url.slice(0, q);
  if (key.includes("%")) key = decodeURIComponent(key);
  if (key === "/-/ping") {
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
    return;
  }
  const route = routes.get(key);
  const pick = route?.any ?? (abbreviated(req) ? route?.abbreviated : route?.full);
  if (!pick) {
    res.writeHead(404, { "content-type": "application/json" }).end(notFound);
    return;
  }
  const gzip = (req.headers["accept-encoding"] ?? "").includes("gzip");
  const r = (gzip ? pick[1] : pick[0]) ?? pick[0];
  if (!r) {
    res.writeHead(404).end();
    return;
  }
  if (r.etag && req.headers["if-none-match"] === r.etag) {
    res.writeHead(304, [["etag", r.etag]]).end();
    return;
  }
  res.writeHead(r.status, r.headers);
  res.end(req.method === "HEAD" ? undefined : r.body);
});

function abbreviated(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? "").includes("application/vnd.npm.install-v1+json");
}

// Node's default keep-alive timeout (5 s) is what Packr's @hono/node-server uses too.
server.listen(port, "127.0.0.1", () => {
  console.log(`bare server on http://127.0.0.1:${port} with ${routes.size} routes`);
});
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
