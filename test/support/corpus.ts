// Where the shared, read-only test corpus lives: ../shared beside the repository (as CI lays
// it out), or LATERAL_SHARED when set.
import * as path from 'node:path';

/** The repository root, from dist/test/support/ or test/support/. */
export const repoRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

export function sharedDir(): string {
  return process.env.LATERAL_SHARED ?? path.resolve(repoRoot, '..', 'shared');
}

export function corpusPath(...parts: string[]): string {
  return path.join(sharedDir(), 'corpus', ...parts);
}
