// A BlockDevice over a plain file (raw images, and the bytes under every other format).
// Opened read-only: the image explorer and the emulator never write to a user's image.
import { open, type FileHandle } from 'node:fs/promises';
import { type BlockDevice, ImageError } from './blockDevice';

export class FileDevice implements BlockDevice {
  private constructor(private readonly handle: FileHandle, readonly size: number, readonly path: string) {}

  static async open(path: string): Promise<FileDevice> {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new ImageError(`${path} is a directory, not a disk image`);
      return new FileDevice(handle, st.size, path);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new ImageError(`read of ${length} bytes at ${offset} is outside ${this.path} (${this.size} bytes)`);
    }
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new ImageError(`${this.path} shrank while being read`, 'file', offset + done);
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
