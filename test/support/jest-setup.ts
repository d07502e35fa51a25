import { afterAll } from '@jest/globals';

/**
 * Runs in every test file, after the test framework is installed.
 *
 * nock intercepts by patching Node's http/https/net modules, which are shared by every test
 * file a Jest worker runs, while nock itself is loaded fresh for each file. A file that used
 * nock therefore leaves its interceptor in place, and the next file's nock sits on top of it
 * (requests then get the earlier file's "no match" 501). So when this file loaded nock (its
 * interceptor library leaves a registry on the file's global object), nock is restored at the
 * end of the file.
 */
afterAll(async () => {
  if ((globalThis as { __MSW_INTERCEPTORS_REGISTRY?: unknown }).__MSW_INTERCEPTORS_REGISTRY === undefined) return;
  const { default: nock } = await import('nock');
  nock.cleanAll();
  nock.restore();
});
