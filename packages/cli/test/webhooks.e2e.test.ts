/**
 * `packr-cli webhook …`: the built CLI against the registry as a process. Create (the secret printed
 * once, with a warning), ls (yours and an org's), rm, with human output and `--json` documents
 * checked against @packr/agent's schemas; refusals with their sentences and exit codes; and
 * arguments refused before any request. test/deliveries/redeliver call the delivery routes of the
 * other issue-18 branch: until those are merged the registry answers 404, asserted here as such
 * (the lead re-runs this file after merging them and tightens these three cases).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { WebhookCreated, WebhookList } from "@packr/agent/schemas";
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

  it("test, deliveries and redeliver reach the delivery routes (404 until they are merged)", async () => {
    const { webhook } = WebhookCreated.parse(
      ok(
        await as("alice", ["webhook", "create", PUBLIC, "--events", "token.created", "--json"]),
      ).json(),
    );
    for (const args of [
      ["webhook", "test", webhook.id, "--json"],
      ["webhook", "deliveries", webhook.id, "--all", "--json"],
      ["webhook", "redeliver", webhook.id, "dlv_x", "--json"],
    ]) {
      const r = await as("alice", args);
      // With the delivery branch merged these answer 202/200; today the routes do not exist.
      if (r.code === 0) continue;
      expect(jsonError(r), args.join(" ")).toMatchObject({ status: 404, exitCode: 4 });
    }
    ok(await as("alice", ["webhook", "rm", webhook.id]));
  });
});
