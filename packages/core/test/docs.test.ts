import { createServer, type Server } from "node:http";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPackageDocs } from "../src/agent/get-docs.ts";
import type { ServiceContext } from "../src/context.ts";
import { outbox, packageDocs, packages } from "../src/db/schema/index.ts";
import { createJobHandlers } from "../src/jobs/handlers.ts";
import { InProcessRunner } from "../src/jobs/job-runner.ts";
import { OutboxRelay } from "../src/jobs/outbox-relay.ts";
import { GENERATE_DOCS } from "../src/jobs/topics.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  makeTarball,
  publishBody,
  type TestDeps,
  tokenContext,
} from "../src/testing/index.ts";

/** A local stand-in of the Anthropic Messages API: records requests, answers like the real one. */
function messagesStandIn() {
  const requests: {
    path: string;
    headers: Record<string, unknown>;
    body: Record<string, unknown>;
  }[] = [];
  let failNext = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => {
      raw += c;
    });
    req.on("end", () => {
      requests.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(raw || "{}") });
      if (failNext > 0) {
        failNext--;
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: "invalid_request_error", message: "stand-in refuses" },
          }),
        );
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "msg_standin",
          type: "message",
          role: "assistant",
          model: "claude-standin-1",
          content: [
            { type: "text", text: "# widget-docs\n\n## API\n\n`sign(payload)` signs a payload." },
          ],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 321, output_tokens: 42 },
        }),
      );
    });
  });
  return {
    requests,
    failOnce: () => {
      failNext = 1;
    },
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const address = server.address();
      return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("AI docs in a background job, against a local Messages API", () => {
  let deps: TestDeps;
  let alice: ServiceContext;
  const standIn = messagesStandIn();
  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = await standIn.start();
    deps = await createTestDeps("pglite");
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
  });
  afterAll(async () => {
    await deps.close();
    await standIn.stop();
  });

  it("analysis commits a docs job; the job asks Claude with the .d.ts and README and stores the answer", async () => {
    const manifest = { name: "widget-docs", version: "1.0.0", types: "index.d.ts" };
    const bytes = await makeTarball(manifest, {
      "index.d.ts": "/** Sign it. */\nexport declare function sign(payload: object): string;\n",
      "README.md": "# widget-docs\n\nSigns things.\n",
    });
    await publishPackage({
      ctx: alice,
      input: {
        name: "widget-docs",
        body: publishBody("widget-docs", "1.0.0", { bytes, manifest }),
      },
    });
    const docGen = { apiKey: "sk-test-key", baseUrl, model: "claude-standin-1" };
    const relay = new OutboxRelay(
      deps.db,
      new InProcessRunner(createJobHandlers(deps, { docGen })),
    );
    standIn.failOnce();
    // Round 1: analysis runs and commits docs.generate; the generation fails once and is retried later.
    await relay.drain();
    const [failed] = await deps.db.select().from(outbox).where(eq(outbox.topic, GENERATE_DOCS));
    expect(failed?.lastError).toContain("stand-in refuses");
    const before = await getPackageDocs({ ctx: alice, input: { name: "widget-docs" } });
    expect(before).toMatchObject({ kind: "typed", status: "ready", entries: [{ name: "sign" }] });

    const later = new OutboxRelay(
      deps.db,
      new InProcessRunner(createJobHandlers(deps, { docGen })),
      {
        now: () => new Date(Date.now() + 60_000),
      },
    );
    expect(await later.drain()).toBe(1);
    const request = standIn.requests.at(-1);
    expect(request?.path).toBe("/v1/messages");
    // The key arrives as x-api-key or, in newer SDKs, as a bearer token.
    const sentKey =
      request?.headers["x-api-key"] ??
      String(request?.headers.authorization).replace(/^Bearer /, "");
    expect(sentKey).toBe("sk-test-key");
    expect(request?.body.model).toBe("claude-standin-1");
    const prompt = JSON.stringify(request?.body.messages);
    expect(prompt).toContain("export declare function sign(payload: object): string;");
    expect(prompt).toContain("Signs things.");

    const [pkg] = await deps.db.select().from(packages).where(eq(packages.name, "widget-docs"));
    const [row] = await deps.db
      .select()
      .from(packageDocs)
      .where(and(eq(packageDocs.packageId, pkg?.id ?? ""), eq(packageDocs.kind, "ai")));
    expect(row).toMatchObject({
      model: "claude-standin-1",
      content: { inputTokens: 321, outputTokens: 42 },
    });
    const docs = await getPackageDocs({ ctx: alice, input: { name: "widget-docs" } });
    expect(docs).toMatchObject({
      kind: "ai",
      status: "ready",
      model: "claude-standin-1",
      entries: [{ name: "sign" }],
    });
    expect(docs.markdown).toContain("`sign(payload)` signs a payload.");
  });
});
