// The standalone debug adapter (node dist/debugAdapter.js, DAP over stdio) driven by
// @vscode/debugadapter-testsupport's DebugClient on the rung-1 guest (SeaBIOS + our nasm boot
// sector): stop on entry, instruction breakpoint, stepIn by instruction length, readMemory of
// what the guest wrote, writeMemory read back, disassemble, pause while running.
import * as assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { bootSectorGuest } from '../machine/fixtures';

const ADAPTER = resolve(__dirname, '../../../dist/debugAdapter.js');

describe('debug adapter on the rung-1 guest (DebugClient)', function () {
  this.timeout(120_000);
  let dc: DebugClient;
  let disk: string;

  before(() => { disk = bootSectorGuest().raw; });
  beforeEach(async () => {
    dc = new DebugClient('node', ADAPTER, 'virt');
    dc.defaultTimeout = 60_000;
    await dc.start();
  });
  afterEach(async () => { await dc.stop(); });

  const registers = async (): Promise<Map<string, string>> => {
    const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
    const { body: { scopes } } = await dc.scopesRequest({ frameId: stackFrames[0].id });
    const general = scopes.find((s) => s.name === 'General')!;
    const { body: { variables } } = await dc.variablesRequest({ variablesReference: general.variablesReference });
    return new Map(variables.map((v) => [v.name.toLowerCase(), v.value]));
  };
  const launch = () => Promise.all([
    dc.configurationSequence(),
    dc.launch({ disks: [disk], memoryMiB: 16, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments),
    dc.waitForEvent('stopped'),
  ]);

  it('stops on entry, hits an instruction breakpoint, steps by instruction length, reads guest memory', async () => {
    const [, , entry] = await launch();
    assert.equal(entry.body.reason, 'entry');
    const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(stackFrames[0].instructionPointerReference, '0xfffffff0');

    const bp = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x7c00' }, { instructionReference: '0x7d00' }] }) as DebugProtocol.SetInstructionBreakpointsResponse;
    assert.ok(bp.body.breakpoints.every((b) => b.verified));
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.assertStoppedLocation('instruction breakpoint', {})]);
    let frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames[0].instructionPointerReference, '0x00007c00');

    // cli is one byte, xor ax,ax two.
    for (const next of ['0x00007c01', '0x00007c03']) {
      await Promise.all([dc.stepInRequest({ threadId: 1, granularity: 'instruction' }), dc.waitForEvent('stopped')]);
      frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
      assert.equal(frames[0].instructionPointerReference, next);
    }

    // Run to the spin loop: the marker the guest stored is in memory.
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.assertStoppedLocation('instruction breakpoint', {})]);
    frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames[0].instructionPointerReference, '0x00007d00');
    const mem = await dc.customRequest('readMemory', { memoryReference: '0x600', count: 4 }) as DebugProtocol.ReadMemoryResponse;
    assert.equal(Buffer.from(mem.body!.data!, 'base64').readUInt32LE(0), 0xc0ffee42);

    await dc.customRequest('writeMemory', { memoryReference: '0x700', data: Buffer.from([1, 2, 3, 4]).toString('base64') });
    const back = await dc.customRequest('readMemory', { memoryReference: '0x700', count: 4 }) as DebugProtocol.ReadMemoryResponse;
    assert.deepEqual([...Buffer.from(back.body!.data!, 'base64')], [1, 2, 3, 4]);

    const dis = await dc.customRequest('disassemble', { memoryReference: '0x7d00', instructionCount: 2 }) as DebugProtocol.DisassembleResponse;
    assert.equal(dis.body!.instructions.length, 2);
    assert.match(dis.body!.instructions[0].instruction, /inc\s+dword ptr \[(ds:)?604h?\]|inc dword ptr \[0x604\]/i);
    assert.match(dis.body!.instructions[1].instruction, /jmp/i);
    assert.ok((await registers()).has('eax'));
  });

  it('answers pause promptly while the guest runs', async () => {
    await launch();
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('continued').catch(() => undefined)]);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    await Promise.all([dc.pauseRequest({ threadId: 1 }), dc.assertStoppedLocation('pause', {})]);
    const ms = performance.now() - t0;
    assert.ok(ms < 200, `pause round trip ${ms.toFixed(1)} ms`);
  });
});
