// Per-document state shared by every libvirt feature: the parse tree (cached per document
// version) and the compiled schema for its root element.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompiledSchema } from '../relaxng/schema';
import { parseXml, type XmlDocument } from '../relaxng/xmlParser';
import type { ServiceSettings } from '../service';
import { locateSchemas, schemaFor, type SchemaInfo } from './schemaSource';

export class LibvirtAnalyzer {
  readonly info: SchemaInfo;
  private readonly parsed = new Map<string, { version: number; text: string; xml: XmlDocument }>();

  constructor(readonly settings: ServiceSettings) {
    this.info = locateSchemas(settings);
  }

  parse(doc: TextDocument): XmlDocument {
    const text = doc.getText();
    const hit = this.parsed.get(doc.uri);
    if (hit && hit.version === doc.version && hit.text === text) return hit.xml;
    const xml = parseXml(text);
    if (this.parsed.size > 32) this.parsed.delete(this.parsed.keys().next().value!);
    this.parsed.set(doc.uri, { version: doc.version, text, xml });
    return xml;
  }

  /** The compiled schema for a root element name; throws SchemaError on a broken schema. */
  schema(root: string): CompiledSchema | undefined {
    return this.info.dir ? schemaFor(this.info.dir, root) : undefined;
  }
}
