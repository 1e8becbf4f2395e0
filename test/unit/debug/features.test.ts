// The adapter's capabilities one by one, over DAP (DebugClient → node dist/debugAdapter.js) on the
// rung-1 guest (SeaBIOS + our nasm boot sector, spin loop `inc dword [0x604]; jmp` at 0x7d00):
// breakpoint conditions and hit counts, function breakpoints by System.map symbol, step over a
// call and step out of it, setVariable on EAX and on a flag observed by guest code, evaluate
// forms, a data breakpoint hit on a guest write, exact disassemble counts, memory/invalidated
// events, and exception stops (#UD, triple fault). Guest code for a test is written with
// writeMemory and reached by setting EIP; the encodings are 16-bit (real mode, CS = 0).
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { REPO } from '../../support/cli';
import { bootSectorGuest } from '../machine/fixtures';

const ADAPTER = join(REPO, 'dist/debugAdapter.js');
const SPIN = 0x7d00;
const COUNTER = 0x604;
/** caller at 0x7e00: `call callee; jmp $`; callee at 0x7e10: `push bp; mov bp, sp; nop; pop bp; ret`. */
const CALLER = 0x7e00;
const CALL_CODE = [0xe8, 0x0d, 0x00, 0xeb, 0xfe];
const CALLEE = 0x7e10;
const CALLEE_CODE = [0x55, 0x89, 0xe5, 0x90, 0x5d, 0xc3];
/** at 0x7e20: `mov [0x608], eax; setc [0x60c]; jmp $`. */
const STORE = 0x7e20;
const STORE_CODE = [0x66, 0xa3, 0x08, 0x06, 0x0f, 0x92, 0x06, 0x0c, 0x06, 0xeb, 0xfe];

describe('debug adapter capabilities on the rung-1 guest (DebugClient)', function () {
  this.timeout(120_000);
  let dc: DebugClient;
  let disk: string;
  let dir: string;
  const events: DebugProtocol.Event[] = [];

  before(() => {
    disk = bootSectorGuest().raw;
    dir = mkdtempSync(join(tmpdir(), 'virt-debug-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    dc = new DebugClient('node', ADAPTER, 'virt');
    dc.defaultTimeout = 60_000;
    events.length = 0;
    for (const name of ['memory', 'invalidated', 'virtStats']) dc.on(name, (e: DebugProtocol.Event) => events.push(e));
    await dc.start();
  });
  afterEach(async () => { await dc.stop(); });

  /** Boots stopped on entry (as VS Code does: initialize with its capabilities, launch, configurationDone). */
  const launch = async (extra: Record<string, unknown> = {}) => {
    await dc.initializeRequest({ adapterID: 'virt', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsMemoryEvent: true, supportsInvalidatedEvent: true });
    const stopped = dc.waitForEvent('stopped');
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ disks: [disk], memoryMiB: 16, stopOnEntry: true, ...extra } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    assert.equal((await stopped).body.reason, 'entry');
  };
  const run = async (request: () => Promise<unknown>) => {
    const [, stopped] = await Promise.all([request(), dc.waitForEvent('stopped')]);
    return stopped as DebugProtocol.StoppedEvent;
  };
  const cont = () => run(() => dc.continueRequest({ threadId: 1 }));
  const pc = async () => Number((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].instructionPointerReference);
  const instructionBreakpoints = (bps: DebugProtocol.InstructionBreakpoint[]) =>
    dc.customRequest('setInstructionBreakpoints', { breakpoints: bps }) as Promise<DebugProtocol.SetInstructionBreakpointsResponse>;
  const read = async (address: number, count: number) => {
    const r = await dc.customRequest('readMemory', { memoryReference: `0x${address.toString(16)}`, count }) as DebugProtocol.ReadMemoryResponse;
    return Buffer.from(r.body!.data!, 'base64');
  };
  const write = (address: number, bytes: number[]) =>
    dc.customRequest('writeMemory', { memoryReference: `0x${address.toString(16)}`, data: Buffer.from(bytes).toString('base64') });
  const general = async () => {
    const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
    const { body: { scopes } } = await dc.scopesRequest({ frameId: stackFrames[0].id });
    const ref = scopes.find((s) => s.name === 'General')!.variablesReference;
    const { body: { variables } } = await dc.variablesRequest({ variablesReference: ref });
    return { ref, vars: new Map(variables.map((v) => [v.name, v])) };
  };
  const setReg = async (name: string, value: number) => {
    const { ref } = await general();
    await dc.setVariableRequest({ variablesReference: ref, name, value: `0x${value.toString(16)}` });
  };
  const toSpin = async () => {
    await instructionBreakpoints([{ instructionReference: `0x${SPIN.toString(16)}` }]);
    assert.equal((await cont()).body.reason, 'instruction breakpoint');
    await instructionBreakpoints([]);
  };

  it('launches an example domain whose images live elsewhere, with the disk given as an override', async () => {
    // examples/bootsector.xml names /var/lib/libvirt/images/virt-studio/bootsector.raw (made by
    // examples/make-guests.sh, maybe not on this machine): the launch's disk replaces it.
    const domain = join(dir, 'bootsector.xml');
    copyFileSync(join(REPO, 'examples/bootsector.xml'), domain);
    await launch({ domain, disks: [disk] });
    await toSpin();
    assert.equal((await read(0x600, 4)).readUInt32LE(0), 0xc0ffee42, 'the override disk booted');
    // The status bar hears of resumes and stops.
    const stats = events.filter((e) => e.event === 'virtStats').map((e) => e.body.running as boolean);
    assert.deepEqual(stats.slice(-2), [true, false]);
  });

  it('honours hit counts and conditions on instruction breakpoints, and function breakpoints by symbol', async () => {
    const map = join(dir, 'System.map');
    writeFileSync(map, `00007c00 T start\n00007d00 T spin\n00007e00 t caller\n00007e10 T callee\n`);
    await launch({ symbols: [map] });
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'spin' }, { name: 'no_such_function' }] });
    assert.equal(fb.body.breakpoints[0].verified, true);
    assert.equal(fb.body.breakpoints[0].instructionReference, '0x00007d00');
    assert.equal(fb.body.breakpoints[1].verified, false);
    assert.match(fb.body.breakpoints[1].message ?? '', /no symbol 'no_such_function'/);
    const hit = await cont();
    assert.equal(hit.body.reason, 'function breakpoint');
    assert.deepEqual(hit.body.hitBreakpointIds, [fb.body.breakpoints[0].id]);
    const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(stackFrames[0].name, 'spin');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });

    // Hit count: the third arrival at the loop head stops, three increments later.
    const c0 = (await read(COUNTER, 4)).readUInt32LE(0);
    await instructionBreakpoints([{ instructionReference: '0x7d00', hitCondition: '3' }]);
    assert.equal((await cont()).body.reason, 'instruction breakpoint');
    assert.equal((await read(COUNTER, 4)).readUInt32LE(0), c0 + 3);

    // Condition over guest memory, evaluated in the worker.
    const target = c0 + 100;
    await instructionBreakpoints([{ instructionReference: '0x7d00', condition: `dword [0x604] == ${target}` }]);
    assert.equal((await cont()).body.reason, 'instruction breakpoint');
    assert.equal((await read(COUNTER, 4)).readUInt32LE(0), target);
    // A condition that does not parse is refused with the reason, not silently ignored.
    const bad = await instructionBreakpoints([{ instructionReference: '0x7d00', condition: 'eax ==' }]);
    assert.equal(bad.body.breakpoints[0].verified, false);
    assert.match(bad.body.breakpoints[0].message ?? '', /condition/);
    await instructionBreakpoints([]);

    // Evaluate: registers, memory in both syntaxes, symbols.
    const ev = async (expression: string) => (await dc.evaluateRequest({ expression, context: 'repl' })).body.result;
    assert.match(await ev('spin'), /^0x00007d00\b/);
    assert.match(await ev('*(u32*)0x600'), /^0xc0ffee42\b/);
    assert.match(await ev('[0x600]'), /^0xc0ffee42\b/);
    assert.match(await ev('[esp+4]'), /^0x[0-9a-f]{8}\b/);
    assert.match(await ev('callee+2'), /^0x00007e12 .*<callee\+0x2>/);
    await setReg('eax', 0x1234);
    assert.match(await ev('eax + 1'), /^0x00001235\b/);
  });

  it('steps over a call, steps out of it, and the guest sees registers and flags set from the Variables', async () => {
    await launch();
    await toSpin();
    await write(CALLER, CALL_CODE);
    await write(CALLEE, CALLEE_CODE);
    await write(STORE, STORE_CODE);

    // next over `call` stops after it, with the call done (stack balanced).
    await setReg('eip', CALLER);
    const sp0 = Number.parseInt((await general()).vars.get('esp')!.value, 16);
    assert.equal((await run(() => dc.nextRequest({ threadId: 1, granularity: 'instruction' }))).body.reason, 'step');
    assert.equal(await pc(), CALLER + 3);
    assert.equal(Number.parseInt((await general()).vars.get('esp')!.value, 16), sp0);

    // stepOut from the callee's entry, from right after `push bp`, and from inside the frame.
    for (const steps of [1, 2, 3, 4]) {
      await setReg('eip', CALLER);
      for (let i = 0; i < steps; i++) await run(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
      assert.equal(await pc(), [CALLEE, CALLEE + 1, CALLEE + 3, CALLEE + 4][steps - 1]);
      const out = await run(() => dc.stepOutRequest({ threadId: 1, granularity: 'instruction' }));
      assert.equal(out.body.reason, 'step', `stepOut after ${steps} steps`);
      assert.equal(await pc(), CALLER + 3, `stepOut after ${steps} steps returns to the caller`);
    }

    // EAX and CF set in the Variables view; the guest stores them.
    await setReg('eip', STORE);
    await setReg('eax', 0xfeedf00d);
    const { vars } = await general();
    const eflags = vars.get('eflags')!;
    assert.ok(eflags.variablesReference > 0, 'EFLAGS expands into its bits');
    for (const value of ['1', '0']) {
      await dc.setVariableRequest({ variablesReference: eflags.variablesReference, name: 'CF', value });
      const bits = (await dc.variablesRequest({ variablesReference: eflags.variablesReference })).body.variables;
      assert.equal(bits.find((b) => b.name === 'CF')!.value, value);
    }
    await dc.setVariableRequest({ variablesReference: eflags.variablesReference, name: 'CF', value: '1' });
    assert.match((await general()).vars.get('eflags')!.value, /\bCF\b/);
    await run(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    await run(() => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    const stored = await read(0x608, 5);
    assert.equal(stored.readUInt32LE(0), 0xfeedf00d);
    assert.equal(stored[4], 1, 'setc stored CF = 1');
  });

  it('stops on a data breakpoint at the guest write, disassembles exact counts, sends memory events, stops on #UD and a triple fault', async () => {
    await launch();
    await toSpin();
    // Data breakpoint on the counter: the stop comes right after `inc dword [0x604]` (5 bytes).
    const info = await dc.dataBreakpointInfoRequest({ name: '0x604', asAddress: true, bytes: 4 });
    assert.ok(info.body.dataId);
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.ok(set.body.breakpoints[0].verified);
    const before = (await read(COUNTER, 4)).readUInt32LE(0);
    const hit = await cont();
    assert.equal(hit.body.reason, 'data breakpoint');
    assert.match(hit.body.text ?? '', /write of 4 byte\(s\) at 0x604/);
    assert.equal(await pc(), SPIN + 5);
    assert.equal((await read(COUNTER, 4)).readUInt32LE(0), before + 1);
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
    assert.ok(events.some((e) => e.event === 'memory'), 'a memory event after the stop');

    // Disassemble: exactly the requested count, also around (before) the anchor.
    for (const [offset, count] of [[0, 1], [-1, 3], [0, 40], [-5, 7]]) {
      const dis = await dc.customRequest('disassemble', { memoryReference: '0x7d05', instructionOffset: offset, instructionCount: count }) as DebugProtocol.DisassembleResponse;
      assert.equal(dis.body!.instructions.length, count, `offset ${offset} count ${count}`);
      if (offset === -1) {
        assert.equal(dis.body!.instructions[0].address, '0x00007d00');
        assert.match(dis.body!.instructions[0].instruction, /^inc dword ptr \[0x604\]$/);
        assert.equal(dis.body!.instructions[0].instructionBytes, '66 ff 06 04 06');
        assert.equal(dis.body!.instructions[1].address, '0x00007d05');
        assert.match(dis.body!.instructions[1].instruction, /^jmp (short )?0x7d00$/);
      }
    }

    // writeMemory: the memory view and the variables are told.
    events.length = 0;
    await write(SPIN, [0x0f, 0x0b]); // ud2
    assert.ok(events.some((e) => e.event === 'memory' && e.body.memoryReference === '0x7d00' && e.body.count === 2), JSON.stringify(events));
    assert.ok(events.some((e) => e.event === 'invalidated'));

    // #UD: stops at the handler, the fault's EIP in the description.
    await dc.setExceptionBreakpointsRequest({ filters: ['ud'] });
    await setReg('eip', SPIN);
    const ud = await cont();
    assert.equal(ud.body.reason, 'exception');
    assert.match(ud.body.description ?? ud.body.text ?? '', /exception 6 .*0x7d00/);
    const ex = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.ok(ex.body.exceptionId);

    // Triple fault: the BIOS handler returns to 0x7d00, which now loads an empty IDT (limit 0)
    // and faults again: #UD → #GP → #DF → shutdown.
    await write(0x7d10, [0, 0, 0, 0, 0, 0]);
    await write(SPIN, [0x0f, 0x01, 0x1e, 0x10, 0x7d, 0x0f, 0x0b]); // lidt [0x7d10]; ud2
    await dc.setExceptionBreakpointsRequest({ filters: ['triple-fault'] });
    const tf = await cont();
    assert.equal(tf.body.reason, 'exception');
    assert.match(tf.body.description ?? '', /triple|shutdown/i);
  });
});
