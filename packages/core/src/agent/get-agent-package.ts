import type { ServiceContext } from "../context.ts";
import { loadAgentPackage } from "./load-package.ts";
import { readablePackage } from "./read-access.ts";
import type { AgentPackage } from "./types.ts";

/**
 * `GET /agent/:pkg`: the latest version as an agent needs it — description, quality score and
 * its breakdown, downloads, capabilities, dependencies, trust signals, deprecation, last publish.
 */
export async function getAgentPackage(args: {
  ctx: ServiceContext;
  input: { name: string };
}): Promise<AgentPackage> {
  const { name, meta } = await readablePackage(args.ctx, args.input.name);
  return loadAgentPackage(args.ctx, name.name, meta);
}
