import type { Logger } from 'pino';
import { JOB, TriggerJob } from './jobs';
import type { QueueRunner } from './queue.runner';

const SCHEDULER_PREFIX = 'pipeline.';

/**
 * BullMQ job schedulers from the pipelines' cron + time zone: each tick adds a `trigger-run`
 * job, which starts a run unless one is in flight. Upserting is idempotent, so every `serve`
 * process may call this at start-up; schedulers of pipelines no longer configured are removed.
 */
export async function syncSchedules(runner: QueueRunner, log: Logger): Promise<string[]> {
  const queue = runner.queues.trigger;
  const wanted = new Map(
    runner
      .pipelines()
      .filter((p) => p.schedule)
      .map((p) => [`${SCHEDULER_PREFIX}${p.id}`, p]),
  );
  for (const [id, p] of wanted) {
    await queue.upsertJobScheduler(
      id,
      { pattern: p.schedule!.cron, tz: p.schedule!.timeZone },
      { name: JOB.trigger, data: TriggerJob.parse({ pipelineId: p.id }) },
    );
    log.info({ pipelineId: p.id, cron: p.schedule!.cron, timeZone: p.schedule!.timeZone }, 'pipeline scheduled');
  }
  for (const s of await queue.getJobSchedulers()) {
    if (s.key.startsWith(SCHEDULER_PREFIX) && !wanted.has(s.key)) {
      await queue.removeJobScheduler(s.key);
      log.info({ scheduler: s.key }, 'schedule removed');
    }
  }
  return [...wanted.keys()];
}
