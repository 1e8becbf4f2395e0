// Diagnostics reach the editor through the real language client: a malformed domain XML gets an
// error positioned on the broken token, a valid one gets none.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { languageOf, open, waitFor, workspaceFile } from '../support';

describe('diagnostics', () => {
  it('reports the unquoted attribute value in fixtures/broken-domain.xml where it is', async () => {
    const doc = await open(workspaceFile('broken-domain.xml'));
    assert.equal(await languageOf(doc.uri, 'libvirt-xml'), 'libvirt-xml');
    // Line 3 is `  <memory unit=MiB>512</memory>`: the value MiB lacks its quotes.
    const line = 2;
    const text = doc.lineAt(line).text;
    const token = new vscode.Range(line, text.indexOf('unit='), line, text.indexOf('MiB') + 'MiB'.length);
    const errors = await waitFor('an error diagnostic on broken-domain.xml', () => {
      const found = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
      return found.length ? found : undefined;
    }, 30_000);
    const onToken = errors.find((d) => d.range.intersection(token) !== undefined);
    assert.ok(onToken, `an error touches ${text.slice(token.start.character, token.end.character)} on line ${line + 1}; got ${errors
      .map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('; ')}`);
  });

  it('reports no errors for the valid examples/domain.xml', async () => {
    const valid = await open(workspaceFile('domain.xml'));
    const broken = await open(workspaceFile('broken-domain.xml'));
    // The server validates in the order documents open: once the broken file (opened second) has
    // its errors, the valid one has been validated too.
    await waitFor('diagnostics for broken-domain.xml', () => vscode.languages.getDiagnostics(broken.uri).length > 0, 30_000);
    const errors = vscode.languages.getDiagnostics(valid.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(errors.map((d) => d.message), []);
  });
});
