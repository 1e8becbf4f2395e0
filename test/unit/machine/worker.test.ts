// The worker protocol, driven in-process through WorkerController (the same object the worker
// thread runs) on the rung-1 guest booted by SeaBIOS: entry state, breakpoints with conditions
// and hit counts, data breakpoints, stepping by instruction length (checked against nasm's
// encoding), memory reads/writes, translation, registers, pause latency, save/restore.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WorkerController } from '../../../emulator/src/worker/controller';
import type { CpuSnapshot, Request, ResponseBody, WorkerEvent } from '../../../emulator/src/worker/protocol';
import { bootSectorGuest } from './fixtures';

const SPIN = 0x7d00;
const MARKER = 0x600;
const COUNTER = 0x604;

class Rig {
  readonly events: WorkerEvent[] = [];
  private waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  readonly controller = new WorkerController((e) => {
    this.events.push(e);
    for (const w of [...this.waiters]) if (w.match(e)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(e); }
  });
  req<K extends Request['kind']>(r: Extract<Request, { kind: K }>): Promise<ResponseBody[K]> {
    return this.controller.handle(r) as Promise<ResponseBody[K]>;
  }
  next(match: (e: WorkerEvent) => boolean, what: string, ms = 60_000): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ match, resolve: (e) => { clearTimeout(t); resolve(e); } });
    });
  }
  stopped(): Promise<Extract<WorkerEvent, { event: 'stopped' }>> {
    return this.next((e) => e.event === 'stopped', 'a stopped event') as Promise<Extract<WorkerEvent, { event: 'stopped' }>>;
  }
}

const reg = (cpu: CpuSnapshot, name: string) => cpu.general.find((r) => r.name === name)!.value;
const seg = (cpu: CpuSnapshot, name: string) => cpu.segments.find((s) => s.name === name)!;
const u32 = (d: Uint8Array) => (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;

describe('worker protocol on the rung-1 guest', function () {
  this.timeout(120_000);
  let rig: Rig;
  let image: Uint8Array;

  before(async () => {
    const guest = bootSectorGuest();
    image = readFileSync(guest.bin);
    rig = new Rig();
    const { warnings } = await rig.req({ kind: 'boot', spec: { disks: [guest.raw], memoryMiB: 16, memoryLimitMiB: 64, allowImageWrites: false, stopOnEntry: true } });
    assert.deepEqual(warnings, []);
  });
  after(async () => { await rig?.req({ kind: 'shutdown' }); });

  it('stops on entry at the reset vector F000:FFF0 in real mode', async () => {
    const cpu = await rig.req({ kind: 'getCpu' });
    assert.equal(cpu.mode, 'real');
    assert.equal(reg(cpu, 'eip'), 0xfff0);
    assert.equal(seg(cpu, 'cs').selector, 0xf000);
    assert.equal(seg(cpu, 'cs').base, 0xffff0000);
    assert.deepEqual(cpu.general.map((r) => r.name), ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags']);
    assert.deepEqual(cpu.segments.map((s) => s.name), ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr']);
    // The reset vector holds SeaBIOS's far jump: the same bytes as the end of bios.bin.
    const bios = readFileSync('/usr/share/seabios/bios.bin');
    const { data, readable } = await rig.req({ kind: 'readMemory', address: 0xfffffff0, length: 16, space: 'linear' });
    assert.equal(readable, 16);
    assert.deepEqual(Buffer.from(data), bios.subarray(bios.length - 16));
  });

  it('runs to an instruction breakpoint at 0x7C00 and steps by instruction length', async () => {
    assert.deepEqual(await rig.req({ kind: 'setBreakpoints', breakpoints: [{ id: 1, address: 0x7c00 }] }), { verified: [1] });
    const stop = rig.stopped();
    await rig.req({ kind: 'resume' });
    const e = await stop;
    assert.equal(e.reason, 'breakpoint');
    assert.equal(e.breakpointId, 1);
    assert.equal(e.eip, 0x7c00);
    // The boot sector SeaBIOS loaded is our image, byte for byte.
    const { data } = await rig.req({ kind: 'readMemory', address: 0x7c00, length: 512, space: 'physical' });
    assert.deepEqual(Buffer.from(data), Buffer.from(image));
    // cli (1 byte), xor ax,ax (2), mov ds,ax (2), mov ss,ax (2), mov sp,0x7c00 (3)
    let eip = 0x7c00;
    for (const len of [1, 2, 2, 2, 3]) {
      const stepped = rig.stopped();
      assert.deepEqual(await rig.req({ kind: 'step', count: 1 }), { instructions: 1 });
      assert.equal((await stepped).reason, 'step');
      eip += len;
      assert.equal(reg(await rig.req({ kind: 'getCpu' }), 'eip'), eip);
    }
  });

  it('hits a conditional breakpoint with a hit count and reads what the guest wrote', async () => {
    await rig.req({ kind: 'setBreakpoints', breakpoints: [{ id: 2, address: SPIN, condition: `[${COUNTER}] >= 3`, hitCount: 2 }] });
    const stop = rig.stopped();
    await rig.req({ kind: 'resume' });
    const e = await stop;
    assert.equal(e.reason, 'breakpoint');
    assert.equal(e.breakpointId, 2);
    const marker = await rig.req({ kind: 'readMemory', address: MARKER, length: 8, space: 'linear' });
    assert.equal(u32(marker.data), 0xc0ffee42);
    // Condition true from counter 3 on; the second such hit is at counter 4.
    assert.equal(u32(marker.data.subarray(4)), 4);
    assert.equal(rig.events.some((x) => x.event === 'serialOutput' && Buffer.from(x.data).toString().includes('rung 1')), true);
  });

  it('stops on a data breakpoint at the guest write', async () => {
    await rig.req({ kind: 'setBreakpoints', breakpoints: [] });
    assert.deepEqual(await rig.req({ kind: 'setDataBreakpoints', breakpoints: [{ id: 7, address: COUNTER, size: 4, access: 'write', space: 'linear' }] }), { verified: [7] });
    const before = u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data);
    const stop = rig.stopped();
    await rig.req({ kind: 'resume' });
    const e = await stop;
    assert.equal(e.reason, 'data-breakpoint');
    assert.equal(e.breakpointId, 7);
    const after = u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data);
    assert.equal(after, before + 1);
    await rig.req({ kind: 'setDataBreakpoints', breakpoints: [] });
  });

  it('writes memory and registers the guest then uses', async () => {
    assert.deepEqual(await rig.req({ kind: 'writeMemory', address: COUNTER, data: new Uint8Array([0, 0, 0, 0x40]), space: 'physical' }), { written: 4 });
    assert.deepEqual(await rig.req({ kind: 'setRegister', name: 'eax', value: 0x1234 }), { value: 0x1234 });
    await rig.req({ kind: 'setRegister', name: 'eip', value: SPIN });
    const stepped = rig.stopped();
    await rig.req({ kind: 'step', count: 1 }); // inc dword [0x604]
    await stepped;
    const cpu = await rig.req({ kind: 'getCpu' });
    assert.equal(reg(cpu, 'eax'), 0x1234);
    assert.equal(reg(cpu, 'eip'), SPIN + 5); // 66 FF 06 04 06
    assert.equal(u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data), 0x40000001);
  });

  it('reports partial reads past the end of RAM and identity translation without paging', async () => {
    const top = 16 << 20;
    const r = await rig.req({ kind: 'readMemory', address: top - 8, length: 32, space: 'physical' });
    assert.equal(r.readable, 8);
    assert.deepEqual(await rig.req({ kind: 'translate', linear: 0x7c00 }), { physical: 0x7c00 });
  });

  it('answers pause within 50 ms while the guest runs', async () => {
    await rig.req({ kind: 'resume' });
    await new Promise((r) => setTimeout(r, 200));
    const stop = rig.stopped();
    const t0 = performance.now();
    assert.deepEqual(await rig.req({ kind: 'pause' }), { stopped: true });
    const ms = performance.now() - t0;
    assert.equal((await stop).reason, 'pause');
    assert.ok(ms < 50, `pause took ${ms.toFixed(1)} ms`);
    const stats = await rig.req({ kind: 'getStats' });
    assert.equal(stats.running, false);
    assert.ok(stats.instructions > 1_000_000);
  });

  it('saves and restores the whole machine', async () => {
    const { state } = await rig.req({ kind: 'saveState' });
    const saved = await rig.req({ kind: 'getCpu' });
    const counter = u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data);
    const stepped = rig.stopped();
    await rig.req({ kind: 'step', count: 1000 });
    await stepped;
    assert.notEqual(u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data), counter);
    await rig.req({ kind: 'restoreState', state });
    assert.deepEqual(await rig.req({ kind: 'getCpu' }), saved);
    assert.equal(u32((await rig.req({ kind: 'readMemory', address: COUNTER, length: 4, space: 'linear' })).data), counter);
    await assert.rejects(rig.req({ kind: 'restoreState', state: state.subarray(0, 100) }), /snapshot/);
  });

  it('describes the devices and has no screen without <video>', async () => {
    const devices = await rig.req({ kind: 'getDevices' });
    const names = devices.map((d) => d.name);
    for (const n of ['i8259', 'com1']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    assert.ok(devices.find((d) => d.name === 'i8259')!.fields.length > 4);
    assert.equal(await rig.req({ kind: 'getScreen' }), null);
  });

  it('rejects a bad breakpoint condition with a warning and does not verify it', async () => {
    const r = await rig.req({ kind: 'setBreakpoints', breakpoints: [{ id: 9, address: SPIN, condition: 'eax ==' }, { id: 10, address: SPIN, condition: 'eax == 0x1234' }] });
    assert.deepEqual(r, { verified: [10] });
    assert.ok(rig.events.some((e) => e.event === 'warning' && /eax ==/.test(e.message)));
    await rig.req({ kind: 'setBreakpoints', breakpoints: [] });
  });
});
