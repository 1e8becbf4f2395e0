// Where libvirt's RelaxNG schemas come from, in order: the virtStudio.libvirt.schemaDir setting,
// the system's /usr/share/libvirt/schemas (what `virsh define --validate` itself uses), then the
// copy bundled with the extension. Also: which schema file validates which root element.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSchema, type CompiledSchema } from '../relaxng/schema';
import type { ServiceSettings } from '../service';

export const SYSTEM_SCHEMA_DIR = '/usr/share/libvirt/schemas';

/** Root element → schema file, as virt-xml-validate picks them. */
export const ROOT_SCHEMAS: Record<string, string> = {
  domain: 'domain.rng',
  network: 'network.rng',
  pool: 'storagepool.rng',
  volume: 'storagevol.rng',
  networkport: 'networkport.rng',
  nwfilter: 'nwfilter.rng',
  nwfilterbinding: 'nwfilterbinding.rng',
  secret: 'secret.rng',
  interface: 'interface.rng',
  device: 'nodedev.rng',
  capabilities: 'capability.rng',
  domainsnapshot: 'domainsnapshot.rng',
  domaincheckpoint: 'domaincheckpoint.rng',
  domainbackup: 'domainbackup.rng',
  domainCapabilities: 'domaincaps.rng',
  storagepoolCapabilities: 'storagepoolcaps.rng',
  cpu: 'cpu.rng',
};

export interface SchemaInfo {
  /** The folder in use, or undefined when none was found. */
  dir?: string;
  /** Which source it came from. */
  source?: 'setting' | 'system' | 'bundled';
  /** libvirt version the schemas belong to, when known. */
  version?: string;
  /** Folders tried, in order, with why each was not used. */
  tried: { dir: string; reason: string }[];
}

export function locateSchemas(settings: ServiceSettings): SchemaInfo {
  const candidates: { dir: string; source: SchemaInfo['source'] }[] = [];
  if (settings.libvirtSchemaDir) candidates.push({ dir: settings.libvirtSchemaDir, source: 'setting' });
  candidates.push({ dir: SYSTEM_SCHEMA_DIR, source: 'system' });
  if (settings.bundledSchemaDir) candidates.push({ dir: settings.bundledSchemaDir, source: 'bundled' });
  const tried: SchemaInfo['tried'] = [];
  for (const c of candidates) {
    if (existsSync(join(c.dir, 'domain.rng'))) return { dir: c.dir, source: c.source, version: schemaVersion(c.dir, c.source), tried };
    tried.push({ dir: c.dir, reason: existsSync(c.dir) ? 'no domain.rng in it' : 'does not exist' });
  }
  return { tried };
}

/** A VERSION file beside the schemas (the bundled copy has one); else the installed libvirt0. */
function schemaVersion(dir: string, source: SchemaInfo['source']): string | undefined {
  try {
    return readFileSync(join(dir, 'VERSION'), 'utf8').trim();
  } catch { /* not bundled */ }
  if (source !== 'system') return undefined;
  try {
    const status = readFileSync('/var/lib/dpkg/status', 'utf8');
    const m = /^Package: libvirt0\n(?:[^\n]+\n)*?Version: ([^\n]+)/m.exec(status);
    if (m) return m[1];
  } catch { /* not a dpkg system */ }
  return undefined;
}

export function schemaFileFor(dir: string, root: string): string | undefined {
  const file = ROOT_SCHEMAS[root];
  return file ? join(dir, file) : undefined;
}

export function schemaFor(dir: string, root: string): CompiledSchema | undefined {
  const file = schemaFileFor(dir, root);
  return file && existsSync(file) ? compileSchema(file) : undefined;
}
