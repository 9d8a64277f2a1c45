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
 * What a sink did with a job, when it did not run it: `handed-off` — queued for another process
 * (apps/worker), which settles the row itself, so the relay leaves the claim and its lease as
 * they are; `still-queued` — the previous claim's job is still waiting in the queue, so this
 * claim's attempt is taken back and the waiting job (fenced by that attempt) runs instead.
 */
export type SinkOutcome = "handed-off" | "still-queued";

/**
 * Where the outbox relay hands a claimed job. The in-process runner runs it before returning:
 * resolving (undefined) means "done", and the relay marks the row processed; rejecting means
 * "try again later" (backoff). The BullMQ sink only enqueues it and resolves with a
 * `SinkOutcome`. A `SinkUnavailableError` means the sink could not be reached: the claim is
 * given back uncounted and the relay pauses for a few seconds.
 */
export interface JobSink {
  // biome-ignore lint/suspicious/noConfusingVoidType: a sink that runs the job is any async function.
  deliver(job: Job): Promise<SinkOutcome | undefined | void>;
}

/** The sink (Redis) cannot take jobs now: nothing was queued, and no attempt should count. */
export class SinkUnavailableError extends Error {
  override readonly name = "SinkUnavailableError";
}

/** Runs jobs in this process: the embedded default, and what `apps/worker` runs per BullMQ job. */
export class InProcessRunner implements JobSink {
  constructor(private readonly handlers: JobHandlers) {}

  async deliver(job: Job): Promise<undefined> {
    const handler = this.handlers[job.topic];
    if (!handler) throw new Error(`No handler for job topic "${job.topic}".`);
    await handler(job);
    return undefined;
  }
}
