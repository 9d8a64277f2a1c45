import { redactPath, scrubSecrets } from "./redact.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export type Logger = {
  debug(fields: Record<string, unknown>): void;
  info(fields: Record<string, unknown>): void;
  warn(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
  /** Whether lines at this level are written: lets a hot path skip building them. */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
};

export type LogFormat = "auto" | "pretty" | "json";

/**
 * `auto` is readable lines for a person at a terminal (`pnpm start`), JSON for everything else:
 * log collectors, pipes, files, and NODE_ENV=production.
 */
export function resolveLogFormat(
  format: LogFormat,
  opts: { isTTY: boolean; production: boolean },
): "pretty" | "json" {
  if (format !== "auto") return format;
  return opts.isTTY && !opts.production ? "pretty" : "json";
}

/** One line per event on stdout (stderr for errors): a JSON object, or a short readable line. */
export function createLogger(level: LogLevel, format: "pretty" | "json" = "json"): Logger {
  const threshold = LEVELS[level];
  const render = format === "pretty" ? prettyLine : jsonLine;
  const emit = (at: Exclude<LogLevel, "silent">) => (fields: Record<string, unknown>) => {
    if (LEVELS[at] < threshold) return;
    const safe =
      typeof fields.path === "string" ? { ...fields, path: redactPath(fields.path) } : fields;
    const line = scrubSecrets(render(at, new Date(), safe));
    if (at === "error") process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    enabled: (at) => LEVELS[at] >= threshold,
  };
}

function jsonLine(level: string, time: Date, fields: Record<string, unknown>): string {
  return JSON.stringify({ level, time: time.toISOString(), ...fields });
}

/**
 * `12:03:04 GET /-/v1/login 201 3.2ms admin npm/10.9.2` for a request, `12:03:04 ERROR job failed
 * topic=…` for an event: the fields a person scans for, request ids left to the JSON format.
 */
export function prettyLine(level: string, time: Date, fields: Record<string, unknown>): string {
  const clock = time.toTimeString().slice(0, 8);
  const tag = level === "info" ? "" : `${level.toUpperCase()} `;
  const { method, path, status, ms, user, agent, msg, requestId: _id, ...rest } = fields;
  if (typeof method === "string" && typeof path === "string") {
    const parts = [clock, `${tag}${method}`, path, String(status ?? ""), `${ms ?? "?"}ms`];
    if (user) parts.push(String(user));
    if (agent) parts.push(String(agent));
    return parts.join(" ");
  }
  const extra = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [clock, `${tag}${msg ?? ""}`.trim(), ...extra].join(" ");
}
