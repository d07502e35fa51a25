// @ts-check
import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's Node environment with one addition: a hook (beforeAll/afterAll/beforeEach/afterEach)
 * given no timeout of its own gets HOOK_TIMEOUT_MS instead of the test timeout. Hooks start
 * PGlite, PostgreSQL databases, NestJS apps and worker processes, which on two busy cores take
 * longer than a single test should. Jest has no setting for this (it is a `hookTimeout` in
 * other runners), so it is done here, on the event that registers the hook.
 */
export const HOOK_TIMEOUT_MS = 120_000;

export default class HourbridgeEnvironment extends TestEnvironment {
  /** @param {import('@jest/types').Circus.Event} event @param {import('@jest/types').Circus.State} state */
  handleTestEvent(event, state) {
    if (event.name === 'add_hook' && event.timeout === undefined) {
      const hook = state.currentDescribeBlock.hooks.at(-1);
      if (hook && hook.fn === event.fn && hook.timeout === undefined) hook.timeout = HOOK_TIMEOUT_MS;
    }
  }
}
