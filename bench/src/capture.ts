import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Recording Packr's responses for the bare server: the exact status, headers and body bytes of
 * each packument (full and abbreviated, plain and gzip) and each tarball. The one change is the
 * origin inside packuments (tarball URLs), rewritten to the bare server's so that `npm install`
 * against it fetches tarballs from it; the ports have the same number of digits, so sizes match.
 */

export const ABBREVIATED = "application/vnd.npm.install-v1+json";
/** What npm 11 sends for a corgi (abbreviated) packument. */
export const ACCEPT_ABBREVIATED = `${ABBREVIATED}; q=1.0, application/json; q=0.8, */*`;
/** What npm install sends since npm 10.4 (full metadata). */
export const ACCEPT_FULL = "application/json";

export type Variant = {
  form: "abbreviated" | "full" | "any";
  gzip: boolean;
  status: number;
  headers: Record<string, string>;
  offset: number;
  length: number;
};

export type CaptureIndex = { routes: Record<string, Variant[]> };

/** Headers worth replaying; hop-by-hop and per-response ones (date, request id) are not. */
const KEEP = ["content-type", "etag", "last-modified", "cache-control", "vary", "content-encoding"];

type Raw = { status: number; headers: Record<string, string>; body: Buffer };

function getRaw(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const kept: Record<string, string> = {};
        for (const k of KEEP) {
          const v = res.headers[k];
          if (typeof v === "string") kept[k] = v;
        }
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on("error", reject);
  });
}

/** "/@scope%2fname" and "/@scope/name" are one route; the bare server decodes the same way. */
export function routeKey(pathname: string): string {
  return decodeURIComponent(pathname);
}

export class CaptureWriter {
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  readonly index: CaptureIndex = { routes: {} };

  constructor(private readonly toOrigin: string) {}

  private add(route: string, v: Omit<Variant, "offset" | "length">, body: Buffer): void {
    const list = this.index.routes[route] ?? [];
    list.push({ ...v, offset: this.offset, length: body.length });
    this.index.routes[route] = list;
    this.chunks.push(body);
    this.offset += body.length;
  }

  /**
   * One packument in its four representations. Plain bodies are fetched and rewritten; the gzip
   * body is the rewritten plain body gzipped at zlib's default level, the level Packr uses.
   */
  async packument(
    fromOrigin: string,
    pathname: string,
  ): Promise<{ full: number; abbreviated: number }> {
    const sizes = { full: 0, abbreviated: 0 };
    for (const form of ["abbreviated", "full"] as const) {
      const accept = form === "abbreviated" ? ACCEPT_ABBREVIATED : ACCEPT_FULL;
      const raw = await getRaw(fromOrigin + pathname, { accept });
      if (raw.status !== 200) {
        throw new Error(`capture: GET ${pathname} (${form}) answered ${raw.status}`);
      }
      const plain = Buffer.from(
        raw.body.toString("utf8").replaceAll(fromOrigin, this.toOrigin),
        "utf8",
      );
      sizes[form] = plain.length;
      const gz = await getRaw(fromOrigin + pathname, { accept, "accept-encoding": "gzip" });
      const gzHeaders = gz.headers["content-encoding"] === "gzip" ? gz.headers : raw.headers;
      this.add(routeKey(pathname), { form, gzip: false, status: 200, headers: raw.headers }, plain);
      this.add(
        routeKey(pathname),
        { form, gzip: true, status: 200, headers: gzHeaders },
        gz.headers["content-encoding"] === "gzip" ? gzipSync(plain) : plain,
      );
    }
    return sizes;
  }

  async tarball(fromOrigin: string, pathname: string): Promise<number> {
    const raw = await getRaw(fromOrigin + pathname, {});
    if (raw.status !== 200) throw new Error(`capture: GET ${pathname} answered ${raw.status}`);
    this.add(
      routeKey(pathname),
      { form: "any", gzip: false, status: 200, headers: raw.headers },
      raw.body,
    );
    return raw.body.length;
  }

  async write(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "bodies.bin"), Buffer.concat(this.chunks));
    await writeFile(path.join(dir, "index.json"), JSON.stringify(this.index));
  }
}
