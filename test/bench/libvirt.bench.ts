// libvirt XML: per-document validation time in-process vs xmllint --relaxng over the same corpus
// files in the same run, and completion latency on a 400-line domain.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { rootElementName } from '../../server/src/documentKind';
import { createLibvirtService } from '../../server/src/libvirt';
import { DEFAULT_SETTINGS } from '../../server/src/service';
import { percentile, report } from '../support/bench';

const REPO = resolve(__dirname, '..', '..');
const SCHEMA = '/usr/share/libvirt/schemas/domain.rng';

function corpusDomains(): string[] {
  const dir = execFileSync('bash', [join(REPO, 'test/fixtures/libvirt/corpus.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  return readdirSync(dir).filter((f) => f.endsWith('.xml')).sort().map((f) => join(dir, f))
    .filter((f) => rootElementName(readFileSync(f, 'utf8')) === 'domain');
}

/** A realistic 400-line domain: many disks, NICs, controllers, consoles. */
function bigDomain(): string {
  const lines: string[] = ["<domain type='kvm'>", '  <name>bench</name>', '  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>',
    "  <memory unit='GiB'>4</memory>", "  <currentMemory unit='GiB'>4</currentMemory>", "  <vcpu placement='static'>4</vcpu>",
    '  <os>', "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>", "    <boot dev='hd'/>", '  </os>',
    '  <features>', '    <acpi/>', '    <apic/>', '  </features>', "  <cpu mode='host-passthrough'/>", "  <clock offset='utc'/>",
    '  <on_poweroff>destroy</on_poweroff>', '  <on_reboot>restart</on_reboot>', '  <on_crash>destroy</on_crash>', '  <devices>',
    '    <emulator>/usr/bin/qemu-system-x86_64</emulator>'];
  let i = 0;
  while (lines.length < 380) {
    const dev = String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String.fromCharCode(97 + Math.floor(i / 26)) : '');
    lines.push("    <disk type='file' device='disk'>", "      <driver name='qemu' type='qcow2' cache='none'/>",
      `      <source file='/var/lib/libvirt/images/d${i}.qcow2'/>`, `      <target dev='vd${dev}' bus='virtio'/>`, '    </disk>',
      "    <interface type='network'>", `      <mac address='52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}'/>`,
      "      <source network='default'/>", "      <model type='virtio'/>", '    </interface>');
    i++;
  }
  lines.push("    <serial type='pty'>", "      <target port='0'/>", '    </serial>', "    <console type='pty'>", "      <target type='serial' port='0'/>", '    </console>',
    "    <graphics type='vnc' port='-1' autoport='yes'/>", "    <video>", "      <model type='virtio'/>", '    </video>',
    "    <memballoon model='virtio'/>", '  </devices>', '</domain>', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const svc = createLibvirtService({ ...DEFAULT_SETTINGS, checkSourceFiles: false });
  const files = corpusDomains();
  const docs = files.map((f, i) => TextDocument.create(`file://${f}`, 'libvirt-xml', i, readFileSync(f, 'utf8')));

  // Cold: first validation compiles the schema.
  let t0 = performance.now();
  await svc.validate(docs[0]);
  const cold = performance.now() - t0;
  for (const d of docs) await svc.validate(d); // warm the derivative memo tables
  // Warm: each document again, with a fresh TextDocument so the parse is not cached.
  const perDoc: number[] = [];
  for (const round of [1, 2]) {
    for (const d of docs) {
      const fresh = TextDocument.create(d.uri, 'libvirt-xml', d.version + round * 100000, d.getText());
      const s = performance.now();
      await svc.validate(fresh);
      perDoc.push(performance.now() - s);
    }
  }
  const oursMean = perDoc.reduce((a, b) => a + b, 0) / perDoc.length;

  // xmllint over the same files, one process (schema compiled once, amortised over all files).
  t0 = performance.now();
  spawnSync('xmllint', ['--noout', '--relaxng', SCHEMA, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const xmllintTotal = performance.now() - t0;
  const xmllintPerDoc = xmllintTotal / files.length;
  // And one typical document on its own, as an editor integration would run it.
  const typical = files.find((f) => f.endsWith('qemuxml2argvdata__disk-virtio.xml')) ?? files[0];
  const single: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    spawnSync('xmllint', ['--noout', '--relaxng', SCHEMA, typical]);
    single.push(performance.now() - s);
  }
  const typicalDoc = TextDocument.create(`file://${typical}`, 'libvirt-xml', 1, readFileSync(typical, 'utf8'));
  const typicalOurs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const fresh = TextDocument.create(typicalDoc.uri, 'libvirt-xml', i + 2, typicalDoc.getText());
    const s = performance.now();
    await svc.validate(fresh);
    typicalOurs.push(performance.now() - s);
  }

  report({ name: 'libvirt schema compile + first validation (cold)', value: cold, unit: 'ms' });
  report({
    name: `libvirt warm validation, mean per corpus domain (${files.length} files)`, value: oursMean, unit: 'ms',
    anchor: { name: 'xmllint --relaxng, same files in one process, per file', value: xmllintPerDoc }, ratio: oursMean / xmllintPerDoc,
    note: `ours p50 ${percentile(perDoc, 50).toFixed(3)} ms, p95 ${percentile(perDoc, 95).toFixed(3)} ms; ratio = ours / xmllint`,
  });
  report({
    name: 'libvirt warm validation of a typical domain (disk-virtio.xml), p50', value: percentile(typicalOurs, 50), unit: 'ms',
    anchor: { name: 'xmllint --relaxng on that file alone (process incl. schema load), median', value: percentile(single, 50) }, ratio: percentile(typicalOurs, 50) / percentile(single, 50),
    note: `p95 ${percentile(typicalOurs, 95).toFixed(3)} ms; ratio = ours / xmllint`,
  });

  // Completion on a 400-line domain, typing in several places.
  const big = bigDomain();
  const dir = join(REPO, 'test/.cache/libvirt/bench');
  mkdirSync(dir, { recursive: true });
  const bigFile = join(dir, 'big-domain.xml');
  writeFileSync(bigFile, big);
  const lint = spawnSync('xmllint', ['--noout', '--relaxng', SCHEMA, bigFile], { encoding: 'utf8' });
  if (lint.status !== 0) throw new Error(`the benchmark domain is invalid: ${lint.stderr}`);
  const bigDoc = TextDocument.create(`file://${bigFile}`, 'libvirt-xml', 1, big);
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) { const s = performance.now(); spawnSync('xmllint', ['--noout', '--relaxng', SCHEMA, bigFile]); xs.push(performance.now() - s); }
  const bigValidate: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await svc.validate(TextDocument.create(bigDoc.uri, 'libvirt-xml', i + 2, big));
    bigValidate.push(performance.now() - s);
  }
  report({
    name: `libvirt warm validation of a ${big.split('\n').length}-line domain, p50`, value: percentile(bigValidate, 50), unit: 'ms',
    anchor: { name: 'xmllint --relaxng on it (process), median', value: percentile(xs, 50) }, ratio: percentile(bigValidate, 50) / percentile(xs, 50),
  });

  const lines = big.split('\n');
  const devicesLine = lines.findIndex((l) => l.includes('<emulator>')) + 1;
  const sites: { label: string; text: (n: number) => string; at: (text: string) => number }[] = [
    { label: "<disk type='", text: (n) => insertLine(lines, devicesLine + (n % 300), "    <disk type='"), at: (t) => t.indexOf("<disk type='\n") + 12 },
    { label: 'element name', text: (n) => insertLine(lines, devicesLine + (n % 300), '    <'), at: (t) => t.indexOf('    <\n') + 5 },
    { label: 'attribute name', text: (n) => insertLine(lines, devicesLine + (n % 300), "    <interface type='network' "), at: (t) => t.indexOf("type='network' \n") + 15 },
    { label: 'content', text: (n) => insertLine(lines, devicesLine + (n % 300), '    '), at: (t) => t.indexOf('\n    \n') + 5 },
  ];
  const samples: number[] = [];
  // CPU time of this process per request too: on a loaded machine wall time mostly measures
  // the time the scheduler gave to others.
  const cpuSamples: number[] = [];
  let version = 10;
  for (let n = 0; n < 400; n++) {
    const site = sites[n % sites.length];
    const text = site.text(n);
    const doc = TextDocument.create(bigDoc.uri, 'libvirt-xml', version++, text);
    const pos = doc.positionAt(site.at(text));
    const c = process.cpuUsage();
    const s = performance.now();
    const items = await svc.complete!(doc, pos);
    samples.push(performance.now() - s);
    const used = process.cpuUsage(c);
    cpuSamples.push((used.user + used.system) / 1000);
    if (!items.length) throw new Error(`no completion for ${site.label}`);
  }
  const p95 = percentile(samples, 95);
  report({
    name: `libvirt completion latency on a ${lines.length}-line domain, p50`, value: percentile(samples, 50), unit: 'ms',
    anchor: { name: 'xmllint --relaxng validation of the same document', value: percentile(xs, 50) }, ratio: percentile(samples, 50) / percentile(xs, 50),
    note: `p95 ${p95.toFixed(3)} ms over ${samples.length} requests (element names, attribute names/values, content), each on a new document version`,
  });
  report({ name: `libvirt completion latency on a ${lines.length}-line domain, p95`, value: p95, unit: 'ms' });
  report({
    name: `libvirt completion CPU time on a ${lines.length}-line domain, p95`, value: percentile(cpuSamples, 95), unit: 'ms',
    note: `p50 ${percentile(cpuSamples, 50).toFixed(3)} ms; process CPU time (all threads) per request; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs during the run`,
  });
}

function insertLine(lines: string[], at: number, line: string): string {
  return [...lines.slice(0, at), line, ...lines.slice(at)].join('\n');
}

main().catch((err) => { console.error(err); process.exit(1); });
