// Disassembly for the DAP `disassemble` request, on iced-x86. x86 cannot be decoded backwards,
// so for negative instruction offsets we decode forward from earlier start points and keep the
// one whose instruction stream lands exactly on the anchor address.
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from 'iced-x86';

export interface DecodedInstruction {
  address: number;
  bytes: Uint8Array;
  text: string;
  /** True when the bytes do not decode (or could not be read). */
  invalid: boolean;
}

export type ReadFn = (address: number, length: number) => Promise<Uint8Array>;

const MAX_INSTRUCTION = 15;

export class Disassembler {
  private readonly formatter = new Formatter(FormatterSyntax.Intel);

  constructor() {
    this.formatter.digitSeparator = '';
    this.formatter.hexPrefix = '0x';
    this.formatter.hexSuffix = '';
    this.formatter.uppercaseHex = false;
  }

  /** Decodes up to `count` instructions starting at `address` from `bytes` (which start at `address`). */
  decode(bytes: Uint8Array, address: number, bitness: 16 | 32, count: number): DecodedInstruction[] {
    const out: DecodedInstruction[] = [];
    const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
    const instr = new Instruction();
    try {
      decoder.ip = BigInt(address >>> 0);
      while (out.length < count && decoder.canDecode) {
        const pos = decoder.position;
        decoder.decodeOut(instr);
        const len = instr.length;
        const invalid = instr.isInvalid;
        if (invalid && bytes.length - pos < MAX_INSTRUCTION && pos + len >= bytes.length) break; // ran off the buffer
        out.push({
          address: (address + pos) >>> 0,
          bytes: bytes.slice(pos, pos + (invalid ? 1 : len)),
          text: invalid ? `(bad) ${bytes[pos].toString(16).padStart(2, '0')}` : this.formatter.format(instr),
          invalid,
        });
        if (invalid) decoder.position = pos + 1;
      }
    } finally {
      instr.free();
      decoder.free();
    }
    return out;
  }

  /**
   * Exactly `count` instructions, the first being `offset` instructions away from `anchor`
   * (negative: before it). Unreadable or undecodable places become invalid entries.
   */
  async window(read: ReadFn, anchor: number, offset: number, count: number, bitness: 16 | 32): Promise<DecodedInstruction[]> {
    const before: DecodedInstruction[] = [];
    if (offset < 0) before.push(...await this.before(read, anchor, -offset, bitness));
    const forwardCount = Math.max(0, offset + count);
    const after = forwardCount > 0 ? await this.forward(read, anchor, forwardCount, bitness) : [];
    const all = [...before, ...after];
    const start = offset < 0 ? before.length + offset : offset;
    let result = all.slice(Math.max(0, start), Math.max(0, start) + count);
    // Pad where memory ran out so the answer always has exactly `count` entries.
    while (result.length < count) {
      const last = result.length ? result[result.length - 1] : undefined;
      const address = last ? (last.address + last.bytes.length) >>> 0 : anchor;
      result = [...result, { address, bytes: new Uint8Array(0), text: '??', invalid: true }];
    }
    return result;
  }

  private async forward(read: ReadFn, address: number, count: number, bitness: 16 | 32): Promise<DecodedInstruction[]> {
    const out: DecodedInstruction[] = [];
    let at = address >>> 0;
    while (out.length < count) {
      const bytes = await read(at, Math.min(4096, (count - out.length) * MAX_INSTRUCTION));
      if (bytes.length === 0) break;
      const got = this.decode(bytes, at, bitness, count - out.length);
      if (got.length === 0) break;
      out.push(...got);
      const last = got[got.length - 1];
      at = (last.address + last.bytes.length) >>> 0;
    }
    return out;
  }

  /** The `count` instructions that end exactly at `anchor`. */
  private async before(read: ReadFn, anchor: number, count: number, bitness: 16 | 32): Promise<DecodedInstruction[]> {
    const span = count * MAX_INSTRUCTION;
    const start = Math.max(0, anchor - span);
    const bytes = await read(start, anchor - start);
    // Try start points from farthest to nearest; the first that lands on the anchor wins, since a
    // longer run-in lets the decoder resynchronise with the real instruction stream.
    for (let s = 0; s < Math.min(bytes.length, MAX_INSTRUCTION * 2); s++) {
      const decoded = this.decode(bytes.subarray(s), start + s, bitness, Number.MAX_SAFE_INTEGER);
      const last = decoded[decoded.length - 1];
      if (last && last.address + last.bytes.length === anchor && decoded.length >= count && !last.invalid) {
        return decoded.slice(decoded.length - count);
      }
    }
    const fill: DecodedInstruction[] = [];
    for (let k = count; k > 0; k--) fill.push({ address: (anchor - k) >>> 0, bytes: new Uint8Array(0), text: '??', invalid: true });
    return fill;
  }
}
