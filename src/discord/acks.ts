/**
 * Acknowledgements first. Discord forgets an interaction that is not acknowledged within 3 s, and answering a
 * question is CPU work on the same thread (chained in microtasks, so it does not yield to I/O by itself). Under
 * a burst, queued answers would starve the deferrals of interactions that arrived after them. This tracks which
 * interactions still await their acknowledgement (from receipt to the callback's response), and lets heavy work
 * wait until there are none, for a bounded time so that a stuck acknowledgement never stalls answering.
 */
export class AckTracker {
  private readonly pending = new Set<string>();
  private waiters: (() => void)[] = [];

  /** An interaction arrived: its acknowledgement is pending. */
  received(id: string): void {
    this.pending.add(id);
  }

  /** Its callback got a response (or its handler ended without one). */
  settled(id: string): void {
    if (!this.pending.delete(id) || this.pending.size) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Resolves once no acknowledgement is pending (at most `maxWaitMs` later). Always yields to I/O first, so
   * interactions that already arrived are seen.
   */
  async quiet(maxWaitMs = 2000): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (!this.pending.size) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      timer = setTimeout(resolve, maxWaitMs);
    });
    clearTimeout(timer);
  }
}

/** The interaction id of an interaction-callback REST path (`/interactions/{id}/{token}/callback`). */
export function callbackInteractionId(path: string): string | undefined {
  return /^\/interactions\/(\d+)\/[^/]+\/callback/.exec(path)?.[1];
}
