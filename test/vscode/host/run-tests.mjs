// Runs the extension tests through @vscode/test-electron's standard runTests() API, with the
// code-server shim as the VS Code executable. Started by scripts/vscode-test.mjs inside a
// loopback-only network namespace; takes a JSON file describing the run:
//   { extensionDevelopmentPath, extensionTestsPath, workspace, extensionsDir, userDataDir, env }
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
try {
  await runTests({
    vscodeExecutablePath: join(dirname(fileURLToPath(import.meta.url)), 'code-server-shim.mjs'),
    extensionDevelopmentPath: run.extensionDevelopmentPath,
    extensionTestsPath: run.extensionTestsPath,
    launchArgs: [run.workspace, `--extensions-dir=${run.extensionsDir}`, `--user-data-dir=${run.userDataDir}`],
    extensionTestsEnv: run.env,
  });
} catch (err) {
  // runTests rejects with the exit code when tests fail; the counts were reported already.
  process.stderr.write(`runTests: ${err.message}\n`);
  process.exit(1);
}
