import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { gunzip as gunzipCb } from "node:zlib";
import type { Deps } from "../context.ts";
import { isPackrError, toErrorBody } from "../errors.ts";
import { getPackument } from "../packages/get-packument.ts";
import { getTarball } from "../packages/get-tarball.ts";

const gunzip = promisify(gunzipCb);

export type UplinkRequest = {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body?: unknown;
};

export type UplinkServer = {
  url: string;
  /** Every request received, in order. */
  requests: UplinkRequest[];
  /** Delay every answer by this many ms (a slow uplink). */
  delayMs: number;
  /** Advisories the bulk endpoint answers with, by package name. */
  advisories: Record<string, unknown[]>;
  stop(): Promise<void>;
  /** Listen again on the same port after `stop`. */
  start(): Promise<void>;
};

/**
 * A second Packr, for core suites, on 127.0.0.1: the core read verbs of `deps` behind the npm
 * read protocol (packuments by Accept with ETag/304, tarballs), plus a bulk advisory endpoint
 * answering from `advisories` — standing in for the public registry's advisory database, which
 * Packr itself does not have. Registry suites use the real registry app as the uplink instead.
 */
export async function startUplinkServer(deps: Deps): Promise<UplinkServer> {
  const state: UplinkServer = {
    url: "",
    requests: [],
    delayMs: 0,
    advisories: {},
    stop: async () => {},
    start: async () => {},
  };
  // Tarball URLs must point at this server, whatever public URL the deps were made with.
  const ctx = {
    deps: { ...deps, publicUrl: () => state.url },
    actor: { type: "anonymous" as const },
    requestId: "uplink",
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: UplinkRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
    };
    state.requests.push(record);
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    try {
      if (req.method === "POST" && path === "/-/npm/v1/security/advisories/bulk") {
        let raw = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") raw = await gunzip(raw);
        const query = JSON.parse(raw.toString("utf8")) as Record<string, string[]>;
        record.body = query;
        const out: Record<string, unknown[]> = {};
        for (const name of Object.keys(query)) {
          const found = state.advisories[name];
          if (found) out[name] = found;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
        return;
      }
      const decoded = decodeURIComponent(path.slice(1));
      const at = decoded.indexOf("/-/");
      if (at === -1) {
        const abbreviated = (req.headers.accept ?? "").includes(
          "application/vnd.npm.install-v1+json",
        );
        const doc = await getPackument({ ctx, input: { name: decoded, abbreviated } });
        if (req.headers["if-none-match"] === doc.etag) {
          res.writeHead(304, { etag: doc.etag }).end();
          return;
        }
        const bytes = await doc.load();
        res
          .writeHead(200, { "content-type": "application/json", etag: doc.etag })
          .end(Buffer.from(bytes.plain));
        return;
      }
      const name = decoded.slice(0, at);
      const filename = decoded.slice(at + 3);
      const tarball = await getTarball({ ctx, input: { name, filename } });
      if (tarball.kind !== "stream") throw new Error("the test uplink streams tarballs");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      // Small tarballs come from the tarball cache as bytes, larger ones as a stream.
      if (tarball.body instanceof Uint8Array) res.end(tarball.body);
      else Readable.fromWeb(tarball.body as import("node:stream/web").ReadableStream).pipe(res);
    } catch (err) {
      if (isPackrError(err)) {
        res
          .writeHead(err.status, { "content-type": "application/json" })
          .end(JSON.stringify(toErrorBody(err, "uplink")));
      } else {
        res.writeHead(500).end(String(err));
      }
    }
  };
  let server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${port}`;
  state.stop = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  state.start = async () => {
    server = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  };
  return state;
}
