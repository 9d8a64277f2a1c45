import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { S3Config } from "../config/config.ts";
import type { BlobStore, StoredBlob } from "./blob-store.ts";

/** Presigned download URLs live just long enough for a client to follow the redirect. */
const DOWNLOAD_URL_TTL_SECONDS = 5 * 60;

/**
 * How long the store may keep a request waiting. A store that accepts connections and then says
 * nothing would otherwise hold a publish or a tarball GET (and its socket) forever. Idle time,
 * not whole-request time: a 200 MB tarball may take minutes, but never 30 s without a byte.
 */
export const S3_TIMEOUTS = { connectMs: 5_000, idleMs: 30_000 };

/** S3 or any S3-compatible service (MinIO, R2, ...); tarballs can be served by presigned redirect. */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  private readonly client: S3Client;

  constructor(
    private readonly config: S3Config,
    timeouts: { connectMs: number; idleMs: number } = S3_TIMEOUTS,
  ) {
    const clientConfig: S3ClientConfig = {
      region: config.region,
      requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
      maxAttempts: 2,
      forcePathStyle: config.forcePathStyle,
      // Newer SDKs send CRC checksum headers by default; many S3-compatibles reject them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    };
    if (config.endpoint) clientConfig.endpoint = config.endpoint;
    // Without explicit keys the SDK's default chain (env, profile, IMDS, web identity) applies.
    if (config.accessKeyId && config.secretAccessKey) {
      clientConfig.credentials = {
        accessKeyId: config.accessKeyId,
        secretAccessKey: config.secretAccessKey,
      };
    }
    this.client = new S3Client(clientConfig);
  }

  async put(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType ?? "application/octet-stream",
        ContentLength: bytes.byteLength,
      }),
    );
  }

  async putFile(key: string, file: string, contentType?: string): Promise<void> {
    // A stream of known length: the SDK sends it in one PUT without buffering it. S3 makes the
    // object visible only once the whole body arrived, so a key never names a partial object.
    const { size } = await stat(file);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentType: contentType ?? "application/octet-stream",
        ContentLength: size,
      }),
    );
  }

  async get(key: string): Promise<ReadableStream<Uint8Array> | null> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: key }),
      );
      if (!res.Body) return null;
      return res.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too; the guard covers compatibles that say 404.
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredBlob> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.config.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key && object.LastModified) {
          yield { key: object.Key, modifiedAt: object.LastModified };
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async downloadUrl(key: string, filename: string): Promise<string | null> {
    if (this.config.delivery !== "redirect") return null;
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: key,
      // Objects may have been stored with another type; clients expect a plain tarball download.
      ResponseContentType: "application/octet-stream",
      ResponseContentDisposition: contentDisposition(filename),
    });
    return getSignedUrl(this.client, command, { expiresIn: DOWNLOAD_URL_TTL_SECONDS });
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
  }
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  // A missing bucket is misconfiguration, not a missing object: let it surface.
  if (e.name === "NoSuchBucket") return false;
  // HEAD responses have no body, so the SDK can only report "NotFound" from the status code.
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}

/** `attachment` with an ASCII-safe fallback name plus the exact name per RFC 6266 / 5987. */
function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
