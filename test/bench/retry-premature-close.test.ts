// The bench's reads of large custom-resource lists are made again when node-fetch 2 reports
// a false 'Premature close' on a reused keep-alive socket (node-fetch/node-fetch#1767), and
// only then.
import { describe, expect, it } from 'vitest';
import { retryPrematureClose } from '../../bench/resumable-watch.js';

const prematureClose = (): Error => Object.assign(new Error('Invalid response body: Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

describe('retryPrematureClose', () => {
  it('reads again after a premature close and returns the answer', async () => {
    let calls = 0;
    const out = await retryPrematureClose(async () => {
      if (++calls < 3) throw prematureClose();
      return 'list';
    });
    expect([out, calls]).toEqual(['list', 3]);
  });

  it('gives up after the attempts, with the last error', async () => {
    let calls = 0;
    await expect(
      retryPrematureClose(async () => {
        calls++;
        throw prematureClose();
      }, 2),
    ).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(calls).toBe(2);
  });

  it('passes any other failure on at once', async () => {
    let calls = 0;
    await expect(
      retryPrematureClose(async () => {
        calls++;
        throw Object.assign(new Error('forbidden'), { code: 403 });
      }),
    ).rejects.toThrow('forbidden');
    expect(calls).toBe(1);
  });
});
