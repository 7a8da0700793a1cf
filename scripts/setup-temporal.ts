/**
 * Installs the Temporal CLI and time-skipping test server into .temporal/ when they are not already there.
 * Run by `npm start` and `npm test`; quick (no network, no subprocess) when both binaries exist.
 */
import { ensureBinary, TemporalBinaryMissingError, type BinaryKind } from '../src/platform/temporalBinaries';

const kinds: BinaryKind[] = process.argv.includes('--cli-only') ? ['cli'] : ['cli', 'testServer'];

try {
  for (const kind of kinds) {
    const result = ensureBinary(kind, { log: (line) => console.error(`[setup-temporal] ${line}`) });
    if (result.source !== 'already installed') {
      console.error(`[setup-temporal] ${kind}: installed from ${result.source} -> ${result.path}`);
    }
  }
} catch (error) {
  if (error instanceof TemporalBinaryMissingError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
