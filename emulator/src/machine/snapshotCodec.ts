// A machine snapshot as bytes (saveState/restoreState over the worker protocol, files later):
// magic, the JSON of everything but RAM (typed arrays tagged and base64-encoded), then the RAM.
import type { MachineSnapshot } from './machine';

const MAGIC = 'VSTSNAP1';

export class SnapshotError extends Error {}

/** Typed arrays device and CPU states use, by constructor name. */
const TYPED = { Uint8Array, Uint16Array, Int32Array, Uint32Array, Float64Array } as const;

function revive(kind: string, data: string): ArrayBufferView {
  const Ctor = TYPED[kind as keyof typeof TYPED];
  if (!Ctor) throw new SnapshotError(`unknown array type ${kind} in snapshot`);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) throw new SnapshotError(`damaged ${kind} in snapshot`);
  const copy = new Uint8Array(bytes); // aligned, owned copy
  return new Ctor(copy.buffer, 0, bytes.length / Ctor.BYTES_PER_ELEMENT);
}

export function encodeSnapshot(s: MachineSnapshot): Uint8Array {
  const { ram, ...rest } = s;
  const json = JSON.stringify(rest, (_k, v) => {
    if (!ArrayBuffer.isView(v) || v instanceof DataView) return v;
    const kind = v.constructor.name;
    if (!(kind in TYPED)) throw new SnapshotError(`cannot store a ${kind} in a snapshot`);
    return { $typed: kind, data: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  });
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
      v && typeof v === 'object' && typeof v.$typed === 'string' ? revive(v.$typed, v.data) : v);
  } catch (err) {
    throw new SnapshotError(`snapshot header is damaged: ${(err as Error).message}`);
  }
  return { ...rest, ram: new Uint8Array(buf.subarray(start + headLen)) };
}
