// A machine snapshot as bytes (saveState/restoreState over the worker protocol, files later):
// magic, the JSON of everything but RAM (typed arrays tagged and base64-encoded), then the RAM.
import type { MachineSnapshot } from './machine';

const MAGIC = 'VSTSNAP1';

export class SnapshotError extends Error {}

export function encodeSnapshot(s: MachineSnapshot): Uint8Array {
  const { ram, ...rest } = s;
  const json = JSON.stringify(rest, (_k, v) => (v instanceof Uint8Array ? { $u8: Buffer.from(v).toString('base64') } : v));
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(MAGIC.length + 8 + head.length + ram.length);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(MAGIC.length, head.length, true);
  dv.setUint32(MAGIC.length + 4, ram.length, true);
  out.set(head, MAGIC.length + 8);
  out.set(ram, MAGIC.length + 8 + head.length);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): MachineSnapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 8 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new SnapshotError('not a Virt Studio machine snapshot');
  const headLen = buf.readUInt32LE(MAGIC.length);
  const ramLen = buf.readUInt32LE(MAGIC.length + 4);
  const start = MAGIC.length + 8;
  if (start + headLen + ramLen !== buf.length) throw new SnapshotError(`snapshot is ${buf.length} bytes, its header says ${start + headLen + ramLen}`);
  let rest: Omit<MachineSnapshot, 'ram'>;
  try {
    rest = JSON.parse(buf.toString('utf8', start, start + headLen), (_k, v) =>
      v && typeof v === 'object' && typeof v.$u8 === 'string' ? new Uint8Array(Buffer.from(v.$u8, 'base64')) : v);
  } catch (err) {
    throw new SnapshotError(`snapshot header is damaged: ${(err as Error).message}`);
  }
  return { ...rest, ram: new Uint8Array(buf.subarray(start + headLen)) };
}
