import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { PackrError } from "../errors.ts";

const scryptRaw = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// OWASP's scrypt floor (N=2^17, r=8, p=1): ~100 ms and 128 MiB per hash. Only login pays it;
// token checks never hash a password.
const PARAMS = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };
const KEY_LENGTH = 64;

/**
 * At most this many scrypt computations at once in the process, the rest wait in a short queue.
 * scrypt runs on libuv's threadpool (4 threads), which also serves file reads (tarballs), gzip
 * and DNS: a login storm with no bound would hold every thread and stall all of them. Two leave
 * the other threads free and cap hashing memory at 2 × 128 MiB.
 */
export const SCRYPT_CONCURRENCY = 2;
/** Callers waiting beyond this are refused at once (429) rather than queued for seconds. */
export const SCRYPT_QUEUE_LIMIT = 16;

class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      if (this.waiting.length >= this.maxQueue) throw busy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

const pool = new Semaphore(SCRYPT_CONCURRENCY, SCRYPT_QUEUE_LIMIT);

const busy = () =>
  new PackrError(
    "RATE_LIMITED",
    "The registry is busy checking other passwords; try again in a few seconds.",
    { details: { retryAfter: 2 } },
  );

let checksInFlight = 0;

/**
 * Admission to a password check, before it costs anything (its database round trips, then the
 * hash): at most as many checks in flight as the hashing pool runs and queues. Past that the
 * caller is refused at once (429), so a storm does no work beyond counting. Returns the release.
 */
export function admitPasswordCheck(): () => void {
  if (checksInFlight >= SCRYPT_CONCURRENCY + SCRYPT_QUEUE_LIMIT) throw busy();
  checksInFlight += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    checksInFlight -= 1;
  };
}

const scrypt: typeof scryptRaw = (password, salt, keylen, options) =>
  pool.run(() => scryptRaw(password, salt, keylen, options));

/** `scrypt$N$r$p$<salt b64>$<hash b64>`: parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, PARAMS);
  return [
    "scrypt",
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString("base64"),
    hash.toString("base64"),
  ].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, saltB64, hashB64] = stored.split("$");
  if (alg !== "scrypt" || !n || !r || !p || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, "base64");
  const actual = await scrypt(password, Buffer.from(saltB64, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: PARAMS.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A password that is easy to copy from a terminal and has ~120 bits of entropy. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}
