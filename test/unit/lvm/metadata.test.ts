// Metadata checks against real lvm2: a VG on loop devices (linear LV with two segments, striped
// LV over three PVs), its vgcfgbackup output, and hand-made broken variants whose verdict must
// match `vgcfgrestore --test`. The VG and loop devices are removed in after(), also on failure.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnoseLvmText } from '../../../server/src/lvm/index';
import { toPlain } from '../../../server/src/lvm/effective';
import { parse } from '../../../server/src/lvm/parser';
import { metadataVariants } from '../../fixtures/lvm/metadataMutations';
import { LoopVg } from './loopVg';
import { mapLimit } from './lvmTools';

const DIR = join(process.cwd(), 'test/.cache/lvm/loopvg');

function errors(text: string): string[] {
  return diagnoseLvmText(text, '/etc/lvm/backup/vg', { version: '2.03.16' }).filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
}

describe('lvm metadata vs vgcfgbackup / vgcfgrestore --test', function () {
  this.timeout(180_000);
  const vg = new LoopVg(DIR, 3, 64);
  let backup = '';

  before(async () => {
    await vg.setup();
    await vg.lvcreate(['-L', '8M', '-n', 'lin']);
    await vg.lvcreate(['-L', '24M', '-i', '3', '-I', '64', '-n', 'str']);
    const ext = await vg.lvm('lvextend', ['--driverloaded', 'n', '-q', '-L', '+8M', `${vg.vg}/lin`, vg.loops[2]]);
    assert.equal(ext.rc, 0, ext.stderr);
    const file = join(DIR, 'backup.vg');
    await vg.backup(file);
    backup = readFileSync(file, 'utf8');
  });

  after(async () => {
    await vg.teardown();
  });

  it('reads real vgcfgbackup output without errors and with the values lvm2 wrote', () => {
    assert.deepEqual(errors(backup), []);
    const plain = toPlain(parse(backup).root) as Record<string, any>;
    assert.equal(plain.contents, 'Text Format Volume Group');
    const v = plain[vg.vg];
    assert.equal(v.extent_size, 8192);
    assert.deepEqual(Object.keys(v.physical_volumes), ['pv0', 'pv1', 'pv2']);
    assert.equal(v.logical_volumes.lin.segment_count, 2);
    assert.deepEqual(v.logical_volumes.str.segment1.stripes, ['pv0', 2, 'pv1', 0, 'pv2', 0]);
    assert.equal(v.logical_volumes.str.segment1.stripe_count, 3);
  });

  it('gives the same verdict as vgcfgrestore --test on every variant', async () => {
    const { good, bad } = metadataVariants(backup);
    const all = [...good.map((g) => ({ ...g, expectValid: true })), ...bad.map((b) => ({ ...b, expectValid: false }))];
    const results = await mapLimit(all, 2, async (variant, i) => {
      const file = join(DIR, `variant-${i}.vg`);
      writeFileSync(file, variant.text);
      const r = await vg.restoreTest(file);
      return { variant, lvmValid: r.rc === 0, stderr: r.stderr, ours: errors(variant.text) };
    });
    const problems: string[] = [];
    for (const { variant, lvmValid, stderr, ours } of results) {
      if (lvmValid !== variant.expectValid) problems.push(`${variant.name}: vgcfgrestore --test ${lvmValid ? 'accepted' : 'refused'} it, the fixture expected otherwise\n${stderr}`);
      if (lvmValid !== (ours.length === 0)) problems.push(`${variant.name}: vgcfgrestore --test ${lvmValid ? 'accepted' : 'refused'}, we found [${ours.join('; ')}]\n${stderr}`);
    }
    console.log(`      metadata variants: ${results.length} (${good.length} good, ${bad.length} bad), agreement ${results.length - problems.length}/${results.length}`);
    assert.deepEqual(problems, []);
  });

  it('warns about a segment type lvm2 does not know but keeps the verdict of vgcfgrestore', async () => {
    const text = backup.replace('type = "striped"', 'type = "bogus"');
    const file = join(DIR, 'bogus.vg');
    writeFileSync(file, text);
    const r = await vg.restoreTest(file);
    assert.equal(r.rc, 0, r.stderr);
    assert.match(r.stderr, /Unrecognised segment type bogus/);
    const d = diagnoseLvmText(text, file, { version: '2.03.16' });
    assert.ok(d.some((x) => x.code === 'lvm.meta.segment-type' && x.severity === 'warning'));
    assert.deepEqual(errors(text), []);
  });
});

describe('lvm metadata references (hand-made)', () => {
  const vgText = (lvs: string): string => `contents = "Text Format Volume Group"
version = 1
vg0 {
	id = "aaaaaa-bbbb-cccc-dddd-eeee-ffff-gggggg"
	seqno = 1
	status = ["RESIZEABLE", "READ", "WRITE"]
	extent_size = 8192
	max_lv = 0
	max_pv = 0
	physical_volumes {
		pv0 {
			id = "hhhhhh-bbbb-cccc-dddd-eeee-ffff-gggggg"
			status = ["ALLOCATABLE"]
			pe_start = 2048
			pe_count = 100
		}
	}
	logical_volumes {
${lvs}
	}
}
`;
  const lv = (name: string, id: string, seg: string): string => `		${name} {
			id = "${id}aaa-bbbb-cccc-dddd-eeee-ffff-gggggg"
			status = ["READ", "WRITE"]
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 1
${seg}
			}
		}`;
  const linear = (pe: number): string => `				type = "striped"\n				stripe_count = 1\n				stripes = [ "pv0", ${pe} ]`;

  it('accepts a thin pool with its data and metadata LVs and a thin volume', () => {
    const text = vgText([
      lv('pool', 'p00', '				type = "thin-pool"\n				metadata = "pool_tmeta"\n				pool = "pool_tdata"\n				transaction_id = 1\n				chunk_size = 128'),
      lv('pool_tmeta', 'p01', linear(0)),
      lv('pool_tdata', 'p02', linear(1)),
      lv('thin1', 'p03', '				type = "thin"\n				thin_pool = "pool"\n				transaction_id = 0\n				device_id = 1'),
    ].join('\n'));
    assert.deepEqual(errors(text), []);
  });

  it('reports a thin volume whose pool does not exist, and a cache without its pool', () => {
    const text = vgText([
      lv('thin1', 'p03', '				type = "thin"\n				thin_pool = "nopool"\n				transaction_id = 0\n				device_id = 1'),
      lv('cached', 'p04', '				type = "cache"\n				cache_pool = "cpool"\n				origin = "cached_corig"'),
      lv('cached_corig', 'p05', linear(3)),
    ].join('\n'));
    const e = errors(text);
    assert.equal(e.length, 2, e.join('\n'));
    assert.match(e[0], /thin_pool refers to LV 'nopool'/);
    assert.match(e[1], /cache_pool refers to LV 'cpool'/);
  });

  it('reports mirror/raid image references and missing thin-pool fields', () => {
    const text = vgText([
      lv('r1', 'p06', '				type = "raid1"\n				device_count = 2\n				raids = [ "r1_rmeta_0", "r1_rimage_0", "r1_rmeta_1", "r1_rimage_1" ]'),
      lv('r1_rmeta_0', 'p07', linear(10)),
      lv('r1_rimage_0', 'p08', linear(11)),
      lv('tp', 'p09', '				type = "thin-pool"\n				pool = "r1_rimage_0"'),
    ].join('\n'));
    const e = errors(text);
    assert.ok(e.some((x) => /raids refers to LV 'r1_rmeta_1'/.test(x)), e.join('\n'));
    assert.ok(e.some((x) => /raids refers to LV 'r1_rimage_1'/.test(x)), e.join('\n'));
    assert.ok(e.some((x) => /has no 'metadata'/.test(x)), e.join('\n'));
  });

  it('checks 5,000 segments quickly and finds the one extent used twice', () => {
    const n = 5_000;
    const segs = Array.from({ length: n }, (_, i) => `\t\t\tsegment${i + 1} {\n\t\t\t\tstart_extent = ${i}\n\t\t\t\textent_count = 1\n\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\t\t\t\tstripes = [ "pv0", ${i === n - 1 ? 7 : i} ]\n\t\t\t}`).join('\n');
    const text = vgText(`\t\tbig {\n\t\t\tid = "big000-bbbb-cccc-dddd-eeee-ffff-gggggg"\n\t\t\tstatus = ["READ"]\n\t\t\tsegment_count = ${n}\n${segs}\n\t\t}`).replace('pe_count = 100', `pe_count = ${n}`);
    const t0 = Date.now();
    const e = errors(text);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(e.length, 1, e.join('\n'));
    assert.match(e[0], /extent 7 of PV 'pv0' is already used by 'big' segment8/);
  });

  it('handles hostile metadata without crashing', () => {
    for (const text of ['vg0 { logical_volumes { a { segment_count = 99999999999 } } }', 'contents = 5\nversion = "x"\n', 'x { physical_volumes = 1 logical_volumes = [] }']) {
      assert.doesNotThrow(() => diagnoseLvmText(text, '/etc/lvm/backup/x', { version: '2.03.16' }));
    }
  });
});
