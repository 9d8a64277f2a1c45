import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { DASHBOARD_DIR } from "./stack.ts";

/**
 * The suites run `next start` on the production build. `pnpm test` builds it first (turbo's
 * `build` task, cached); a bare `vitest run` builds it here when there is none yet.
 */
export default function setup(): void {
  if (existsSync(path.join(DASHBOARD_DIR, ".next", "BUILD_ID"))) return;
  const r = spawnSync(process.execPath, ["node_modules/next/dist/bin/next", "build"], {
    cwd: DASHBOARD_DIR,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error("next build failed");
}
