import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { agentPackageOf } from "./get-agent-package.ts";
import type { AgentPackage, CompareResponse } from "./types.ts";

export const MAX_COMPARE = 10;

/**
 * `GET /agent/compare?packages=a,b,c`: the agent view of each, side by side, and a pick. The pick
 * prefers packages that are not deprecated, then the higher quality score, then more downloads in
 * the last month; the reason names what decided it. Every package must be readable by the
 * caller (one unreadable name answers as its packument would).
 */
export async function comparePackages(args: {
  ctx: ServiceContext;
  input: { names: string[] };
}): Promise<CompareResponse> {
  const names = [...new Set(args.input.names.map((n) => n.trim()).filter(Boolean))];
  if (names.length < 2 || names.length > MAX_COMPARE) {
    throw new PackrError(
      "VALIDATION",
      `Compare 2 to ${MAX_COMPARE} different packages (packages=a,b,c); got ${names.length}.`,
    );
  }
  const list: AgentPackage[] = [];
  for (const raw of names) list.push(await agentPackageOf(args.ctx, raw));
  return { packages: list, recommended: pick(list) };
}

function pick(list: AgentPackage[]): CompareResponse["recommended"] {
  const score = (p: AgentPackage) => p.quality?.score ?? -1;
  const sorted = [...list].sort(
    (a, b) =>
      Number(a.deprecated !== null) - Number(b.deprecated !== null) ||
      score(b) - score(a) ||
      b.downloads.lastMonth - a.downloads.lastMonth ||
      a.name.localeCompare(b.name),
  );
  const [best, second] = sorted;
  if (!best || !second) throw new PackrError("INTERNAL", "Nothing to compare.");
  let reason: string;
  if (best.deprecated === null && second.deprecated !== null) {
    reason = `${second.name} is deprecated${sorted.length > 2 ? " (and the rest rank lower)" : ""}; ${best.name} is not.`;
  } else if (score(best) !== score(second)) {
    reason =
      score(best) < 0
        ? `${best.name} is the only one analyzed so far.`
        : `highest quality score: ${best.name} ${score(best)} vs ${second.name} ${score(second) < 0 ? "not analyzed yet" : score(second)}.`;
  } else if (best.downloads.lastMonth !== second.downloads.lastMonth) {
    reason = `equal quality (${score(best)}); ${best.name} has more downloads in the last 30 days (${best.downloads.lastMonth} vs ${second.downloads.lastMonth}).`;
  } else {
    reason = `equal on quality and downloads; ${best.name} comes first by name.`;
  }
  return { name: best.name, reason };
}
