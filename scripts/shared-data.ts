import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared` beside the repository: the real digest days, a copied page and the static model. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const apiDir = path.join(sharedDir, 'data/hf-daily-papers/api');
export const pageFile = path.join(sharedDir, 'data/daily-papers-page/page.txt');
export const staticModelDir = path.join(sharedDir, 'models/potion-base-4M-int8');

export function requireShared(what: string): void {
  if (!existsSync(apiDir) || !existsSync(staticModelDir)) {
    process.stderr.write(`${what} needs ../shared (the digest data and the static model); it is not here.\n`);
    process.exit(2);
  }
}
