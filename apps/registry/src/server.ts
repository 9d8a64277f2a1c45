import { serve } from "@hono/node-server";
import { ensureAdminUser, loadConfig } from "@packr/core";
import { createApp } from "./app.ts";
import { serveOwnClients } from "./own-clients.ts";
import { createRuntime } from "./runtime.ts";

/**
 * `pnpm start`: the registry on the embedded default (PGlite + filesystem under ./data) unless
 * DATABASE_URL / S3_BUCKET say otherwise. Prints how to log in; shuts down cleanly on SIGTERM.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const runtime = await createRuntime(config);
  const startup = {
    deps: runtime.deps,
    actor: { type: "system", reason: "first start" },
    requestId: "startup",
  } as const;
  const admin = await ensureAdminUser(startup, config.adminPassword);
  // Before listening, so `npx --registry <this> packr-cli` works from the first request on.
  await serveOwnClients(startup, config, runtime.logger);
  const app = createApp(runtime);
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    // Loopback and wildcard binds are reached as "localhost", the name the README and npm's
    // login hints use; PACKR_PUBLIC_URL overrides this for anything else.
    const loopback = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(config.host);
    const host = loopback ? "localhost" : config.host;
    runtime.setBoundUrl(`http://${host.includes(":") ? `[${host}]` : host}:${info.port}`);
    const url = runtime.deps.publicUrl();
    const lines = [
      `Packr registry listening on ${url} (${config.databaseUrl ? "PostgreSQL" : `embedded, data in ${config.dataDir}`})`,
    ];
    if (admin) {
      lines.push(
        admin.generated
          ? `Created user "admin" with password: ${admin.password}   (shown once; set PACKR_ADMIN_PASSWORD to choose it)`
          : `Created user "admin" with the password from PACKR_ADMIN_PASSWORD.`,
      );
    }
    lines.push(
      "Log in:",
      `  npm login --registry ${url}/ --auth-type=legacy`,
      `  curl -X POST ${url}/-/v1/login -H 'content-type: application/json' -d '{"name":"admin","password":"…"}'`,
      `Then use it from a project's .npmrc:  registry=${url}/  and  //${new URL(url).host}/:_authToken=<token>`,
    );
    console.log(lines.join("\n"));
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    server.close(() => {
      void runtime.close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
