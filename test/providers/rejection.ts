// What every provider suite asks of a failing call: the ProviderError it rejects with.
import { isProviderError, type ProviderError } from '../../src/providers/types.js';

/** The ProviderError a call rejects with; anything else (or no rejection) fails the test. */
export async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    if (isProviderError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
