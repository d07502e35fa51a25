import type { Redis } from 'ioredis';
import {
  type BudgetLimits,
  type BudgetScope,
  RateBudget as SharedRateBudget,
  memoryBudget as sharedMemoryBudget,
} from '../../src/destinations/rate-budget';

/**
 * One call budget per Xero organisation, shared by every process that talks to it
 * (developer.xero.com/documentation/guides/oauth2/limits): 5 concurrent calls, 60 calls per
 * minute, a daily cap, corrected by Xero's X-MinLimit-Remaining / X-DayLimit-Remaining headers.
 * The budget itself is the runtime's (src/destinations/rate-budget.ts); this is Xero's scope of it.
 */
export const XERO_BUDGET: BudgetScope = {
  vendor: 'xero',
  label: 'Xero',
  account: 'organisation',
  windowRemainingHeader: 'x-minlimit-remaining',
  dayRemainingHeader: 'x-daylimit-remaining',
};

export class RateBudget extends SharedRateBudget {
  constructor(orgKey: string, limits: BudgetLimits, redis?: Redis, leaseMs = 120_000) {
    super(XERO_BUDGET, orgKey, limits, redis, leaseMs);
  }
}

export function memoryBudget(orgKey: string, limits: BudgetLimits): SharedRateBudget {
  return sharedMemoryBudget(XERO_BUDGET, orgKey, limits);
}

export {
  type Admission,
  type BudgetLimits,
  numberHeader,
  paddedWindowMs,
  sleep,
  WINDOW_SAFETY,
  WINDOW_SAFETY_MIN_MS,
} from '../../src/destinations/rate-budget';
