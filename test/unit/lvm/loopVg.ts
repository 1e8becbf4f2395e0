// A real volume group on loop devices for the metadata tests: sparse files in test/.cache/lvm,
// attached with losetup, pvcreate/vgcreate, LVs made with `lvcreate --driverloaded n -an -Zn`
// (no device-mapper needed). Everything runs with an isolated LVM_SYSTEM_DIR whose filter
// accepts only our loop devices, so the host's and other tests' PVs are never touched.
// teardown() removes the VG, wipes the PVs and detaches the loops; call it from after().
import { mkdirSync, rmSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, type ToolResult } from './lvmTools';

export class LoopVg {
  readonly loops: string[] = [];
  readonly sysDir: string;
  readonly vg: string;
  private created = false;

  constructor(readonly dir: string, readonly pvCount = 3, readonly sizeMiB = 64) {
    this.sysDir = join(dir, 'sys');
    this.vg = `vsLvmTest${process.pid}`;
  }

  env(): Record<string, string> {
    return { LVM_SYSTEM_DIR: this.sysDir };
  }

  async lvm(cmd: string, args: string[]): Promise<ToolResult> {
    return runTool(cmd, args, this.env(), 60_000);
  }

  private async must(cmd: string, args: string[]): Promise<ToolResult> {
    const r = await this.lvm(cmd, args);
    if (r.rc !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (rc ${r.rc}):\n${r.stderr}`);
    return r;
  }

  async setup(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(join(this.sysDir, 'lock'), { recursive: true });
    for (let i = 0; i < this.pvCount; i++) {
      const img = join(this.dir, `pv${i}.img`);
      closeSync(openSync(img, 'w'));
      truncateSync(img, this.sizeMiB << 20);
      const r = await runTool('losetup', ['-f', '--show', img]);
      if (r.rc !== 0) throw new Error(`losetup failed: ${r.stderr}`);
      this.loops.push(r.stdout.trim());
    }
    const accept = this.loops.map((l) => `"a|^${l}$|"`).join(', ');
    writeFileSync(join(this.sysDir, 'lvm.conf'), [
      `devices { filter = [ ${accept}, "r|.*|" ] global_filter = [ ${accept}, "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }`,
      `global { locking_dir = "${join(this.sysDir, 'lock')}" }`,
      `backup { backup = 0 archive = 0 backup_dir = "${join(this.sysDir, 'backup')}" archive_dir = "${join(this.sysDir, 'archive')}" }`,
      'activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }',
      '',
    ].join('\n'));
    await this.must('pvcreate', ['-q', ...this.loops]);
    await this.must('vgcreate', ['-q', '-s', '4m', this.vg, ...this.loops]);
    this.created = true;
  }

  async lvcreate(args: string[]): Promise<void> {
    await this.must('lvcreate', ['--driverloaded', 'n', '-an', '-Zn', '-q', ...args, this.vg]);
  }

  async backup(file: string): Promise<void> {
    await this.must('vgcfgbackup', ['-f', file, this.vg]);
  }

  /** vgcfgrestore --test: lvm2's verdict on a metadata file for our VG (nothing is written). */
  async restoreTest(file: string): Promise<ToolResult> {
    return this.lvm('vgcfgrestore', ['--test', '-f', file, this.vg]);
  }

  /** Always safe to call, also after a failed setup. */
  async teardown(): Promise<void> {
    try {
      if (this.created) await this.lvm('vgremove', ['-ff', '-y', this.vg]);
      if (this.loops.length) await this.lvm('pvremove', ['-ff', '-y', ...this.loops]);
    } finally {
      for (const l of this.loops) await runTool('losetup', ['-d', l]);
      this.loops.length = 0;
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
