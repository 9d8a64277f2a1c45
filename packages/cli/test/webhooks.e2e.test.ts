/**
 * `packr-cli webhook …`: the built CLI against the registry as a process. Create (the secret printed
 * once, with a warning), ls (yours and an org's), rm, with human output and `--json` documents
 * checked against @packr/agent's schemas; refusals with their sentences and exit codes; and
 * arguments refused before any request. test/deliveries/redeliver run against a second registry
 * that may deliver to a loopback receiver: a real ping, its listing, and its redelivery.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import {
  Delivery,
  DeliveryList,
  Redelivery,
  WebhookCreated,
  WebhookList,
} from "@packr/agent/schemas";
import { npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
const homes: Record<"alice" | "bob" | "ci" | "nobody", string> = {
  alice: "",
  bob: "",
  ci: "",
  nobody: "",
};
const PUBLIC = "https://93.184.216.34/hooks/cli";

beforeAll(async () => {
  box = await CliSandbox.create("webhooks");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-reg-"));
  const tokens = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "alice", role: "ci-readonly", kind: "ci" },
  ])) as [string, string, string];
  registry = await startRegistryProcess({ dataDir });
  for (const [i, who] of (["alice", "bob", "ci"] as const).entries()) {
    homes[who] = await box.home(who);
    await writeFile(path.join(homes[who], ".npmrc"), npmrc(registry.url, tokens[i]));
  }
  homes.nobody = await box.home("nobody");
  await writeFile(path.join(homes.nobody, ".npmrc"), npmrc(registry.url));
  ok(await as("alice", ["org", "create", "acme"]));
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

const as = (who: keyof typeof homes, args: string[]) => cli(args, { home: homes[who] });

describe("packr-cli webhook", () => {
  it("creates a hook, prints the secret once with a warning, lists and removes it", async () => {
    const created = ok(
      await as("alice", [
        "webhook",
        "create",
        PUBLIC,
        "--events",
        "package.published, package.unpublished",
        "--scope",
        "@acme",
      ]),
    );
    expect(created.stdout).toMatch(/Created webhook whk_\w+ for alice: https:\/\/93\.184\.216\.34/);
    expect(created.stdout).toMatch(/secret {2}whsec_/);
    expect(created.stderr).toMatch(/warning.*Store the secret now: it is shown only once/);
    const id = /whk_\w+/.exec(created.stdout)?.[0] ?? "";

    const list = ok(await as("alice", ["webhook", "ls"]));
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain("package.published,package.unpublished");
    expect(list.stdout).not.toContain("whsec_");
    const json = WebhookList.parse(ok(await as("alice", ["webhook", "ls", "--json"])).json());
    expect(json.webhooks.map((w) => [w.id, w.scope, w.active])).toEqual([[id, "@acme", true]]);

    const removed = ok(await as("alice", ["webhook", "rm", id, "--json"]));
    expect(removed.json()).toEqual({ ok: true, id });
    expect(ok(await as("alice", ["webhook", "ls"])).stdout).toMatch(/No webhooks\./);
  });

  it("creates an org's hook with --org and --secret, as JSON", async () => {
    const r = ok(
      await as("alice", [
        "webhook",
        "create",
        PUBLIC,
        "--events",
        "org.member.added",
        "--org",
        "@acme",
        "--secret",
        "a-secret-of-my-own-choosing",
        "--json",
      ]),
    );
    const body = WebhookCreated.parse(r.json());
    expect(body.secret).toBe("a-secret-of-my-own-choosing");
    expect(body.webhook.owner).toEqual({ type: "org", slug: "acme" });
    expect(r.stderr).toMatch(/Store the secret now/);
    const list = WebhookList.parse(
      ok(await as("alice", ["webhook", "ls", "--org", "acme", "--json"])).json(),
    );
    expect(list.webhooks.map((w) => w.id)).toEqual([body.webhook.id]);
    ok(await as("alice", ["webhook", "rm", body.webhook.id]));
  });

  it("shows the registry's refusals with their exit codes", async () => {
    const ssrf = await as("alice", [
      "webhook",
      "create",
      "https://127.0.0.1/x",
      "--events",
      "package.published",
    ]);
    fails(ssrf, 1, "127.0.0.1", "public addresses");
    const { webhook } = WebhookCreated.parse(
      ok(
        await as("alice", ["webhook", "create", PUBLIC, "--events", "token.created", "--json"]),
      ).json(),
    );
    fails(await as("bob", ["webhook", "rm", webhook.id]), 4, "There is no webhook");
    const ci = await as("ci", ["webhook", "ls", "--json"]);
    expect(ci.code).toBe(3);
    expect(jsonError(ci)).toMatchObject({ code: "FORBIDDEN", status: 403 });
    fails(await as("nobody", ["webhook", "ls"]), 3);
    fails(await as("bob", ["webhook", "ls", "--org", "acme"]), 4);
    ok(await as("alice", ["webhook", "rm", webhook.id]));
  });

  it("refuses bad arguments before any request", async () => {
    fails(await as("alice", ["webhook", "create", PUBLIC]), 2, "--events needs at least one event");
    fails(
      await as("alice", ["webhook", "create", PUBLIC, "--events", "package.published,ping"]),
      2,
      '"ping" is not an event',
    );
    fails(
      await as("alice", [
        "webhook",
        "create",
        PUBLIC,
        "--events",
        "token.created",
        "--secret",
        "short",
      ]),
      2,
      "--secret",
    );
    fails(
      await as("alice", ["webhook", "create", PUBLIC, "--events", "token.created", "--org", "a:b"]),
      2,
    );
    fails(await as("alice", ["webhook", "rm", "../../etc"]), 2, "<id> must be a webhook id");
    fails(await as("alice", ["webhook", "deliveries", "whk_abc", "--limit", "0"]), 2, "--limit");
    fails(await as("alice", ["webhook", "redeliver", "whk_abc", "a/b"]), 2, "<deliveryId>");
    const json = await as("alice", ["webhook", "test", "nope", "--json"]);
    expect(jsonError(json)).toMatchObject({ code: "USAGE", exitCode: 2 });
  });
});

describe("packr-cli webhook test|deliveries|redeliver against a registry that delivers to loopback", () => {
  let reg: RegistryProcess;
  const received: Array<{ path: string; delivery: string; event: string }> = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        delivery: String(req.headers["x-packr-delivery"]),
        event: String(req.headers["x-packr-event"]),
      });
      res.writeHead(req.url === "/fail" ? 500 : 200);
      res.end(req.url === "/fail" ? "down for maintenance" : "ok");
    });
  });
  let receiver = "";
  const asCarol = (args: string[]) => cli(args, { home: homes.carol });
  const asDave = (args: string[]) => cli(args, { home: homes.dave });
  const homes = { carol: "", dave: "" };

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-deliveries-"));
    const tokens = (await seedTokens(dataDir, [
      { user: "carol", role: "maintainer", kind: "personal" },
      { user: "dave", role: "maintainer", kind: "personal" },
    ])) as [string, string];
    reg = await startRegistryProcess({
      dataDir,
      env: { PACKR_WEBHOOK_ALLOW_HTTP: "true", PACKR_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    for (const [i, who] of (["carol", "dave"] as const).entries()) {
      homes[who] = await box.home(who);
      await writeFile(path.join(homes[who], ".npmrc"), npmrc(reg.url, tokens[i]));
    }
  });

  afterAll(async () => {
    await stopRegistry(reg);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("test prints the delivered ping, deliveries lists it, redeliver sends it again under its id", async () => {
    const { webhook } = WebhookCreated.parse(
      ok(
        await asCarol([
          "webhook",
          "create",
          `${receiver}/hook`,
          "--events",
          "package.published",
          "--json",
        ]),
      ).json(),
    );
    const id = webhook.id;
    const human = ok(await asCarol(["webhook", "test", id]));
    const pinged = /Ping (msg_\w+) delivered: HTTP 200 in \d+ ms\./.exec(human.stdout);
    expect(pinged, human.stdout).not.toBeNull();
    const first = pinged?.[1] ?? "";
    expect(received).toEqual([{ path: "/hook", delivery: first, event: "ping" }]);

    const asJson = ok(await asCarol(["webhook", "test", id, "--json"])).json() as {
      deliveryId: string;
      status: string;
      delivery: unknown;
    };
    expect(asJson.status).toBe("succeeded");
    expect(Delivery.parse(asJson.delivery)).toMatchObject({
      deliveryId: asJson.deliveryId,
      event: "ping",
      attempt: 1,
      status: "succeeded",
      responseStatus: 200,
    });
    expect(asJson.deliveryId).not.toBe(first);

    const table = ok(await asCarol(["webhook", "deliveries", id])).stdout;
    expect(table).toMatch(/DELIVERY\s+EVENT\s+ATTEMPT\s+STATUS\s+HTTP/);
    expect(table).toMatch(new RegExp(`${first}\\s+ping\\s+1\\s+succeeded\\s+200`));

    const again = Redelivery.parse(
      ok(await asCarol(["webhook", "redeliver", id, first, "--json"])).json(),
    );
    expect(again).toEqual({ deliveryId: first, attempt: 2 });
    expect(ok(await asCarol(["webhook", "redeliver", id, first])).stdout).toContain(
      `Queued ${first} again as attempt 3.`,
    );
    let list = DeliveryList.parse({ deliveries: [], nextCursor: null });
    for (let i = 0; i < 100; i++) {
      list = DeliveryList.parse(
        ok(await asCarol(["webhook", "deliveries", id, "--all", "--json"])).json(),
      );
      if (list.deliveries.filter((d) => d.status === "succeeded").length === 4) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    // Newest first: the two redeliveries, then the two pings.
    expect(list.deliveries.map((d) => [d.deliveryId, d.attempt, d.status])).toEqual([
      [first, 3, "succeeded"],
      [first, 2, "succeeded"],
      [asJson.deliveryId, 1, "succeeded"],
      [first, 1, "succeeded"],
    ]);
    expect(received.map((r) => r.delivery)).toEqual([first, asJson.deliveryId, first, first]);
    expect(list.nextCursor).toBeNull();
    const paged = DeliveryList.parse(
      ok(await asCarol(["webhook", "deliveries", id, "--limit", "1", "--json"])).json(),
    );
    expect(paged.deliveries).toHaveLength(1);
    expect(paged.nextCursor).not.toBeNull();
    ok(await asCarol(["webhook", "rm", id]));
  });

  it("test prints a failed ping with the receiver's status; others and unknown ids are refused", async () => {
    const { webhook } = WebhookCreated.parse(
      ok(
        await asCarol([
          "webhook",
          "create",
          `${receiver}/fail`,
          "--events",
          "package.published",
          "--json",
        ]),
      ).json(),
    );
    const r = ok(await asCarol(["webhook", "test", webhook.id]));
    expect(r.stdout).toMatch(/Ping msg_\w+ failed \(attempt 1\): HTTP 500/);
    const rows = DeliveryList.parse(
      ok(await asCarol(["webhook", "deliveries", webhook.id, "--json"])).json(),
    ).deliveries;
    // Newest first: attempt 2 waits for its retry (1 min by default), attempt 1 failed with a 500.
    expect(rows.map((d) => [d.attempt, d.status, d.responseStatus])).toEqual([
      [2, "pending", null],
      [1, "failed", 500],
    ]);
    const row = rows[1];
    expect(row?.nextAttemptAt).toBe(rows[0]?.nextAttemptAt);
    expect(Date.parse(row?.nextAttemptAt ?? "")).toBeGreaterThan(Date.now());

    fails(await asDave(["webhook", "test", webhook.id]), 4, "There is no webhook");
    fails(await asDave(["webhook", "deliveries", webhook.id]), 4, "There is no webhook");
    fails(
      await asDave(["webhook", "redeliver", webhook.id, row?.deliveryId ?? ""]),
      4,
      "There is no webhook",
    );
    const unknown = await asCarol(["webhook", "redeliver", webhook.id, "msg_unknown", "--json"]);
    expect(jsonError(unknown)).toMatchObject({ status: 404, exitCode: 4 });
    ok(await asCarol(["webhook", "rm", webhook.id]));
  });
});
