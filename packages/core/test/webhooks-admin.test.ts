/**
 * Managing webhooks, the core verbs: who may create, see, change and delete a hook (its owner user,
 * the admins of its owning org, platform admins; nobody else learns it exists), what a hook must be
 * (a URL checked against SSRF at save, known events, a valid scope, a strong enough secret), the
 * secret shown once, the per-owner limit, and the audit row every change writes in its transaction.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, webhooks } from "../src/db/schema/index.ts";
import { createOrg } from "../src/orgs/create-org.ts";
import { addOrgMember } from "../src/orgs/org-members.ts";
import {
  createTestDeps,
  TEST_WEBHOOKS,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { createWebhook } from "../src/webhooks/create-webhook.ts";
import { deleteWebhook } from "../src/webhooks/delete-webhook.ts";
import { WEBHOOK_EVENT_TYPES } from "../src/webhooks/event-types.ts";
import { getWebhook } from "../src/webhooks/get-webhook.ts";
import { hookScopeMatches, parseHookScope } from "../src/webhooks/hook-scope.ts";
import { listWebhooks } from "../src/webhooks/list-webhooks.ts";
import { updateWebhook } from "../src/webhooks/update-webhook.ts";
import { loadManagedWebhook } from "../src/webhooks/webhook-access.ts";
import { MAX_WEBHOOKS_PER_OWNER } from "../src/webhooks/webhook-input.ts";
import { failure } from "./helpers.ts";

/** A public address spelled as an IP literal: no DNS needed, and allowed without ALLOW_PRIVATE. */
const PUBLIC = "https://93.184.216.34/hooks/packr?token=path-secret";

describe("hook scopes", () => {
  it("parses scopes, names and globs, folding case, and refuses the rest", () => {
    expect(parseHookScope(null)).toBeNull();
    expect(parseHookScope("  ")).toBeNull();
    expect(parseHookScope("@Acme")).toBe("@acme");
    expect(parseHookScope("@acme/ui")).toBe("@acme/ui");
    expect(parseHookScope("left-pad")).toBe("left-pad");
    expect(parseHookScope("@acme/ui-**")).toBe("@acme/ui-*");
    expect(parseHookScope("eslint-plugin-*")).toBe("eslint-plugin-*");
    for (const bad of [
      "@",
      "@/x",
      "@acme/",
      "@acme/a/b",
      "@ac*",
      "a b",
      "../x",
      "@acme/ui?",
      "/x",
    ]) {
      const err = (() => {
        try {
          parseHookScope(bad);
        } catch (e) {
          return e as { code: string; message: string };
        }
        return null;
      })();
      expect(err?.code, bad).toBe("VALIDATION");
      expect(err?.message).toMatch(/is not a valid webhook scope/);
    }
    expect(() => parseHookScope("x".repeat(215))).toThrow(/at most 214/);
  });

  it("matches: null everything, @scope its packages and its org's events, names and globs packages only", () => {
    expect(hookScopeMatches(null, null, null)).toBe(true);
    expect(hookScopeMatches(null, "left-pad", null)).toBe(true);
    expect(hookScopeMatches("@acme", "@acme/ui", "acme")).toBe(true);
    expect(hookScopeMatches("@acme", "@ACME/ui", null)).toBe(true);
    expect(hookScopeMatches("@acme", "@acme-evil/ui", null)).toBe(false);
    expect(hookScopeMatches("@acme", null, "acme")).toBe(true);
    expect(hookScopeMatches("@acme", null, "other")).toBe(false);
    expect(hookScopeMatches("@acme", null, null)).toBe(false);
    expect(hookScopeMatches("@acme/ui", "@acme/ui", "acme")).toBe(true);
    expect(hookScopeMatches("@acme/ui", "@acme/uix", "acme")).toBe(false);
    expect(hookScopeMatches("@acme/ui", null, "acme")).toBe(false);
    expect(hookScopeMatches("@acme/ui-*", "@acme/ui-button", null)).toBe(true);
    expect(hookScopeMatches("@acme/ui-*", "@acme/core", null)).toBe(false);
    expect(hookScopeMatches("*", "left-pad", null)).toBe(true);
    expect(hookScopeMatches("*", "@acme/ui", null)).toBe(false);
    expect(hookScopeMatches("a.b", "axb", null)).toBe(false);
  });
});

describe.each(testDrivers())("managing webhooks on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext; // admin of @acme
  let bob: ServiceContext; // maintainer in @acme
  let carol: ServiceContext; // not a member
  let root: ServiceContext; // platform admin
  let aliceCi: ServiceContext;
  let aliceScoped: ServiceContext; // maintainer token restricted to @acme

  const audits = (action: string) =>
    deps.db.select().from(auditEvents).where(eq(auditEvents.action, action));

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    carol = await tokenContext(deps, { user: "carol", role: "maintainer" });
    root = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    aliceCi = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    aliceScoped = await tokenContext(deps, {
      user: "alice",
      role: "maintainer",
      scopes: ["@acme"],
    });
    await createOrg({ ctx: alice, input: { name: "acme" } });
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "maintainer" } });
  });
  afterAll(async () => deps.close());

  it("creates a user hook, answers a generated whsec_ secret once, and audits without it", async () => {
    const r = await createWebhook({
      ctx: alice,
      input: { url: PUBLIC, events: ["package.published", "token.created", "package.published"] },
    });
    expect(r.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(r.secret.slice(6), "base64")).toHaveLength(32);
    expect(r.webhook).toMatchObject({
      url: PUBLIC,
      events: ["package.published", "token.created"],
      scope: null,
      active: true,
      owner: { type: "user", name: "alice" },
      failingSince: null,
      disabledAt: null,
    });
    expect(r.webhook.id).toMatch(/^whk_/);
    expect(JSON.stringify(r.webhook)).not.toContain(r.secret);
    const got = await getWebhook({ ctx: alice, input: { id: r.webhook.id } });
    expect(got).toEqual(r.webhook);
    expect(JSON.stringify(got)).not.toContain("whsec_");
    const [audit] = (await audits("webhook.create")).filter((a) => a.targetId === r.webhook.id);
    expect(audit?.data).toMatchObject({
      urlHost: "93.184.216.34",
      events: ["package.published", "token.created"],
      owner: { type: "user", name: "alice" },
    });
    const text = JSON.stringify(audit);
    expect(text).not.toContain(r.secret);
    expect(text).not.toContain("path-secret");
    await deleteWebhook({ ctx: alice, input: { id: r.webhook.id } });
  });

  it("keeps a caller's secret of 16+ characters and refuses weaker or malformed ones", async () => {
    const mine = "a-long-enough-secret";
    const r = await createWebhook({
      ctx: alice,
      input: { url: PUBLIC, events: ["package.published"], secret: mine },
    });
    expect(r.secret).toBe(mine);
    const [row] = await deps.db.select().from(webhooks).where(eq(webhooks.id, r.webhook.id));
    expect(row?.secret).toBe(mine);
    for (const secret of [
      "short",
      "x".repeat(257),
      "has a space in it!!",
      "whsec_not base64!!!!",
    ]) {
      const err = await failure(
        createWebhook({
          ctx: alice,
          input: { url: PUBLIC, events: ["package.published"], secret },
        }),
      );
      expect(err.code, secret).toBe("VALIDATION");
    }
    await deleteWebhook({ ctx: alice, input: { id: r.webhook.id } });
  });

  it("refuses no events, unknown events and ping", async () => {
    for (const events of [[], ["package.exploded"], ["ping"], ["Package.Published"]]) {
      const err = await failure(createWebhook({ ctx: alice, input: { url: PUBLIC, events } }));
      expect(err.code, JSON.stringify(events)).toBe("VALIDATION");
      expect(err.message).toContain("package.published");
    }
    expect(WEBHOOK_EVENT_TYPES).not.toContain("ping");
  });

  it("checks the URL at save: scheme, length, and private addresses unless allowed", async () => {
    const saved = deps.webhooks;
    deps.webhooks = { ...TEST_WEBHOOKS, allowHttp: false, allowPrivate: false };
    try {
      for (const url of [
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/x",
        "https://2130706433/x",
        "https://0177.0.0.1/x",
        "https://localhost/x",
        "http://93.184.216.34/x",
        "ftp://93.184.216.34/x",
        "https://user:pw@93.184.216.34/x",
        "not a url",
        `https://93.184.216.34/${"x".repeat(2048)}`,
      ]) {
        const err = await failure(
          createWebhook({ ctx: alice, input: { url, events: ["package.published"] } }),
        );
        expect(err.code, url).toBe("VALIDATION");
      }
      expect(await listWebhooks({ ctx: alice })).toEqual([]);
    } finally {
      deps.webhooks = saved;
    }
    // The test default (PACKR_WEBHOOK_ALLOW_PRIVATE, ALLOW_HTTP) lets loopback receivers in,
    // stored as the address it is.
    const r = await createWebhook({
      ctx: alice,
      input: { url: "http://2130706433:9/hook", events: ["package.published"] },
    });
    expect(r.webhook.url).toBe("http://127.0.0.1:9/hook");
    await deleteWebhook({ ctx: alice, input: { id: r.webhook.id } });
  });

  it("lets org admins and platform admins manage org hooks, and hides them from everyone else", async () => {
    const r = await createWebhook({
      ctx: alice,
      input: {
        url: PUBLIC,
        events: ["org.member.added"],
        scope: "@acme",
        orgSlug: "@acme",
      },
    });
    expect(r.webhook.owner).toEqual({ type: "org", slug: "acme" });
    const id = r.webhook.id;
    const [audit] = (await audits("webhook.create")).filter((a) => a.targetId === id);
    expect(audit?.orgId).not.toBeNull();

    expect(await listWebhooks({ ctx: alice, input: { org: "acme" } })).toMatchObject([{ id }]);
    expect(await listWebhooks({ ctx: root, input: { org: "acme" } })).toMatchObject([{ id }]);
    expect(await listWebhooks({ ctx: alice })).toEqual([]);
    expect((await loadManagedWebhook(deps, root, id)).id).toBe(id);

    // A member who is not an admin: 403 naming the role on the org's list, 404 on the hook.
    expect((await failure(listWebhooks({ ctx: bob, input: { org: "acme" } }))).code).toBe(
      "FORBIDDEN",
    );
    expect(
      (
        await failure(
          createWebhook({
            ctx: bob,
            input: { url: PUBLIC, events: ["org.member.added"], orgSlug: "acme" },
          }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    for (const ctx of [bob, carol]) {
      expect((await failure(getWebhook({ ctx, input: { id } }))).code).toBe("NOT_FOUND");
      expect((await failure(updateWebhook({ ctx, input: { id, active: false } }))).code).toBe(
        "NOT_FOUND",
      );
      expect((await failure(deleteWebhook({ ctx, input: { id } }))).code).toBe("NOT_FOUND");
    }
    // A non-member gets the org routes' 404.
    expect((await failure(listWebhooks({ ctx: carol, input: { org: "acme" } }))).code).toBe(
      "NOT_FOUND",
    );
    // The same 404 for an id that does not exist, or is not a hook id at all.
    const missing = await failure(getWebhook({ ctx: alice, input: { id: "whk_nothere" } }));
    const hidden = await failure(getWebhook({ ctx: carol, input: { id } }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(hidden.message.replace(id, "X")).toBe(missing.message.replace("whk_nothere", "X"));
    expect((await failure(getWebhook({ ctx: alice, input: { id: "../../etc" } }))).code).toBe(
      "NOT_FOUND",
    );

    // The platform admin may change it; the audit row goes to the org.
    const updated = await updateWebhook({
      ctx: root,
      input: { id, events: ["org.member.removed"] },
    });
    expect(updated.events).toEqual(["org.member.removed"]);
    await deleteWebhook({ ctx: alice, input: { id } });
    expect((await failure(getWebhook({ ctx: alice, input: { id } }))).code).toBe("NOT_FOUND");
    const [del] = (await audits("webhook.delete")).filter((a) => a.targetId === id);
    expect(del?.orgId).toBe(audit?.orgId);
  });

  it("keeps another user's hook invisible", async () => {
    const r = await createWebhook({
      ctx: carol,
      input: { url: PUBLIC, events: ["token.created"] },
    });
    expect((await failure(getWebhook({ ctx: alice, input: { id: r.webhook.id } }))).code).toBe(
      "NOT_FOUND",
    );
    expect(await listWebhooks({ ctx: alice })).toEqual([]);
    expect(await listWebhooks({ ctx: carol })).toHaveLength(1);
    await deleteWebhook({ ctx: root, input: { id: r.webhook.id } });
  });

  it("refuses CI tokens everything, and keeps scope-restricted tokens inside their scopes", async () => {
    const mine = await createWebhook({
      ctx: alice,
      input: { url: PUBLIC, events: ["package.published"] },
    });
    for (const call of [
      () => createWebhook({ ctx: aliceCi, input: { url: PUBLIC, events: ["package.published"] } }),
      () => listWebhooks({ ctx: aliceCi }),
      () => getWebhook({ ctx: aliceCi, input: { id: mine.webhook.id } }),
      () => deleteWebhook({ ctx: aliceCi, input: { id: mine.webhook.id } }),
    ]) {
      const err = await failure(call());
      expect(err.code).toBe("FORBIDDEN");
      expect(err.message).toMatch(/^A ci-publish token cannot .*managing webhooks needs a person/);
    }
    // Restricted to @acme: no unscoped user hook, and the unscoped one is invisible to it.
    expect(
      (
        await failure(
          createWebhook({
            ctx: aliceScoped,
            input: { url: PUBLIC, events: ["package.published"] },
          }),
        )
      ).code,
    ).toBe("SCOPE_FORBIDDEN");
    const scoped = await createWebhook({
      ctx: aliceScoped,
      input: { url: PUBLIC, events: ["package.published"], scope: "@acme/ui-*" },
    });
    expect((await listWebhooks({ ctx: aliceScoped })).map((h) => h.id)).toEqual([
      scoped.webhook.id,
    ]);
    expect(
      (await failure(getWebhook({ ctx: aliceScoped, input: { id: mine.webhook.id } }))).code,
    ).toBe("NOT_FOUND");
    expect(
      (
        await failure(
          updateWebhook({ ctx: aliceScoped, input: { id: scoped.webhook.id, scope: null } }),
        )
      ).code,
    ).toBe("SCOPE_FORBIDDEN");
    await deleteWebhook({ ctx: alice, input: { id: scoped.webhook.id } });
    await deleteWebhook({ ctx: alice, input: { id: mine.webhook.id } });
  });

  it("updates url, events, scope and active; re-checks the URL; re-enabling clears failures", async () => {
    const { webhook } = await createWebhook({
      ctx: alice,
      input: { url: PUBLIC, events: ["package.published"] },
    });
    const id = webhook.id;
    expect((await failure(updateWebhook({ ctx: alice, input: { id } }))).message).toMatch(
      /Nothing to change/,
    );
    const saved = deps.webhooks;
    deps.webhooks = { ...TEST_WEBHOOKS, allowPrivate: false };
    try {
      const err = await failure(
        updateWebhook({ ctx: alice, input: { id, url: "https://169.254.169.254/" } }),
      );
      expect(err.code).toBe("VALIDATION");
    } finally {
      deps.webhooks = saved;
    }
    expect((await getWebhook({ ctx: alice, input: { id } })).url).toBe(PUBLIC);
    expect(
      (await failure(updateWebhook({ ctx: alice, input: { id, events: ["nope"] } }))).code,
    ).toBe("VALIDATION");
    expect((await failure(updateWebhook({ ctx: alice, input: { id, scope: "@" } }))).code).toBe(
      "VALIDATION",
    );

    const changed = await updateWebhook({
      ctx: alice,
      input: {
        id,
        url: "https://93.184.216.35/other",
        events: ["package.unpublished", "package.published"],
        scope: "@acme",
        active: false,
      },
    });
    expect(changed).toMatchObject({
      url: "https://93.184.216.35/other",
      events: ["package.published", "package.unpublished"],
      scope: "@acme",
      active: false,
    });
    const [audit] = (await audits("webhook.update")).filter((a) => a.targetId === id);
    expect(audit?.data).toMatchObject({
      from: { urlHost: "93.184.216.34", scope: null, active: true },
      to: { urlHost: "93.184.216.35", scope: "@acme", active: false },
    });
    expect(JSON.stringify(audit)).not.toContain("whsec_");

    // As the delivery side disables a failing hook:
    const failedAt = new Date(Date.now() - 4 * 86_400_000);
    await deps.db
      .update(webhooks)
      .set({ active: false, failingSince: failedAt, disabledAt: new Date(), disabledReason: "x" })
      .where(eq(webhooks.id, id));
    const disabled = await getWebhook({ ctx: alice, input: { id } });
    expect(disabled.disabledReason).toBe("x");
    const back = await updateWebhook({ ctx: alice, input: { id, active: true, scope: null } });
    expect(back).toMatchObject({
      active: true,
      scope: null,
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
    });
    await deleteWebhook({ ctx: alice, input: { id } });
    expect(await audits("webhook.delete")).toEqual(
      expect.arrayContaining([expect.objectContaining({ targetId: id })]),
    );
  });

  it(`holds an owner to ${MAX_WEBHOOKS_PER_OWNER} hooks`, async () => {
    const dave = await tokenContext(deps, { user: "dave", role: "maintainer" });
    const ids: string[] = [];
    for (let i = 0; i < MAX_WEBHOOKS_PER_OWNER; i++) {
      ids.push(
        (
          await createWebhook({
            ctx: dave,
            input: { url: `${PUBLIC}&n=${i}`, events: ["package.published"] },
          })
        ).webhook.id,
      );
    }
    const err = await failure(
      createWebhook({ ctx: dave, input: { url: PUBLIC, events: ["package.published"] } }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/already has 50 webhooks.*delete one first/);
    expect(await listWebhooks({ ctx: dave })).toHaveLength(MAX_WEBHOOKS_PER_OWNER);
    // Another owner is not affected.
    const other = await createWebhook({
      ctx: carol,
      input: { url: PUBLIC, events: ["package.published"] },
    });
    await deleteWebhook({ ctx: carol, input: { id: other.webhook.id } });
    await deleteWebhook({ ctx: dave, input: { id: ids[0] ?? "" } });
    await createWebhook({ ctx: dave, input: { url: PUBLIC, events: ["package.published"] } });
  });
});
