import type { Output } from "./output.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Run `work` and, if it takes longer than a second, say so on stderr: a spinner with the elapsed
 * time on a terminal, plain lines on a log (one at 1 s, then one every 30 s) so CI logs show that
 * the step is alive without filling up.
 */
export async function withProgress<T>(
  out: Output,
  label: string,
  work: (update: (label: string) => void) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const tty = out.stderr.isTTY === true;
  let current = label;
  let shown = false;
  let frame = 0;
  let lastLine = 0;
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const draw = () => {
    if (tty) {
      out.stderr.write(
        `\r\x1b[2K${out.ce.cyan(FRAMES[frame++ % FRAMES.length] ?? "")} ${current} ${out.ce.dim(`${seconds()}s`)}`,
      );
      shown = true;
    } else if (!shown || Date.now() - lastLine >= 30_000) {
      out.stderr.write(`${current}${shown ? ` (${seconds()} s)` : ""}\n`);
      shown = true;
      lastLine = Date.now();
    }
  };
  let ticker: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    ticker = setInterval(draw, tty ? 100 : 1000);
  }, 1000);
  try {
    return await work((next) => {
      current = next;
    });
  } finally {
    clearTimeout(delay);
    if (ticker) clearInterval(ticker);
    if (tty && shown) out.stderr.write("\r\x1b[2K");
  }
}
