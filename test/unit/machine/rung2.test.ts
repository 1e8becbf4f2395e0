// Rung 2: memtest86+ (Debian package, the ia32 Linux-boot-protocol image) started as a kernel
// with no firmware prints its banner on COM1 — the same version banner QEMU's serial shows.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCli } from '../../support/cli';

const MEMTEST = '/boot/memtest86+ia32.bin';
const BANNER = /Memtest86\+ v\d+\.\d+/;

describe('rung 2: memtest86+ as a kernel', function () {
  this.timeout(300_000);

  it('prints its banner on COM1, the same version QEMU shows', () => {
    assert.ok(existsSync(MEMTEST), `${MEMTEST} is installed (package memtest86+)`);
    const r = runCli(['boot', '--kernel', MEMTEST, '--append', 'console=ttyS0,115200', '--memory', '64', '--until', 'Memtest86+ v', '--timeout', '240'], { timeoutMs: 260_000 });
    assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
    const ours = BANNER.exec(r.stdout)?.[0];
    assert.ok(ours, `banner in ${JSON.stringify(r.stdout.slice(-400))}`);
    const q = spawnSync('timeout', ['20', 'qemu-system-i386', '-M', 'isapc', '-cpu', 'pentium2,-apic', '-nodefaults', '-display', 'none',
      '-serial', 'stdio', '-m', '64', '-kernel', MEMTEST, '-append', 'console=ttyS0,115200'], { encoding: 'latin1' });
    assert.equal(BANNER.exec(q.stdout)?.[0], ours, 'QEMU shows the same banner');
    // Our CPU identifies as a Pentium II, as QEMU's pentium2 model does.
    assert.match(r.stdout, /Pentium II/);
  });
});
