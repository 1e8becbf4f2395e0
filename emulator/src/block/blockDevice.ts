// The block layer's one contract: an immutable-size, random-access, read-only byte source.
// Image formats (qcow2, vmdk, ...) implement it over a file; partitions and LVs implement it
// over another BlockDevice; the emulator's disks and the image explorer both consume it.

export interface BlockDevice {
  /** Size in bytes of the virtual content. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset` into a new buffer. Reading past `size` is an error;
   * never returns short. Implementations must bound their own memory use.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases file handles; further reads fail. */
  close(): Promise<void>;
}

/** A corruption or unsupported-feature error that names the structure and the file offset. */
export class ImageError extends Error {
  constructor(message: string, readonly structure?: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (${structure ?? 'at'} offset ${offset})`);
    this.name = 'ImageError';
  }
}
