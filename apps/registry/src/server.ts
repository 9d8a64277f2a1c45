import { serve } from "@hono/node-server";
import {
  describeSignupPolicy,
  ensureAdminUser,
  loadConfig,
  writeAdminPasswordFile,
} from "@packr/core";
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
  const admin = await ensureAdminUser(startup, config.adminPassword, config.adminEmail);
  // A generated password goes to a 0600 file, not to a log: stdout is often collected and read
  // by others. A person at a terminal (`pnpm start`) still sees it on screen.
  const passwordFile =
    admin?.generated === true ? await writeAdminPasswordFile(config.dataDir, admin.password) : "";
  if (config.trustProxyDeprecated) {
    console.warn(
      "PACKR_TRUST_PROXY is deprecated: it now trusts X-Forwarded-For from loopback proxies only. Set PACKR_TRUSTED_PROXIES to your proxies' addresses or CIDR blocks.",
    );
  }
  if (config.webhooks.allowPrivate) {
    console.warn(
      "PACKR_WEBHOOK_ALLOW_PRIVATE=true: webhooks may target loopback, private and link-local addresses (169.254.169.254 included). Use it only for tests or a closed network.",
    );
  }
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
    // Who may get an account, on every start: an operator sees at once what a stranger can do.
    lines.push(describeSignupPolicy(config.signup, config.adminEmail));
    if (admin) {
      lines.push(
        !admin.generated
          ? `Created user "admin" with the password from PACKR_ADMIN_PASSWORD.`
          : process.stdout.isTTY
            ? `Created user "admin" with password: ${admin.password}   (also in ${passwordFile}; set PACKR_ADMIN_PASSWORD to choose it)`
            : `Created user "admin"; its password is in ${passwordFile} (readable by you only; set PACKR_ADMIN_PASSWORD to choose it)`,
        `  Dashboard: sign in at ${config.dashboardUrl}/login with username "admin" and this password${
          config.adminEmail ? `, or with ${config.adminEmail} (PACKR_ADMIN_EMAIL)` : ""
        }.`,
      );
    }
    lines.push(
      "Log in:",
      `  npm login --registry ${url}/ --auth-type=legacy`,
      `  curl -X POST ${url}/-/v1/login -H 'content-type: application/json' -d '{"name":"admin","password":"…"}'`,
      `Then: project .npmrc  registry=${url}/   and ~/.npmrc  //${new URL(url).host}/:_authToken=<token>`,
      "  (the token goes in your user .npmrc: pnpm ignores env-var credentials in a project's .npmrc)",
    );
    console.log(lines.join("\n"));
  });

  server.once("error", (err: NodeJS.ErrnoException) => {
    const where = `${config.host}:${config.port}`;
    console.error(
      err.code === "EADDRINUSE"
        ? `Port ${config.port} is in use on ${config.host}: another program (or another Packr) listens there. Stop it, or set PACKR_PORT to another port.`
        : err.code === "EACCES"
          ? `Packr may not listen on ${where} (${err.code}). Set PACKR_PORT to a port above 1023, or HOST to another address.`
          : `Packr cannot listen on ${where}: ${err.message}`,
    );
    void runtime.close().finally(() => process.exit(1));
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
  // Started by `pnpm start` (an IPC channel to it): when it dies, even by kill -9, stop too rather
  // than live on holding the data dir and the port.
  if (process.send) process.once("disconnect", () => shutdown("pnpm start exited"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
