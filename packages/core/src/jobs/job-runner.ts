/** A job as a handler sees it: the outbox row's id is its identity everywhere (BullMQ job id too). */
export type Job = {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  /** 1 on the first try. */
  attempt: number;
};

/** Does the work of one topic. Throwing schedules a retry; handlers must be idempotent. */
export type JobHandler = (job: Job) => Promise<void>;
export type JobHandlers = Readonly<Record<string, JobHandler>>;

/**
 * Where the outbox relay hands a claimed job. The in-process runner runs it before returning;
 * the BullMQ sink only enqueues it (a worker runs it later). Resolving means "taken care of":
 * the relay then marks the row processed. Rejecting means "try again later".
 */
export interface JobSink {
  deliver(job: Job): Promise<void>;
}

/** Runs jobs in this process: the embedded default, and what `apps/worker` runs per BullMQ job. */
export class InProcessRunner implements JobSink {
  constructor(private readonly handlers: JobHandlers) {}

  async deliver(job: Job): Promise<void> {
    const handler = this.handlers[job.topic];
    if (!handler) throw new Error(`No handler for job topic "${job.topic}".`);
    await handler(job);
  }
}
