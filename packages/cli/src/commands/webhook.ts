import type { Delivery, Webhook } from "@packr/agent";
import { WebhookEventType } from "@packr/agent/schemas";
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { parseOrg } from "../orgs/names.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { day, openAdmin } from "./org-scope.ts";

/** How long `webhook test` waits for the ping's first attempt to be recorded. */
const TEST_WAIT_MS = 15_000;
const POLL_MS = 500;

const EVENTS: readonly string[] = WebhookEventType.options;

/** `--events a,b`: at least one, each an event a hook can subscribe to (checked before any request). */
function parseEvents(value: string | undefined): Array<(typeof WebhookEventType.options)[number]> {
  const events = (value ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (events.length === 0) {
    throw usageError(`--events needs at least one event, comma-separated: ${EVENTS.join(", ")}.`);
  }
  const unknown = events.filter((e) => !EVENTS.includes(e));
  if (unknown.length > 0) {
    throw usageError(
      `--events: ${unknown.map((e) => JSON.stringify(e)).join(", ")} ${unknown.length === 1 ? "is not an event" : "are not events"} a webhook can subscribe to; choose from ${EVENTS.join(", ")}.`,
    );
  }
  return events as Array<(typeof WebhookEventType.options)[number]>;
}

/** A hook id as the registry prints it (`whk_…`). */
function parseHookId(value: string): string {
  if (!/^whk_[a-z0-9]{1,60}$/.test(value)) {
    throw usageError(
      `<id> must be a webhook id such as whk_0m3x…, got "${value}". List yours with: packr-cli webhook ls`,
    );
  }
  return value;
}

function parseDeliveryId(value: string): string {
  if (value.length === 0 || value.length > 100 || !/^[A-Za-z0-9_.:-]+$/.test(value)) {
    throw usageError(
      `<deliveryId> must be a delivery id from packr-cli webhook deliveries, got "${value}".`,
    );
  }
  return value;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw usageError(`--limit must be a whole number from 1 to 100, got "${value}".`);
  }
  return n;
}

const owner = (w: Webhook) => (w.owner.type === "org" ? `@${w.owner.slug}` : w.owner.name);
const state = (w: Webhook) =>
  w.active ? (w.failingSince ? "failing" : "active") : w.disabledAt ? "disabled" : "paused";
const when = (iso: string | null) => (iso ? iso.replace("T", " ").slice(0, 19) : "-");

function deliveryRows(deliveries: Delivery[]): string[][] {
  return deliveries.map((d) => [
    d.id,
    d.deliveryId,
    d.event,
    String(d.attempt),
    d.status,
    d.responseStatus === null ? "-" : String(d.responseStatus),
    d.durationMs === null ? "-" : `${d.durationMs} ms`,
    when(d.attemptedAt ?? d.createdAt),
    when(d.nextAttemptAt),
  ]);
}
const DELIVERY_HEADERS = [
  "ID",
  "DELIVERY",
  "EVENT",
  "ATTEMPT",
  "STATUS",
  "HTTP",
  "TIME",
  "AT",
  "NEXT TRY",
];

/**
 * `packr-cli webhook …`: webhooks through the admin API (`@packr/agent`'s `webhooks` calls).
 * Thin: parse the arguments → SDK calls → print the API's document (`--json`) or a table.
 */
export function registerWebhook(program: Command, ctx: CliContext): void {
  const webhook = program
    .command("webhook")
    .description("Send registry events to your services: manage webhooks and their deliveries")
    .addHelpText(
      "after",
      `
A webhook POSTs a signed JSON body to an https URL for each event it subscribes to, about packages
its owner may read. It belongs to you, or with --org to an org (managed by the org's admins).
Events: ${EVENTS.join(", ")}.
${examples([
  "packr-cli webhook create https://ci.example.com/hooks/packr --events package.published",
  "packr-cli webhook create https://hooks.slack.com/… --events org.member.added --org acme",
  "packr-cli webhook ls",
  "packr-cli webhook test whk_0m3x…",
])}`,
    );

  webhook
    .command("create <url>")
    .description("Create a webhook; its signing secret is printed once")
    .option("--events <events>", "comma-separated events to receive (required)")
    .option("--scope <scope>", "only events about @scope, one package, or a glob (@acme/ui-*)")
    .option("--org <org>", "the org that owns the hook (org admins); default: you")
    .option("--secret <secret>", "your own signing secret (16+ characters); default: generated")
    .addHelpText(
      "after",
      examples([
        "packr-cli webhook create https://ci.example.com/packr --events package.published,package.unpublished",
        "packr-cli webhook create https://ops.example.com/hook --events org.member.added --org acme --json",
      ]),
    )
    .action(
      async (
        url: string,
        opts: { events?: string; scope?: string; org?: string; secret?: string },
        command: Command,
      ) => {
        const events = parseEvents(opts.events);
        const org = opts.org === undefined ? undefined : parseOrg(opts.org, "--org");
        if (opts.secret !== undefined && opts.secret.length < 16) {
          throw usageError(
            "--secret must be at least 16 characters; leave it out to have one generated.",
          );
        }
        const { out, call } = await openAdmin(ctx, command);
        const r = await call((c) =>
          c.webhooks.create({
            url,
            events,
            ...(opts.scope === undefined ? {} : { scope: opts.scope }),
            ...(org === undefined ? {} : { orgSlug: org }),
            ...(opts.secret === undefined ? {} : { secret: opts.secret }),
          }),
        );
        out.result(r, () => [
          `Created webhook ${out.c.bold(r.webhook.id)} for ${owner(r.webhook)}: ${r.webhook.url}`,
          `events  ${r.webhook.events.join(", ")}${r.webhook.scope ? `\nscope   ${r.webhook.scope}` : ""}`,
          `secret  ${r.secret}`,
        ]);
        out.warn(
          "Store the secret now: it is shown only once. Receivers verify X-Packr-Signature and webhook-signature with it.",
        );
      },
    );

  webhook
    .command("list")
    .alias("ls")
    .description("Your webhooks, or an org's with --org")
    .option("--org <org>", "the org's webhooks (org admins)")
    .addHelpText(
      "after",
      examples(["packr-cli webhook ls", "packr-cli webhook ls --org acme --json"]),
    )
    .action(async (opts: { org?: string }, command: Command) => {
      const org = opts.org === undefined ? undefined : parseOrg(opts.org, "--org");
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.webhooks.list(org === undefined ? {} : { org }));
      out.result(r, () =>
        r.webhooks.length === 0
          ? `No webhooks${org ? ` for @${org}` : ""}. Create one with: packr-cli webhook create <url> --events package.published${org ? ` --org ${org}` : ""}`
          : table(
              out,
              ["ID", "URL", "EVENTS", "SCOPE", "STATE", "CREATED"],
              r.webhooks.map((w) => [
                w.id,
                w.url,
                w.events.join(","),
                w.scope ?? "-",
                state(w),
                day(w.createdAt),
              ]),
            ),
      );
    });

  webhook
    .command("remove <id>")
    .alias("rm")
    .description("Delete a webhook and its delivery history")
    .addHelpText("after", examples(["packr-cli webhook rm whk_0m3x…"]))
    .action(async (idArg: string, _opts, command: Command) => {
      const id = parseHookId(idArg);
      const { out, call } = await openAdmin(ctx, command);
      await call((c) => c.webhooks.delete(id));
      out.result({ ok: true, id }, () => `Deleted webhook ${id}.`);
    });

  webhook
    .command("test <id>")
    .description("Send a ping to a webhook and wait up to 15 s for its result")
    .addHelpText(
      "after",
      examples(["packr-cli webhook test whk_0m3x…", "packr-cli webhook test whk_0m3x… --json"]),
    )
    .action(async (idArg: string, _opts, command: Command) => {
      const id = parseHookId(idArg);
      const { out, call } = await openAdmin(ctx, command);
      const { deliveryId } = await call((c) => c.webhooks.test(id));
      const deadline = Date.now() + TEST_WAIT_MS;
      let attempt: Delivery | undefined;
      for (;;) {
        const page = await call((c) => c.webhooks.deliveries(id, { limit: 100 }));
        attempt = page.deliveries.find(
          (d) => d.deliveryId === deliveryId && d.status !== "pending",
        );
        if (attempt || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      if (!attempt) {
        out.result({ deliveryId, status: "pending", delivery: null }, () => [
          `Queued ping ${deliveryId}; still pending after ${TEST_WAIT_MS / 1000} s.`,
          `Check later with: packr-cli webhook deliveries ${id}`,
        ]);
        return;
      }
      const d = attempt;
      out.result({ deliveryId, status: d.status, delivery: d }, () =>
        d.status === "succeeded"
          ? `Ping ${deliveryId} delivered: HTTP ${d.responseStatus} in ${d.durationMs ?? "?"} ms.`
          : `Ping ${deliveryId} failed (attempt ${d.attempt}): ${d.responseStatus === null ? "" : `HTTP ${d.responseStatus} `}${d.error ?? ""}`.trim(),
      );
    });

  webhook
    .command("deliveries <id>")
    .description("A webhook's delivery attempts, newest first")
    .option("--limit <n>", "attempts per page, 1 to 100 (default 30)")
    .option("--all", "every page, following the cursor")
    .addHelpText(
      "after",
      examples([
        "packr-cli webhook deliveries whk_0m3x…",
        "packr-cli webhook deliveries whk_0m3x… --all --json",
      ]),
    )
    .action(async (idArg: string, opts: { limit?: string; all?: boolean }, command: Command) => {
      const id = parseHookId(idArg);
      const limit = parseLimit(opts.limit);
      const { out, call } = await openAdmin(ctx, command);
      const deliveries: Delivery[] = [];
      let cursor: string | undefined;
      let nextCursor: string | null = null;
      do {
        const page = await call((c) =>
          c.webhooks.deliveries(id, {
            ...(limit === undefined ? {} : { limit }),
            ...(cursor === undefined ? {} : { cursor }),
          }),
        );
        deliveries.push(...page.deliveries);
        nextCursor = page.nextCursor;
        cursor = nextCursor ?? undefined;
      } while (opts.all && cursor !== undefined);
      out.result({ deliveries, nextCursor }, () => [
        ...(deliveries.length === 0
          ? [`No deliveries yet. Send one with: packr-cli webhook test ${id}`]
          : table(out, DELIVERY_HEADERS, deliveryRows(deliveries))),
        ...(nextCursor ? ["More: pass --all for every page."] : []),
      ]);
    });

  webhook
    .command("redeliver <id> <deliveryId>")
    .description("Send a delivery again: the same delivery id, a new attempt")
    .addHelpText("after", examples(["packr-cli webhook redeliver whk_0m3x… dlv_0m3y…"]))
    .action(async (idArg: string, deliveryArg: string, _opts, command: Command) => {
      const id = parseHookId(idArg);
      const deliveryId = parseDeliveryId(deliveryArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.webhooks.redeliver(id, deliveryId));
      out.result(r, () => `Queued ${r.deliveryId} again as attempt ${r.attempt}.`);
    });
}
