// The worker's entry point is built in issue 18 (apps/worker: BullMQ processors).
console.error("apps/worker is not built yet: jobs run in the registry process.");
process.exit(1);
