import assert from 'node:assert/strict';
import { VirtualClock } from '../../../emulator/src/machine/clock';

describe('devices: virtual clock', () => {
  it('derives time from the instruction count at the configured rate', () => {
    const c = new VirtualClock({ instructionsPerNs: 0.5 }); // 500 MIPS
    c.advance(1000);
    assert.equal(c.nowNs(), 2000);
    assert.equal(c.instructionCount, 1000);
  });

  it('fires timers in deadline order and reports instructions until the next one', () => {
    const c = new VirtualClock();
    const fired: string[] = [];
    const a = c.createTimer('a', () => fired.push('a'));
    const b = c.createTimer('b', () => fired.push('b'));
    a.arm(500); b.arm(300);
    assert.equal(c.instructionsUntilNextEvent(10_000), 300);
    c.advance(600);
    assert.equal(c.runDueTimers(), 2);
    assert.deepEqual(fired, ['b', 'a']);
    assert.equal(c.nextDeadline(), undefined);
  });

  it('skips idle time to the next event on HLT and stays deterministic across save/restore', () => {
    const c = new VirtualClock();
    let at = -1;
    const t = c.createTimer('t', (now) => { at = now; });
    t.arm(1_000_000);
    c.advance(10);
    assert.equal(c.skipToNextEvent(), true);
    assert.equal(at, 1_000_000);
    assert.equal(c.instructionCount, 10);
    assert.equal(c.skipToNextEvent(), false, 'nothing armed: the guest would sleep forever');
    const saved = c.saveState();
    const d = new VirtualClock();
    d.restoreState(saved);
    assert.equal(d.nowNs(), c.nowNs());
  });

  it('lets a callback re-arm itself without looping', () => {
    const c = new VirtualClock();
    let n = 0;
    const t = c.createTimer('p', (now) => { n++; t.arm(now + 100); });
    t.arm(100);
    c.advance(1000);
    c.runDueTimers();
    assert.equal(n, 1, 'a periodic timer re-armed into the future fires once per runDueTimers at most per period');
    c.advance(1000);
    c.runDueTimers();
    assert.equal(n, 2);
  });
});
