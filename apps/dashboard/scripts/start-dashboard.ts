import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@packr/core/config";
import { assertPortFree } from "./ports.ts";

/**
 * `pnpm --filter @packr/dashboard start`: the built dashboard alone, on PACKR_DASHBOARD_PORT
 * (default 3000) and HOST, calling the registry at PACKR_REGISTRY_URL (default: localhost on
 * PACKR_PORT). A taken port is refused naming the setting, before Next.js starts.
 */
const dashboardDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await assertPortFree(config.host, config.dashboardPort, "PACKR_DASHBOARD_PORT");
  const child = spawn(
    process.execPath,
    [
      path.join(dashboardDir, "node_modules/next/dist/bin/next"),
      "start",
      "-p",
      String(config.dashboardPort),
      "-H",
      config.host,
    ],
    { cwd: dashboardDir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, stdio: "inherit" },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  // Started by `pnpm start` (an IPC channel to it): when it dies, even by kill -9, stop Next.js too
  // rather than leave it holding the port.
  if (process.send) process.once("disconnect", () => child.kill("SIGTERM"));
  child.once("exit", (code) => process.exit(code ?? 1));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
