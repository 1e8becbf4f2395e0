// A BlockDevice over a plain file (raw images, and the bytes under every other format).
// Opened read-only: the image explorer and the emulator never write to a user's image.
import { open, type FileHandle } from 'node:fs/promises';
import { type BlockDevice, ImageError } from './blockDevice';

export class FileDevice implements BlockDevice {
  private constructor(private readonly handle: FileHandle, readonly size: number, readonly path: string, readonly allocatedBytes: number) {}

  static async open(path: string): Promise<FileDevice> {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new ImageError(`${path} is a directory, not a disk image`);
      return new FileDevice(handle, st.size, path, st.blocks * 512);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The OS file descriptor, for bulk readers on other threads (valid until close). */
  get fd(): number { return this.handle.fd; }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    await this.readInto(buf, 0, length, offset);
    return buf;
  }

  /** Reads `length` bytes at file `offset` into `target` at `targetOffset`, without an extra copy. */
  async readInto(target: Uint8Array, targetOffset: number, length: number, offset: number): Promise<void> {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new ImageError(`read of ${length} bytes at ${offset} is outside ${this.path} (${this.size} bytes)`);
    }
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(target, targetOffset + done, length - done, offset + done);
      if (bytesRead === 0) throw new ImageError(`${this.path} shrank while being read`, 'file', offset + done);
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
