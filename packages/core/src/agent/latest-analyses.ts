import { and, eq, isNull } from "drizzle-orm";
import { distTags, versionAnalyses, versions } from "../db/schema/index.ts";

/**
 * Join conditions that narrow `version_analyses` to each package's `latest` version, and only
 * while that version is live: what registry-wide agent queries (capability search,
 * co-usage recommendations) read, one row per package.
 */
export const isLatestTagOfAnalysis = and(
  eq(distTags.packageId, versionAnalyses.packageId),
  eq(distTags.tag, "latest"),
  eq(distTags.version, versionAnalyses.version),
);

export const isLiveVersionOfAnalysis = and(
  eq(versions.packageId, versionAnalyses.packageId),
  eq(versions.version, versionAnalyses.version),
  isNull(versions.unpublishedAt),
);
