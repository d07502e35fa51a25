import { z } from 'zod';

/**
 * The queues of the queue runner: one per stage, plus `trigger` (scheduled and manual run
 * requests). A stage never knows which queue called it; these names are only transport.
 */
export const QUEUE_NAMES = ['trigger', 'pull', 'rate', 'assemble', 'push', 'status'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const JOB = {
  trigger: 'trigger-run',
  pull: 'pull-source',
  ratePlan: 'rate-plan',
  rateBatch: 'rate-batch',
  assemblePlan: 'assemble-plan',
  assembleClient: 'assemble-client',
  pushPlan: 'push-plan',
  pushBatch: 'push-batch',
  status: 'status-update',
  statusRefresh: 'status-refresh',
} as const;

// Job data carries ids and small batches only — never a config section, a token or a key
// (invariant 6; test/queue asserts it). Workers read everything else from their own config.
const runRef = {
  runId: z.string().min(1),
  pipelineId: z.string().min(1),
  /** Run start (ISO instant): the `now` every stage of the run sees. */
  startedAt: z.string(),
};

export const TriggerJob = z.strictObject({ pipelineId: z.string().min(1) });
export const PullJob = z.strictObject({ ...runRef, sourceId: z.string().min(1) });
/** rate-plan, assemble-plan and push-plan: plan the batches, wait for them, sum them up. */
export const PlanJob = z.strictObject({
  ...runRef,
  sources: z.array(z.string()).optional(),
  step: z.enum(['plan', 'wait']).default('plan'),
});
export const RateBatchJob = z.strictObject({ ...runRef, ids: z.array(z.number().int().positive()).min(1).max(5000) });
export const AssembleClientJob = z.strictObject({ ...runRef, clientId: z.string().min(1) });
export const PushBatchJob = z.strictObject({
  ...runRef,
  destinationId: z.string().min(1),
  keys: z.array(z.string().min(1)).min(1).max(500),
});
/** A status change reported by a destination (webhook or poll), applied to the ledger. */
export const StatusJob = z.strictObject({
  destinationId: z.string().min(1),
  key: z.string().optional(),
  remoteId: z.string().optional(),
  status: z.enum(['approved', 'paid', 'voided', 'deleted', 'draft']),
  remoteStatus: z.string(),
});

/** A destination said an invoice changed (webhook) without saying how: look it up. */
export const StatusRefreshJob = z.strictObject({ destinationId: z.string().min(1), remoteId: z.string().min(1) });
export type StatusRefreshJob = z.infer<typeof StatusRefreshJob>;

export type TriggerJob = z.infer<typeof TriggerJob>;
export type PullJob = z.infer<typeof PullJob>;
export type PlanJob = z.infer<typeof PlanJob>;
export type RateBatchJob = z.infer<typeof RateBatchJob>;
export type AssembleClientJob = z.infer<typeof AssembleClientJob>;
export type PushBatchJob = z.infer<typeof PushBatchJob>;
export type StatusJob = z.infer<typeof StatusJob>;

/** Deterministic job ids: a retried plan re-adds the same children instead of new ones. BullMQ ids may not contain ':'. */
export const jobIds = {
  root: (runId: string) => `${runId}.push`,
  assemble: (runId: string) => `${runId}.assemble`,
  rate: (runId: string) => `${runId}.rate`,
  pull: (runId: string, sourceId: string) => `${runId}.pull.${sourceId}`,
  rateBatch: (runId: string, i: number) => `${runId}.rate.${i}`,
  assembleClient: (runId: string, clientId: string) => `${runId}.assemble.${clientId}`,
  pushBatch: (runId: string, destinationId: string, i: number) => `${runId}.push.${destinationId}.${i}`,
};
