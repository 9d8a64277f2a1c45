import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, publishOwnClients, type ServiceContext } from "@packr/core";
import type { Logger } from "./logger.ts";

/** The checkout's packages/: each client's build packs it into its `.pack/` (pnpm pack). */
const CHECKOUT_PACKAGES = fileURLToPath(new URL("../../../packages/", import.meta.url));

/**
 * The packed tarballs of Packr's own clients: `*.tgz` directly in the directory (an image that
 * collected them) and in each `<dir>/<package>/.pack/` (a built checkout). A missing directory is
 * simply none.
 */
export async function findClientTarballs(dir: string): Promise<string[]> {
  const out: string[] = [];
  const tgz = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries)
      if (e.isFile() && e.name.endsWith(".tgz")) out.push(path.join(d, e.name));
    return entries;
  };
  for (const e of await tgz(dir)) if (e.isDirectory()) await tgz(path.join(dir, e.name, ".pack"));
  return out.sort();
}

/**
 * At start: make `packr-cli`, `@packr/agent` (with `@packr/agent-schemas`) and `@packr/mcp-server`
 * of this build installable from this registry (see core's publishOwnClients). Never fails the
 * start: without tarballs (clients not built) or an administrator it logs one line and goes on.
 */
export async function serveOwnClients(
  ctx: ServiceContext,
  config: Pick<Config, "clientsDir">,
  logger: Logger,
): Promise<void> {
  const dir = config.clientsDir ?? CHECKOUT_PACKAGES;
  try {
    const files = await findClientTarballs(dir);
    if (files.length === 0) {
      logger.warn({
        msg: `Packr's own clients (packr-cli, @packr/agent, @packr/mcp-server) are not served: no packed tarballs in ${dir}. Run \`pnpm build\` (or set PACKR_CLIENTS_DIR) to make them installable from this registry.`,
      });
      return;
    }
    const result = await publishOwnClients(ctx, await Promise.all(files.map((f) => readFile(f))));
    if (result.status === "no-owner") {
      logger.warn({
        msg: "Packr's own clients are not served: there is no administrator to own them.",
      });
      return;
    }
    logger.info({
      msg: "serving Packr's own clients",
      published: result.published,
      present: result.present,
      ...(result.ignored.length > 0 ? { ignored: result.ignored } : {}),
    });
  } catch (err) {
    logger.error({
      msg: "Packr's own clients could not be published; the registry runs without them",
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
