// The language server process: a thin translation between LSP and the pure language modules.
// Validation is debounced per document and cancelled when a newer version arrives, so typing
// never waits for it.
import {
  createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, type InitializeParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import { Languages } from './languages';
import { DEFAULT_SETTINGS, type ServiceSettings } from './service';
import { ServerStatusNotification, SettingsChangedNotification } from './protocol';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let languages = new Languages(DEFAULT_SETTINGS);
let debounceMs = 150;

interface PendingValidation { timer: NodeJS.Timeout; cancel: { isCancellationRequested: boolean } }
const pending = new Map<string, PendingValidation>();

connection.onInitialize((params: InitializeParams) => {
  const init = (params.initializationOptions ?? {}) as Partial<ServiceSettings> & { debounceMs?: number };
  const folders = (params.workspaceFolders ?? []).map((f) => URI.parse(f.uri).fsPath);
  languages = new Languages({ ...DEFAULT_SETTINGS, ...init, workspaceFolders: folders });
  if (typeof init.debounceMs === 'number') debounceMs = init.debounceMs;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['<', ' ', '"', "'", '=', '/', '.'] },
      hoverProvider: true,
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      codeActionProvider: true,
    },
  };
});

connection.onNotification(SettingsChangedNotification, (settings) => {
  languages = new Languages({ ...languages.settings, ...settings });
  if (typeof settings.debounceMs === 'number') debounceMs = settings.debounceMs;
  reportSchemas();
  for (const doc of documents.all()) scheduleValidation(doc, 0);
});

/** Tells the client which libvirt schemas are in use, or that none were found. */
function reportSchemas(): void {
  const info = languages.libvirtSchemas();
  const tried = info.tried.map((t) => `${t.dir}: ${t.reason}`).join('\n');
  connection.sendNotification(ServerStatusNotification, info.dir
    ? { message: `libvirt ${info.version ?? 'schemas'}`, severity: 'info', detail: `libvirt RelaxNG schemas (${info.source}): ${info.dir}${tried ? `\nnot used:\n${tried}` : ''}` }
    : { message: 'no libvirt schemas', severity: 'warning', detail: `No libvirt schemas found; tried:\n${tried}` });
}

connection.onInitialized(() => reportSchemas());

function scheduleValidation(doc: TextDocument, delay = debounceMs): void {
  const previous = pending.get(doc.uri);
  if (previous) {
    clearTimeout(previous.timer);
    previous.cancel.isCancellationRequested = true;
  }
  const cancel = { isCancellationRequested: false };
  const timer = setTimeout(() => void runValidation(doc, cancel), delay);
  pending.set(doc.uri, { timer, cancel });
}

async function runValidation(doc: TextDocument, cancel: { isCancellationRequested: boolean }): Promise<void> {
  const service = languages.serviceFor(doc);
  if (!service) {
    connection.sendDiagnostics({ uri: doc.uri, diagnostics: [] });
    return;
  }
  try {
    const diagnostics = await service.validate(doc, cancel);
    if (!cancel.isCancellationRequested) connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  } catch (err) {
    connection.console.error(`validation of ${doc.uri} failed: ${(err as Error).stack ?? err}`);
    connection.sendNotification(ServerStatusNotification, { message: `Validation failed: ${(err as Error).message}`, severity: 'error' });
  } finally {
    if (pending.get(doc.uri)?.cancel === cancel) pending.delete(doc.uri);
  }
}

documents.onDidChangeContent((e) => scheduleValidation(e.document));
documents.onDidClose((e) => {
  const previous = pending.get(e.document.uri);
  if (previous) {
    clearTimeout(previous.timer);
    previous.cancel.isCancellationRequested = true;
    pending.delete(e.document.uri);
  }
  connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

function withDoc<T>(uri: string, fallback: T, fn: (doc: TextDocument, svc: NonNullable<ReturnType<Languages['serviceFor']>>) => T): T {
  const doc = documents.get(uri);
  const svc = doc && languages.serviceFor(doc);
  return doc && svc ? fn(doc, svc) : fallback;
}

connection.onCompletion((p) => withDoc(p.textDocument.uri, [], (doc, svc) => svc.complete?.(doc, p.position) ?? []));
connection.onHover((p) => withDoc(p.textDocument.uri, null, (doc, svc) => svc.hover?.(doc, p.position) ?? null));
connection.onDocumentSymbol((p) => withDoc(p.textDocument.uri, [], (doc, svc) => svc.symbols?.(doc) ?? []));
connection.onFoldingRanges((p) => withDoc(p.textDocument.uri, [], (doc, svc) => svc.folding?.(doc) ?? []));
connection.onCodeAction((p) => withDoc(p.textDocument.uri, [], (doc, svc) => svc.codeActions?.(doc, p.range, p.context.diagnostics) ?? []));

documents.listen(connection);
connection.listen();
