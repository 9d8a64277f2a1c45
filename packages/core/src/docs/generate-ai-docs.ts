import Anthropic from "@anthropic-ai/sdk";
import type { TypedDocs } from "./extract-dts.ts";

export type DocGenConfig = {
  apiKey: string;
  /** A stand-in of the Messages API (tests), or undefined for Anthropic's own. */
  baseUrl: string | undefined;
  model: string;
  timeoutMs?: number;
};

export type AiDocs = {
  markdown: string;
  model: string;
  inputTokens: number | null;
  outputTokens: number | null;
};

const MAX_README = 30_000;
const MAX_TYPES = 60_000;

const SYSTEM = `You write API documentation for npm packages, for developers and coding agents.
Use only what the type declarations and README show; never invent functions or options.
Answer in Markdown: a one-paragraph summary, "## Install", "## Usage" with a short example,
then "## API" with each export (signature in a ts code block, what it does, parameters, return value).`;

/**
 * Documentation written by Claude from a version's type declarations and README. Called from the
 * `docs.generate` job, never in a request. Explicit key and base URL: the SDK would otherwise read
 * the environment itself, and only the config schema reads the environment here.
 */
export async function generateAiDocs(
  config: DocGenConfig,
  input: {
    name: string;
    version: string;
    readme: string | null;
    typed: TypedDocs;
    dtsText: string;
  },
): Promise<AiDocs> {
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL: config.baseUrl ?? null,
    timeout: config.timeoutMs ?? 120_000,
    maxRetries: 2,
  });
  const exportsList = input.typed.entries.map((e) => `- ${e.kind} ${e.name}`).join("\n");
  const prompt = [
    `Package: ${input.name}@${input.version}`,
    `Exports found in its .d.ts files:\n${exportsList || "(none)"}`,
    `Type declarations:\n\`\`\`ts\n${input.dtsText.slice(0, MAX_TYPES)}\n\`\`\``,
    `README:\n${(input.readme ?? "(none)").slice(0, MAX_README)}`,
  ].join("\n\n");
  const message = await client.messages.create({
    model: config.model,
    max_tokens: 4096,
    system: SYSTEM,
    messages: [{ role: "user", content: prompt }],
  });
  const markdown = message.content
    .map((block) => (block.type === "text" ? block.text : ""))
    .join("")
    .trim();
  if (!markdown) throw new Error("The model answered without text.");
  return {
    markdown,
    model: message.model,
    inputTokens: message.usage?.input_tokens ?? null,
    outputTokens: message.usage?.output_tokens ?? null,
  };
}
