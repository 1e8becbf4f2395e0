// Rung 1: SeaBIOS (Debian's bios.bin) boots our nasm boot sector from a raw and from a qcow2
// disk, through the CLI and the worker, and the line it prints on COM1 is the line QEMU's
// serial port shows for the same disk.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCli } from '../../support/cli';
import { bootSectorGuest } from './fixtures';

const LINE = 'Virt Studio rung 1: hello from the boot sector';

function qemuSerial(disk: string, format: string): string {
  const r = spawnSync('timeout', ['5', 'qemu-system-i386', '-M', 'pc', '-nodefaults', '-display', 'none', '-serial', 'stdio',
    '-drive', `file=${disk},format=${format},if=ide,snapshot=on`, '-no-reboot'], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.stdout;
}

describe('rung 1: a nasm boot sector via SeaBIOS', function () {
  this.timeout(120_000);
  let guest: ReturnType<typeof bootSectorGuest>;
  before(() => {
    assert.ok(existsSync('/usr/share/seabios/bios.bin'), 'SeaBIOS is installed (package seabios)');
    guest = bootSectorGuest();
  });

  for (const format of ['raw', 'qcow2'] as const) {
    it(`boots from a ${format} disk and prints on COM1, as QEMU does`, () => {
      const disk = guest[format];
      const r = runCli(['boot', '--disk', disk, '--memory', '16', '--until', LINE, '--timeout', '90'], { timeoutMs: 100_000 });
      assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
      assert.ok(r.stdout.includes(`${LINE}\r\n`), `COM1 output: ${JSON.stringify(r.stdout.slice(-300))}`);
      assert.match(r.stderr, /^instructions=(\d+) seconds=[\d.]+ mips=[\d.]+$/m);
      const n = Number(/instructions=(\d+)/.exec(r.stderr)![1]);
      assert.ok(n > 100_000, `SeaBIOS ran (${n} instructions)`);
      assert.ok(qemuSerial(disk, format).includes(`${LINE}\r\n`), 'QEMU prints the same line for this disk');
    });
  }

  it('exits 1 when the text never appears before the timeout', () => {
    const r = runCli(['boot', '--disk', guest.raw, '--memory', '16', '--until', 'never printed', '--timeout', '3'], { timeoutMs: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /timeout after 3 s/);
    assert.match(r.stderr, /^instructions=\d+ seconds=[\d.]+ mips=[\d.]+$/m);
  });

  it('refuses a missing image with exit 2 and one line', () => {
    const r = runCli(['boot', '--disk', '/nonexistent/disk.img', '--until', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no such file/);
  });
});
