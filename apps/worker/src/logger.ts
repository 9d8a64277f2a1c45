const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export type Logger = {
  debug(fields: Record<string, unknown>): void;
  info(fields: Record<string, unknown>): void;
  warn(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
};

/**
 * One JSON object per line, as the registry's JSON format writes them (`level`, `time`, then the
 * fields): stdout, errors on stderr. The worker has no person at a terminal to format for.
 */
export function createLogger(level: LogLevel): Logger {
  const threshold = LEVELS[level];
  const emit = (at: Exclude<LogLevel, "silent">) => (fields: Record<string, unknown>) => {
    if (LEVELS[at] < threshold) return;
    const line = JSON.stringify({ level: at, time: new Date().toISOString(), ...fields });
    if (at === "error") process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const errorText = (err: unknown): string =>
  err instanceof Error ? err.message : String(err);
