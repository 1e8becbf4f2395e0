// Standalone debug adapter (DAP over stdio): owned by the debugger issue.
process.stderr.write('virt debug adapter: not available in this build yet\n');
process.exit(1);
