import { loadConfig } from "@packr/core";
import { createLogger, errorText } from "./logger.ts";
import { startWorker, workerConfigProblem } from "./worker.ts";

/**
 * `pnpm --filter @packr/worker start`: runs the jobs the registry hands to BullMQ (REDIS_URL),
 * against the registry's PostgreSQL database (DATABASE_URL). SIGTERM/SIGINT: stop taking jobs,
 * finish the ones in hand within PACKR_WORKER_SHUTDOWN_GRACE, exit.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const problem = workerConfigProblem(config);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.webhooks.allowPrivate) {
    logger.warn({
      msg: "PACKR_WEBHOOK_ALLOW_PRIVATE=true: webhooks may target loopback, private and link-local addresses (169.254.169.254 included). Use it only for tests or a closed network.",
    });
  }
  const worker = await startWorker(config, logger);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ msg: "closing", signal });
    // Past the grace and a margin for closing connections, leave anyway.
    setTimeout(() => process.exit(1), config.worker.shutdownGraceMs + 10_000).unref();
    worker.close().then(
      () => {
        logger.info({ msg: "closed" });
        process.exit(0);
      },
      (err) => {
        logger.error({ msg: "close failed", error: errorText(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(errorText(err));
  process.exit(1);
});
