// Routes a document to the language service for its kind. Shared by server.ts and the CLI.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import { detectKind, isLibvirtKind, type DocumentKind } from './documentKind';
import { createLibvirtService, type SchemaInfo } from './libvirt';
import { createLvmService } from './lvm';
import type { LanguageService, ServiceSettings } from './service';

export class Languages {
  private readonly libvirt: ReturnType<typeof createLibvirtService>;
  private readonly lvm: LanguageService;

  constructor(readonly settings: ServiceSettings) {
    this.libvirt = createLibvirtService(settings);
    this.lvm = createLvmService(settings);
  }

  /** Which libvirt schemas validation uses (for the status bar). */
  libvirtSchemas(): SchemaInfo {
    return this.libvirt.schemaInfo();
  }

  kindOf(doc: TextDocument): DocumentKind {
    const path = doc.uri.startsWith('file:') ? URI.parse(doc.uri).fsPath : doc.uri;
    return detectKind(path, doc.getText());
  }

  serviceFor(doc: TextDocument): LanguageService | undefined {
    const kind = this.kindOf(doc);
    if (isLibvirtKind(kind)) return this.libvirt;
    if (kind === 'lvm-conf' || kind === 'lvm-metadata') return this.lvm;
    return undefined;
  }
}
