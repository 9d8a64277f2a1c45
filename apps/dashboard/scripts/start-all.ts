import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, loadDashboardConfig, resolveSecrets } from "@packr/core/config";
import { assertPortFree, StartError } from "./ports.ts";

/**
 * `pnpm start` at the repository root: the registry and the dashboard side by side on the
 * embedded default, with no configuration. PACKR_PORT / PACKR_DASHBOARD_PORT / HOST move both
 * (the dashboard is pointed at the registry started here, the registry links to this dashboard).
 * The secrets are resolved (generated into the data dir on first start) before either process
 * starts, so both read the same INTERNAL_API_SECRET and SESSION_SECRET through core's
 * resolveSecrets. The dashboard is built first (turbo, cached) unless `--no-build` is given.
 *
 * Any part failing stops the whole start with a message naming the setting to change: a taken
 * port, or a data dir another Packr holds (the registry's own lock refuses it).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const dashboardDir = path.resolve(here, "..");

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dashboard = loadDashboardConfig(process.env);
  // PACKR_REGISTRY_URL / PACKR_DASHBOARD_URL when given (a proxy in front, other names); else
  // the host and ports started here.
  const { registryUrl, dashboardUrl } = dashboard;

  // Both ports first: nothing starts when either is taken.
  await assertPortFree(config.host, config.port, "PACKR_PORT");
  await assertPortFree(config.host, config.dashboardPort, "PACKR_DASHBOARD_PORT");
  if (!process.argv.includes("--no-build")) {
    console.log("Building the dashboard (cached after the first start)…");
    await buildDashboard();
  }
  await resolveSecrets(config);

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
    PACKR_PORT: String(config.port),
    PACKR_DASHBOARD_PORT: String(config.dashboardPort),
    PACKR_DASHBOARD_URL: dashboardUrl,
    PACKR_REGISTRY_URL: registryUrl,
    NEXT_TELEMETRY_DISABLED: "1",
    // With nothing configured, email sign-in works by printing the link to this terminal.
    ...(noProvider ? { SMTP_URL: "console" } : {}),
  };

  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    setTimeout(() => process.exit(code), 10_000).unref();
    Promise.all(
      children.map(
        (c) =>
          new Promise((r) =>
            c.exitCode === null && c.signalCode === null ? c.once("exit", r) : r(null),
          ),
      ),
    ).then(() => process.exit(code));
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));

  const registry = spawn(process.execPath, ["--import", "tsx", "apps/registry/src/server.ts"], {
    cwd: root,
    env,
    // The IPC channel lets the registry notice when this process dies, however it dies.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  children.push(registry);
  const registryExit = exited(registry);
  const registryUp = await Promise.race([waitFor(`${registryUrl}/-/ping`), registryExit]);
  if (typeof registryUp === "number") {
    // The registry said why (a data dir in use, a port taken) on its stderr.
    throw new StartError(`Packr did not start: the registry exited (${registryUp}).`);
  }
  registryExit.then((code) => {
    if (stopping) return;
    console.error(`The registry exited (${code}); stopping the dashboard too.`);
    stop(code || 1);
  });

  // Through start-dashboard.ts, which stops Next.js when this process dies (its IPC channel closes).
  const dash = spawn(process.execPath, ["--import", "tsx", "scripts/start-dashboard.ts"], {
    cwd: dashboardDir,
    env,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  children.push(dash);
  forwardDashboardOutput(dash);
  const dashExit = exited(dash);
  const dashUp = await Promise.race([waitFor(`${dashboardUrl}/login`), dashExit]);
  if (typeof dashUp === "number") {
    console.error(
      `Packr did not start: the dashboard could not listen on ${config.host}:${config.dashboardPort} (exit ${dashUp}). ` +
        "Free that port, or set PACKR_DASHBOARD_PORT to another one.",
    );
    stop(1);
    return;
  }
  dashExit.then((code) => {
    if (stopping) return;
    console.error(`The dashboard exited (${code}); stopping the registry too.`);
    stop(code || 1);
  });

  console.log(
    [
      "",
      "Packr is running.",
      `  Dashboard  ${dashboardUrl}`,
      `  Registry   ${registryUrl}`,
      `Sign in at ${dashboardUrl}/login as "admin" with the password printed above when Packr first started (kept in ${config.dataDir}/admin-password)` +
        (config.adminEmail ? `, or with a link for ${config.adminEmail}.` : "."),
      noProvider
        ? "Email sign-in: with no SMTP_URL or OAuth provider configured, the sign-in link is printed here, in this terminal."
        : "",
      `From a terminal: npm login --registry ${registryUrl}/`,
      "Stop with Ctrl-C.",
      "",
    ]
      .filter((l, i, all) => l !== "" || i === 0 || i === all.length - 1)
      .join("\n"),
  );
}

/**
 * `turbo run build` for the dashboard and the client packages the registry serves (cached); its
 * output only when it fails.
 */
function buildDashboard(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, "node_modules/turbo/bin/turbo"),
        "run",
        "build",
        "--filter=@packr/dashboard",
        "--filter=./packages/*",
        "--output-logs=errors-only",
      ],
      {
        cwd: root,
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", NEXT_TELEMETRY_DISABLED: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
    });
    child.stderr?.on("data", (d) => {
      out += String(d);
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) return resolve();
      process.stderr.write(out);
      reject(new StartError(`Building the dashboard failed (turbo exited ${code}).`));
    });
  });
}

/** Next's start-up banner is noise beside ours; everything else (sign-in links) goes through. */
function forwardDashboardOutput(child: ChildProcess): void {
  let buffer = "";
  child.stdout?.on("data", (d) => {
    buffer += String(d);
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (
        /^\s*$|^\s*▲ Next\.js|^\s*- (Local|Network):|^\s*✓ (Starting|Ready|Running next\.config)/.test(
          line,
        )
      )
        continue;
      process.stdout.write(`${line}\n`);
    }
  });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

async function waitFor(url: string): Promise<true> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status < 500) return true;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new StartError(`${url} did not answer within 120 s.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
