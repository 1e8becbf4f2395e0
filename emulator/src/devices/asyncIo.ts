// Disk reads are asynchronous (the block layer reads files), but the guest must see their
// completion at a deterministic point. Devices register each pending operation here; the
// machine loop, at the end of an instruction batch, awaits settle() while `busy`, so a
// completion always lands between the same two instructions on every run.
export class PendingIo {
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Tracks `work`; its completion handler runs inside the promise before settle() returns. */
  track(work: Promise<void>): void {
    const p = work.catch((err) => { this.failure ??= err; }).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for every tracked operation; rethrows the first unexpected failure. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
  }
}
