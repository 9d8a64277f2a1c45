import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, loadDashboardConfig, resolveSecrets } from "@packr/core/config";

/**
 * `pnpm start` at the repository root: the registry and the dashboard side by side on the
 * embedded default, with no configuration. The secrets are resolved (generated into the data dir
 * on first start) before either process starts, so both read the same INTERNAL_API_SECRET and
 * SESSION_SECRET through core's resolveSecrets. The dashboard must already be built
 * (`turbo run build`, which the root script runs first and caches).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const dashboardDir = path.resolve(here, "..");
const DASHBOARD_PORT = 3000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await resolveSecrets(config);
  const dashboard = loadDashboardConfig(process.env);
  const host = ["127.0.0.1", "0.0.0.0", "::", "::1"].includes(config.host)
    ? "localhost"
    : config.host;
  const registryUrl = dashboard.registryUrl;
  const dashboardUrl = dashboard.dashboardUrl;
  const noProvider =
    !dashboard.github &&
    !dashboard.google &&
    !dashboard.gitlab &&
    !dashboard.oidc &&
    !dashboard.forgeAuth &&
    !dashboard.email;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // One data dir for both, whatever each process's working directory is.
    PACKR_DATA_DIR: config.dataDir,
    PACKR_DASHBOARD_URL: dashboardUrl,
    PACKR_REGISTRY_URL: registryUrl,
    NEXT_TELEMETRY_DISABLED: "1",
    // With nothing configured, email sign-in works by printing the link to this log.
    ...(noProvider ? { SMTP_URL: "console" } : {}),
  };

  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    setTimeout(() => process.exit(code), 10_000).unref();
    Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode === null ? c.once("exit", r) : r(null)))),
    ).then(() => process.exit(code));
  };
  const run = (name: string, cmd: string, args: string[], cwd: string) => {
    const child = spawn(cmd, args, { cwd, env, stdio: "inherit" });
    child.once("exit", (code) => {
      if (!stopping) {
        console.error(`${name} exited (${code ?? "signal"}); stopping`);
        stop(code ?? 1);
      }
    });
    children.push(child);
    return child;
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));

  run("registry", process.execPath, ["--import", "tsx", "apps/registry/src/server.ts"], root);
  await waitFor(`${registryUrl}/health`);
  const nextBin = path.join(dashboardDir, "node_modules/next/dist/bin/next");
  run(
    "dashboard",
    process.execPath,
    [nextBin, "start", "-p", String(DASHBOARD_PORT), "-H", config.host],
    dashboardDir,
  );
  await waitFor(`${dashboardUrl}/login`);
  console.log(
    [
      "",
      `Packr dashboard on ${dashboardUrl} (registry on ${registryUrl}).`,
      noProvider
        ? `Sign in: open ${dashboardUrl}/login and enter your email address; with no SMTP_URL or OAuth provider configured, the sign-in link is printed here.`
        : `Sign in: open ${dashboardUrl}/login.`,
      `Terminal login through the browser: npm login --registry ${registryUrl}/`,
      `(${host} is where both listen; set PACKR_DASHBOARD_URL / PACKR_REGISTRY_URL for other names.)`,
    ].join("\n"),
  );
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
