import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { S3Config } from "../config/config.ts";

// s3rver ships CommonJS without type declarations; this is the slice of its API tests use.
type S3rverInstance = { run(): Promise<AddressInfo>; close(): Promise<void> };
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

export type LocalS3 = {
  config: S3Config;
  /** The same settings as environment variables, for a registry process. */
  env: Record<string, string>;
  close(): Promise<void>;
};

/**
 * A real S3-protocol server (s3rver) on 127.0.0.1 with one bucket. It implements S3's REST API
 * and presigned-URL expiry but does not verify signatures. `host` is the name clients use for it:
 * `127.0.0.1` or `localhost` (s3rver reads any other name as a virtual-hosted bucket). Use
 * `localhost` when the registry is on 127.0.0.1, so the two differ in hostname as a real S3 does
 * (npm keeps its Authorization header on a redirect to the same hostname, and S3 refuses a
 * request that is both presigned and carries a header credential).
 */
export async function startLocalS3(
  bucket = "packr-test",
  host: "127.0.0.1" | "localhost" = "127.0.0.1",
): Promise<LocalS3> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  const dir = await mkdtemp(path.join(os.tmpdir(), "packr-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://${host}:${port}`;
  return {
    config: {
      bucket,
      endpoint,
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
      delivery: "redirect",
    },
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
