// A domain XML with <video>: SeaBIOS runs the VGA option ROM (shadowed into 0xC0000 through the
// i440FX PAM registers) and its messages appear on the text screen the worker reports.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerController } from '../../../emulator/src/worker/controller';
import type { WorkerEvent } from '../../../emulator/src/worker/protocol';
import { bootSectorGuest } from './fixtures';

describe('VGA text screen through SeaBIOS and the vgabios option ROM', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'vs-screen-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows "Booting from Hard Disk" when the boot sector starts', async () => {
    const disk = bootSectorGuest().raw;
    const domain = join(dir, 'screen.xml');
    writeFileSync(domain, `<domain type='qemu'><name>screen</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>
  <os><type arch='i686' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${disk}'/><target dev='hda' bus='ide'/></disk>
    <serial type='pty'><target port='0'/></serial>
    <video><model type='vga'/></video>
  </devices></domain>`);
    const events: WorkerEvent[] = [];
    let onStop: (e: WorkerEvent) => void = () => {};
    const c = new WorkerController((e) => { events.push(e); if (e.event === 'stopped') onStop(e); });
    try {
      const { warnings } = await c.handle({ kind: 'boot', spec: { domain, memoryLimitMiB: 64, allowImageWrites: false, stopOnEntry: true } }) as { warnings: string[] };
      assert.deepEqual(warnings, []);
      assert.deepEqual(await c.handle({ kind: 'getScreen' }) !== null, true);
      await c.handle({ kind: 'setBreakpoints', breakpoints: [{ id: 1, address: 0x7c00 }] });
      const stopped = new Promise<WorkerEvent>((r) => { onStop = r; });
      await c.handle({ kind: 'resume' });
      const e = await stopped;
      assert.equal(e.event === 'stopped' && e.reason, 'breakpoint');
      const screen = await c.handle({ kind: 'getScreen' }) as { columns: number; rows: number; chars: number[] };
      assert.equal(screen.columns, 80);
      assert.equal(screen.rows, 25);
      const text = Array.from({ length: screen.rows }, (_, r) => String.fromCharCode(...screen.chars.slice(r * 80, r * 80 + 80)).trimEnd()).join('\n');
      assert.match(text, /SeaBIOS \(version 1\.\d+/);
      assert.match(text, /Booting from Hard Disk\.\.\./);
      assert.ok(events.some((x) => x.event === 'screenChanged'), 'a screenChanged event was sent');
    } finally {
      await c.handle({ kind: 'shutdown' });
    }
  });
});
