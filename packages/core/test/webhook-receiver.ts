import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq, isNull } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import type { Deps } from "../src/context.ts";
import { outbox, webhooks } from "../src/db/schema/index.ts";
import { newId } from "../src/ids.ts";
import { createJobHandlers } from "../src/jobs/handlers.ts";
import { InProcessRunner } from "../src/jobs/job-runner.ts";
import { OutboxRelay } from "../src/jobs/outbox-relay.ts";
import { ANALYZE_VERSION, DELIVER_EVENT, GENERATE_DOCS } from "../src/jobs/topics.ts";
import { committedEventOf, fanOutEvent } from "../src/webhooks/fan-out.ts";

/** What a receiver got: the raw body and headers of one POST. */
export type Received = {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: event bodies are free-form JSON, read deep in assertions
  json: Record<string, any>;
};

type Reply = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * A real HTTP receiver on 127.0.0.1. Each request takes the next scripted reply (then the
 * default, 200 "ok"), and every request is kept.
 */
export async function startReceiver(replies: Reply[] = []) {
  const received: Received[] = [];
  const queue = [...replies];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json = {};
      try {
        json = JSON.parse(body);
      } catch {}
      received.push({ path: req.url ?? "", headers: req.headers, body, json });
      open.add(res);
      res.on("close", () => open.delete(res));
      const reply = queue.shift() ?? ((_q, r) => r.end("ok"));
      reply(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Script the next replies. */
    reply(...more: Reply[]) {
      queue.push(...more);
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export const status =
  (code: number, body = "", headers: Record<string, string> = {}): Reply =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end(body);
  };

/** Never answers (the timeout test). */
export const silence: Reply = () => {};

/** Verify both signatures of a received request with the secret a receiver would hold. */
export function verifyBoth(r: Received, secret: string): void {
  const expected = `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`;
  if (r.headers["x-packr-signature"] !== expected) {
    throw new Error(`X-Packr-Signature mismatch: ${r.headers["x-packr-signature"]}`);
  }
  const key = secret.startsWith("whsec_")
    ? secret
    : `whsec_${Buffer.from(secret, "utf8").toString("base64")}`;
  new Webhook(key).verify(r.body, {
    "webhook-id": String(r.headers["webhook-id"]),
    "webhook-timestamp": String(r.headers["webhook-timestamp"]),
    "webhook-signature": String(r.headers["webhook-signature"]),
  });
}

/** A hook row written directly (the CRUD verbs are another branch's). */
export async function insertHook(
  deps: Deps,
  spec: {
    url: string;
    events: string[];
    userId?: string;
    orgId?: string;
    scope?: string | null;
    secret?: string;
    active?: boolean;
  },
) {
  const [row] = await deps.db
    .insert(webhooks)
    .values({
      id: newId("whk"),
      url: spec.url,
      events: spec.events,
      userId: spec.userId ?? null,
      orgId: spec.orgId ?? null,
      scope: spec.scope ?? null,
      secret: spec.secret ?? `whsec_${Buffer.from(newId("whk")).toString("base64")}`,
      active: spec.active ?? true,
    })
    .returning();
  if (!row) throw new Error("hook insert failed");
  return row;
}

export const setHookActive = (deps: Deps, id: string, active: boolean) =>
  deps.db.update(webhooks).set({ active }).where(eq(webhooks.id, id));

/**
 * A relay running the event and delivery jobs (analysis and docs are left alone) whose clock is
 * an hour ahead, so retries scheduled milliseconds ahead are due at once: `drain()` runs a whole
 * retry sequence. `deps` may differ from the suite's (other webhook settings).
 */
export function deliveryRelay(deps: Deps): OutboxRelay {
  const handlers = createJobHandlers(deps, { docGen: undefined });
  const noop = async () => {};
  return new OutboxRelay(
    deps.db,
    new InProcessRunner({ ...handlers, [ANALYZE_VERSION]: noop, [GENERATE_DOCS]: noop }),
    { now: () => new Date(Date.now() + 3_600_000) },
  );
}

/**
 * Run the fan-out of every event not yet relayed, leaving the jobs in the outbox (the relay runs
 * them again later, which must add nothing): deliveries are queued, none sent yet.
 */
export async function fanOutPending(deps: Deps): Promise<void> {
  const jobs = await deps.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.topic, DELIVER_EVENT), isNull(outbox.processedAt)))
    .orderBy(outbox.id);
  for (const job of jobs) {
    const event = committedEventOf(job.payload);
    if (event) await fanOutEvent(deps, event);
  }
}
