/**
 * Retrying a connection setup that failed. Measured here before rtcmesh 67e9c6b: setups failed
 * now and then in DTLS ("certificate verify failed", the other side logging "tlsv1 alert unknown
 * ca"), raw and rtcmesh alike, the more often the more connections started at once and the busier
 * the machine: an offerer whose ICE came up (on the answerer's checks) before its answer was
 * applied met a certificate it had no fingerprint for. rtcmesh's backend now holds the offerer's
 * candidates until the answer, and so does the raw baseline; whatever still fails is retried, and
 * counted in the results, rather than ending the run.
 */

/** Attempts a setup gets before the scenario fails. */
const SETUP_ATTEMPTS = 3;

const retried = new Map<string, number>();

/** The setups that failed and were retried in this run, as `what ×n` (empty when none). */
export function retriedSetups(): string[] {
  return [...retried].map(([what, count]) => `${what} ×${count}`);
}

/** Runs `setup` until it resolves, at most three times; `what` names it in the log. */
export async function withRetries<T>(what: string, setup: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await setup();
    } catch (error) {
      if (attempt >= SETUP_ATTEMPTS) throw error;
      retried.set(what, (retried.get(what) ?? 0) + 1);
      process.stderr.write(`  (${what} failed, retrying: ${error instanceof Error ? error.message : String(error)})\n`);
    }
  }
}
