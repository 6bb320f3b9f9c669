/**
 * Where the tests find ../shared (the real digest days, the copied page and the static model), and whether it is
 * there: tests that need it skip with a one-line reason on a fresh clone without it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { apiDir, pageFile, repoRoot, staticModelDir } from '../../scripts/shared-data.ts';

export { apiDir, pageFile, repoRoot };
export const staticDir = staticModelDir;
export const haveModel = existsSync(path.join(staticDir, 'model.safetensors'));
export const SKIP_REASON = 'needs ../shared/models/potion-base-4M-int8 (the static embedding model)';
