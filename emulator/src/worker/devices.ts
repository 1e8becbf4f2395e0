// The Devices view: every device's saved state, flattened into name/value rows (nested records
// become dotted names; numbers in hex; long byte arrays summarised) so the debugger shows the
// PIC masks, PIT channels, UART registers … exactly as the devices themselves record them.
import type { Machine } from '../machine/machine';
import type { DeviceSnapshot } from './protocol';

const MAX_ROWS = 200;
const MAX_INLINE_ARRAY = 16;

function format(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? `0x${v.toString(16)} (${v})` : String(v);
  if (typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v);
}

function flatten(prefix: string, v: unknown, out: { name: string; value: string }[]): void {
  if (out.length >= MAX_ROWS) return;
  if (v instanceof Uint8Array || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
    const arr = Array.from(v as ArrayLike<number>);
    out.push({
      name: prefix,
      value: arr.length <= MAX_INLINE_ARRAY
        ? `[${arr.map((x) => x.toString(16).padStart(2, '0')).join(' ')}]`
        : `${arr.length} values`,
    });
    return;
  }
  if (Array.isArray(v)) { v.forEach((x, i) => flatten(`${prefix}[${i}]`, x, out)); return; }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
    return;
  }
  out.push({ name: prefix, value: format(v) });
}

export function describeDevices(m: Machine): DeviceSnapshot[] {
  return m.platform.devices.map((d) => {
    const fields: { name: string; value: string }[] = [];
    try {
      flatten('', d.saveState(), fields);
    } catch (err) {
      fields.push({ name: 'state', value: `unavailable: ${(err as Error).message}` });
    }
    return { name: d.name, fields };
  });
}
