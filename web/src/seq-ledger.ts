// Remembers which log seqs the page holds, so a replay after a reconnect never shows a line twice.

/**
 * Seqs seen so far, kept as "every seq below `contiguous`" plus the few seen above it out of
 * order: memory stays small for a 100,000-line log that arrives, as it should, in order.
 */
export class SeqLedger {
  private contiguous = 0;
  private readonly above = new Set<number>();
  private highest = -1;
  private total = 0;

  /** Records `seq`; false when it was already held (the caller drops that line). */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    this.total++;
    this.highest = Math.max(this.highest, seq);
    if (seq !== this.contiguous) {
      this.above.add(seq);
      return true;
    }
    this.contiguous++;
    while (this.above.delete(this.contiguous)) this.contiguous++;
    return true;
  }

  has(seq: number): boolean {
    return seq < this.contiguous || this.above.has(seq);
  }

  /** The `since_seq` to subscribe with: one past the last line received (0 before any). */
  nextSince(): number {
    return this.highest + 1;
  }

  /** How many distinct lines have been received. */
  get count(): number {
    return this.total;
  }
}
