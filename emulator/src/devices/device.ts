// What every emulated device provides: a stable name and a snapshot of its state that
// restoreState() turns back into the same behaviour (used for save/restore and reverse steps).
export interface Device {
  readonly name: string;
  /** Plain JSON-serialisable data (typed arrays allowed); no references to other devices. */
  saveState(): unknown;
  restoreState(state: unknown): void;
  reset?(): void;
}
