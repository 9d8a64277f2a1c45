import path from "node:path";
import type { Config } from "../config/config.ts";
import type { BlobStore } from "./blob-store.ts";
import { FsBlobStore } from "./fs-blob-store.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

export type { BlobStore, StoredBlob } from "./blob-store.ts";
export { sha512Hex, tarballKey } from "./blob-store.ts";
export { BlobSweeper, type SweepResult, sweepOrphanBlobs } from "./blob-sweeper.ts";
export { FsBlobStore } from "./fs-blob-store.ts";
export { S3BlobStore } from "./s3-blob-store.ts";

/** S3 when S3_BUCKET is set, otherwise `<dataDir>/blobs`. */
export function createBlobStore(config: Config): BlobStore {
  return config.s3
    ? new S3BlobStore(config.s3)
    : new FsBlobStore(path.join(config.dataDir, "blobs"));
}
