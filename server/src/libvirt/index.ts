// Entry point of the libvirt XML language: validation against libvirt's own RelaxNG schemas and
// define-time rules, completion, hover, outline, folding and quick fixes.
import type { LanguageService, ServiceSettings } from '../service';
import { LibvirtAnalyzer } from './analysis';
import { codeActions } from './codeActions';
import { complete } from './completion';
import { validateDocument } from './diagnostics';
import { hover } from './hover';
import type { SchemaInfo } from './schemaSource';
import { folding, symbols } from './outline';

let lastAnalyzer: LibvirtAnalyzer | undefined;

export function createLibvirtService(settings: ServiceSettings): LanguageService & { schemaInfo(): SchemaInfo } {
  const an = new LibvirtAnalyzer(settings);
  lastAnalyzer = an;
  return {
    async validate(doc, cancel) { return validateDocument(an, doc, cancel); },
    complete: (doc, pos) => complete(an, doc, pos),
    hover: (doc, pos) => hover(an, doc, pos),
    symbols: (doc) => symbols(an, doc),
    folding: (doc) => folding(an, doc),
    codeActions: (doc, range, diagnostics) => codeActions(an, doc, range, diagnostics),
    schemaInfo: () => an.info,
  };
}

/** The schema folder and libvirt version of the most recently created service (for the status bar). */
export function schemaInfo(): SchemaInfo {
  return (lastAnalyzer ?? new LibvirtAnalyzer({ libvirtSchemaDir: '', checkSourceFiles: true, workspaceFolders: [], lvmVersion: 'auto' })).info;
}

/** One line for the status bar: "libvirt schemas 9.0.0-4+deb12u2 (system: /usr/share/libvirt/schemas)". */
export function describeSchemaInfo(info: SchemaInfo = schemaInfo()): string {
  if (!info.dir) return `no libvirt schemas found (tried ${info.tried.map((t) => t.dir).join(', ')})`;
  return `libvirt schemas ${info.version ?? '(version unknown)'} (${info.source}: ${info.dir})`;
}

export type { SchemaInfo };
