import semver from "semver";
import type { VersionSignals } from "./signals.ts";

export type ScoreFactor = {
  factor: "base" | "types" | "tests" | "ci" | "readme" | "maturity" | "freshness";
  points: number;
  max: number;
  reason: string;
};

export type QualityScore = { score: number; breakdown: ScoreFactor[] };

const DAY_MS = 86_400_000;
/** Freshness is full for this long after the last publish… */
const FRESH_DAYS = 90;
/** …then falls linearly to nothing at this age. */
const STALE_DAYS = 730;

/**
 * The quality score, 0–100, from exactly the reference factors: base 15, TypeScript types 20,
 * tests 15, CI config 10, README length 10, version maturity 10 (≥1.0.0) or 5 (0.x with several
 * releases), freshness 15 decaying with time since the last publish. Those add up to 95 at most:
 * no factor is invented to fill the gap. Freshness depends on the clock, so the score is computed
 * when read, from signals stored at analysis.
 */
export function qualityScore(
  signals: VersionSignals,
  input: { version: string; lastPublishAt: Date; now: Date },
): QualityScore {
  const breakdown: ScoreFactor[] = [
    { factor: "base", points: 15, max: 15, reason: "every published package" },
    {
      factor: "types",
      points: signals.hasTypes ? 20 : 0,
      max: 20,
      reason: signals.hasTypes
        ? `ships TypeScript types (${signals.typesSource})`
        : "no TypeScript types",
    },
    {
      factor: "tests",
      points: signals.hasTests ? 15 : 0,
      max: 15,
      reason: signals.hasTests
        ? `has tests (${signals.testsSource})`
        : "no test files or test script",
    },
    {
      factor: "ci",
      points: signals.hasCI ? 10 : 0,
      max: 10,
      reason: signals.hasCI
        ? `CI config: ${signals.ciFiles.slice(0, 3).join(", ")}`
        : "no CI config in the package",
    },
    readmeFactor(signals.readmeLength),
    maturityFactor(input.version, signals.releaseCount),
    freshnessFactor(input.lastPublishAt, input.now),
  ];
  const score = Math.max(
    0,
    Math.min(
      100,
      breakdown.reduce((n, f) => n + f.points, 0),
    ),
  );
  return { score, breakdown };
}

/** 10 for a README of 1,000+ characters, 5 for 300+, else nothing. */
function readmeFactor(length: number): ScoreFactor {
  const points = length >= 1000 ? 10 : length >= 300 ? 5 : 0;
  return {
    factor: "readme",
    points,
    max: 10,
    reason: length === 0 ? "no README" : `README of ${length} characters`,
  };
}

function maturityFactor(version: string, releases: number): ScoreFactor {
  const parsed = semver.parse(version);
  if (parsed && parsed.major >= 1) {
    return {
      factor: "maturity",
      points: 10,
      max: 10,
      reason: `version ${version} is 1.0.0 or later`,
    };
  }
  if (releases >= 3) {
    return { factor: "maturity", points: 5, max: 10, reason: `0.x with ${releases} releases` };
  }
  return {
    factor: "maturity",
    points: 0,
    max: 10,
    reason: `0.x with ${releases} release${releases === 1 ? "" : "s"}`,
  };
}

function freshnessFactor(lastPublishAt: Date, now: Date): ScoreFactor {
  const days = Math.max(0, (now.getTime() - lastPublishAt.getTime()) / DAY_MS);
  const share =
    days <= FRESH_DAYS ? 1 : Math.max(0, 1 - (days - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS));
  return {
    factor: "freshness",
    points: Math.round(15 * share),
    max: 15,
    reason: `last published ${Math.floor(days)} day${Math.floor(days) === 1 ? "" : "s"} ago`,
  };
}
