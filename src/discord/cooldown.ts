/** A per-user cooldown: after an accepted use, the same user must wait `seconds` before the next one. */
export class Cooldown {
  private readonly last = new Map<string, number>();

  constructor(
    readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes a use for `userId`: returns 0 and records the use when allowed, otherwise the milliseconds left
   * (and records nothing).
   */
  take(userId: string): number {
    if (this.seconds <= 0) return 0;
    const now = this.now();
    const windowMs = this.seconds * 1000;
    const prev = this.last.get(userId);
    if (prev !== undefined && now - prev < windowMs) return windowMs - (now - prev);
    this.last.set(userId, now);
    if (this.last.size > 10_000) this.prune(now);
    return 0;
  }

  /** Forgets expired entries (the map stays small on a busy server). */
  prune(now = this.now()): void {
    const windowMs = this.seconds * 1000;
    for (const [user, at] of this.last) if (now - at >= windowMs) this.last.delete(user);
  }
}
