// The harness's life in a test file: kept apart from fixtures.ts, which the benchmarks
// import and which must not pull in vitest.
import { afterEach } from 'vitest';
import { harness, type Harness } from './fixtures.js';

/**
 * `harness` for the tests of the calling file (or describe block): each harness it opens
 * is closed after the test that opened it.
 */
export function harnessPerTest(): typeof harness {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.done();
  });
  return (...args) => {
    const h = harness(...args);
    open.push(h);
    return h;
  };
}
