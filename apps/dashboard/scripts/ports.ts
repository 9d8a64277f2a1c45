import net from "node:net";

/** A start refused for a reason the person can fix: printed alone, without a stack. */
export class StartError extends Error {}

/** Bind and release the port: a clear refusal now beats a half-started pair later. */
export function assertPortFree(host: string, port: number, setting: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        new StartError(
          err.code === "EADDRINUSE"
            ? `Port ${port} on ${host} is already in use (another program, or another Packr). Stop it, or set ${setting} to another port.`
            : `Cannot listen on ${host}:${port} (${err.code ?? err.message}); set ${setting} to another port.`,
        ),
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
