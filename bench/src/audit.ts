/**
 * The audit log at a million rows, on PostgreSQL (DATABASE_URL): p50/p95 of a filtered page
 * (target ≤ 20 ms), memory during a full NDJSON export (must stay flat), and what chaining in the
 * publish transaction would cost (why the chain is built after commit). A script, not a test:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @packr/bench run audit-log [rows]
 *
 * It creates a scratch database, fills it with SQL (generate_series), and drops it at the end.
 */
import { createHash } from "node:crypto";
import {
  type Deps,
  listAuditEvents,
  openAuditExport,
  openDatabase,
  type ServiceContext,
} from "@packr/core";
import { createScratchDatabase } from "@packr/core/testing";
import { sql } from "drizzle-orm";

const base = process.env.DATABASE_URL;
if (!base) {
  console.error("Set DATABASE_URL to a PostgreSQL server (a scratch database is made on it).");
  process.exit(2);
}
const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 200;

const scratch = await createScratchDatabase(base);
const handle = await openDatabase({ driver: "postgres", url: scratch.url });
const db = handle.db;

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

try {
  console.log(`seeding ${ROWS.toLocaleString()} audit events…`);
  let t0 = process.hrtime.bigint();
  await db.execute(sql`
    insert into users (id, name, email, is_admin)
    select 'usr_b' || i, 'user' || i, null, false from generate_series(1, 5000) i`);
  await db.execute(sql`
    insert into orgs (id, name) select 'org_b' || i, 'org' || i from generate_series(1, 200) i`);
  await db.execute(sql`
    insert into packages (id, name, scope, org_id, access)
    select 'pkg_b' || i, '@org' || (i % 200 + 1) || '/p' || i, 'org' || (i % 200 + 1),
           'org_b' || (i % 200 + 1), 'restricted'
      from generate_series(1, 20000) i`);
  await db.execute(sql`
    insert into org_members (org_id, user_id, role) values ('org_b7', 'usr_b7', 'admin')`);
  await db.execute(sql`
    insert into package_maintainers (package_id, user_id)
    select 'pkg_b' || i, 'usr_b' || (i % 5000 + 1) from generate_series(1, 20000) i`);
  const actions = [
    "package.publish",
    "package.publish",
    "package.publish",
    "package.dist_tag.set",
    "package.deprecate",
    "package.unpublish",
    "token.created",
    "token.revoked",
    "auth.sign_in",
    "auth.sign_out",
    "org.member.added",
    "session.created",
  ];
  await db.execute(sql`
    insert into audit_events
      (id, org_id, actor_type, actor_id, actor_name, action, target_type, target_id, data,
       request_id, ip, created_at, chain_seq, prev_hash, hash)
    select 'evt_b' || lpad(i::text, 8, '0'),
           case when i % 4 = 0 then null else 'org_b' || (i % 200 + 1) end,
           'token', 'usr_b' || (i % 5000 + 1), 'user' || (i % 5000 + 1),
           (${sql.raw(`array[${actions.map((a) => `'${a}'`).join(",")}]`)})[i % 12 + 1],
           'package', 'pkg_b' || (i % 20000 + 1),
           json_build_object('name', 'p' || i, 'version', '1.0.' || i, 'tokenName', 'ci'),
           'req' || i, '10.0.' || (i % 250) || '.' || (i % 200),
           now() - ((${ROWS} - i) * interval '31 milliseconds'),
           i, md5((i - 1)::text), md5(i::text)
      from generate_series(1, ${ROWS}) i`);
  await db.execute(sql`analyze`);
  console.log(`  seeded in ${(ms(t0) / 1000).toFixed(1)} s`);

  const deps = { db, now: () => new Date() } as unknown as Deps;
  const admin: ServiceContext = {
    deps,
    requestId: "bench",
    actor: {
      type: "token",
      tokenId: "tok_b",
      tokenKind: "personal",
      userId: "usr_b1",
      userName: "user1",
      userEmail: null,
      isAdmin: true,
      role: "admin",
      permissions: ["read", "publish", "unpublish", "admin"],
      scopes: [],
      orgId: null,
    },
  };
  const orgAdmin: ServiceContext = {
    ...admin,
    actor: {
      ...(admin.actor as Extract<ServiceContext["actor"], { type: "token" }>),
      userId: "usr_b7",
      userName: "user7",
      isAdmin: false,
      role: "maintainer",
      permissions: ["read", "publish", "unpublish"],
    },
  };
  const mid = new Date(Date.now() - (ROWS / 2) * 31).toISOString();
  const cases: Array<[string, ServiceContext, Record<string, string>]> = [
    ["no filter (platform admin)", admin, {}],
    ["actor=user42", admin, { actor: "user42" }],
    ["action=package. (prefix)", admin, { action: "package." }],
    ["action=package.deprecate", admin, { action: "package.deprecate" }],
    ["org=org18", admin, { org: "org18" }],
    ["package=@org2/p1", admin, { package: "@org2/p1" }],
    ["until=<middle> (old half)", admin, { until: mid }],
    ["org=org18 & action=token.", admin, { org: "org18", action: "token." }],
    ["own view (org admin, maintainer)", orgAdmin, {}],
  ];
  console.log(
    `\np50 / p95 of one page of 100 (first page, then the page after its cursor), ${RUNS} runs each:`,
  );
  for (const [label, ctx, filters] of cases) {
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t0 = process.hrtime.bigint();
      const page = await listAuditEvents(deps, ctx, { ...filters, limit: 100 });
      first.push(ms(t0));
      if (page.nextCursor) {
        t0 = process.hrtime.bigint();
        await listAuditEvents(deps, ctx, { ...filters, limit: 100, cursor: page.nextCursor });
        second.push(ms(t0));
      }
    }
    console.log(
      `  ${label.padEnd(36)} ${pct(first, 50).toFixed(2).padStart(7)} / ${pct(first, 95).toFixed(2).padStart(7)} ms   next page ${second.length ? `${pct(second, 50).toFixed(2)} / ${pct(second, 95).toFixed(2)} ms` : "-"}`,
    );
  }

  console.log("\nexport of every event (chunks of 1000), serialised as NDJSON into a null sink:");
  global.gc?.();
  const before = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  let count = 0;
  let bytes = 0;
  t0 = process.hrtime.bigint();
  const heapAt: number[] = [];
  for await (const chunk of await openAuditExport(admin, {}, { chunk: 1000 })) {
    let text = "";
    for (const e of chunk) text += `${JSON.stringify(e)}\n`;
    bytes += Buffer.byteLength(text);
    count += chunk.length;
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
    if (count % 100_000 === 0) heapAt.push(m.heapUsed);
  }
  const secs = ms(t0) / 1000;
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  console.log(
    `  ${count.toLocaleString()} events, ${mb(bytes)} of NDJSON in ${secs.toFixed(1)} s (${Math.round(count / secs).toLocaleString()}/s)`,
  );
  console.log(
    `  heap before ${mb(before.heapUsed)}, peak ${mb(peakHeap)}; rss before ${mb(before.rss)}, peak ${mb(peakRss)}`,
  );
  console.log(`  heap every 100k events: ${heapAt.map(mb).join(", ")}`);

  console.log("\nthe chain in the publish transaction (one writer, no contention), 500 runs each:");
  const plain: number[] = [];
  const chained: number[] = [];
  for (let i = 0; i < 500; i++) {
    t0 = process.hrtime.bigint();
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into audit_events (id, org_id, actor_type, action, data, created_at)
        values (${`evt_p${i}`}, 'org_b3', 'token', 'package.publish', '{"name":"x"}', now())`);
    });
    plain.push(ms(t0));
    t0 = process.hrtime.bigint();
    await db.transaction(async (tx) => {
      // What a synchronous chain needs: the org's head under a lock, the hash, the row with it.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('org_b3'))`);
      const head = await tx.execute(sql`select chain_seq, hash from audit_events
        where coalesce(org_id, '') = 'org_b3' and chain_seq is not null order by coalesce(org_id, ''), chain_seq desc limit 1`);
      const prev = (head as unknown as Array<{ hash: string; chain_seq: number }>)[0];
      const hash = createHash("sha256")
        .update(`${prev?.hash ?? ""}\n{"name":"x"}`)
        .digest("hex");
      await tx.execute(sql`insert into audit_events (id, org_id, actor_type, action, data, created_at, chain_seq, prev_hash, hash)
        values (${`evt_s${i}`}, 'org_b3', 'token', 'package.publish', '{"name":"x"}', now(), ${ROWS + 1_000_000 + i}, ${prev?.hash ?? null}, ${hash})`);
    });
    chained.push(ms(t0));
  }
  console.log(
    `  audit row alone          p50 ${pct(plain, 50).toFixed(3)} ms, p95 ${pct(plain, 95).toFixed(3)} ms`,
  );
  console.log(
    `  audit row + chain head   p50 ${pct(chained, 50).toFixed(3)} ms, p95 ${pct(chained, 95).toFixed(3)} ms`,
  );
  console.log(
    `  added by chaining in the transaction: p50 ${(pct(chained, 50) - pct(plain, 50)).toFixed(3)} ms (and every publish of the org waits for the lock until the one before commits)`,
  );
} finally {
  await handle.close();
  await scratch.drop();
}
