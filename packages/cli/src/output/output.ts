import pc from "picocolors";
import type { CliEnv } from "../config/env.ts";
import type { CliError } from "../errors.ts";

type Colors = ReturnType<typeof pc.createColors>;

export type Stream = { write(s: string): unknown; isTTY?: boolean };

/**
 * How a command talks back. Human text goes to stdout, notes and progress to stderr; with `--json`
 * stdout carries exactly one JSON document (the result), and errors are one JSON line on stderr.
 */
export class Output {
  readonly json: boolean;
  /** Colours for stdout and stderr, each on only when that stream is a terminal. */
  readonly c: Colors;
  readonly ce: Colors;

  constructor(
    readonly stdout: Stream,
    readonly stderr: Stream,
    env: CliEnv,
    json: boolean,
  ) {
    this.json = json;
    this.c = pc.createColors(colorOn(stdout, env));
    this.ce = pc.createColors(colorOn(stderr, env));
  }

  /** A command's result: `human` lines unless --json, then `data`. */
  result(data: unknown, human: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const text = human();
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length > 0) this.stdout.write(`${lines.join("\n")}\n`);
  }

  /** A note for a person (instructions, warnings): stdout in human mode, stderr with --json. */
  info(line: string): void {
    (this.json ? this.stderr : this.stdout).write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.ce.yellow("warning")} ${line}\n`);
  }

  error(err: CliError): void {
    if (this.json) {
      this.stderr.write(
        `${JSON.stringify({
          error: err.message,
          code: err.code,
          status: err.status ?? null,
          exitCode: err.exitCode,
        })}\n`,
      );
      return;
    }
    this.stderr.write(`${this.ce.red("error")} ${err.message}\n`);
  }
}

function colorOn(stream: Stream, env: CliEnv): boolean {
  if (env.noColor) return false;
  if (env.forceColor) return true;
  return stream.isTTY === true && !env.dumbTerminal;
}

/** Columns padded to their widest cell; the header row is dimmed. */
export function table(out: Output, header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [out.c.dim(fmt(header)), ...rows.map(fmt)];
}
