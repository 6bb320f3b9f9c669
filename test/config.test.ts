import { describe, expect, it } from 'vitest';

describe('.env', () => {
  it('is read from the working directory, and the real environment wins', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { loadDotEnv } = await import('../src/config.ts');
    const dir = mkdtempSync(path.join(tmpdir(), 'dotenv-'));
    expect(loadDotEnv(dir)).toBeUndefined(); // none: nothing happens
    writeFileSync(path.join(dir, '.env'), '# a comment\nDOTENV_TEST_A=from-file\nDOTENV_TEST_B="quoted value"\n');
    process.env.DOTENV_TEST_A = 'from-env';
    try {
      expect(loadDotEnv(dir)).toBe(path.join(dir, '.env'));
      expect(process.env.DOTENV_TEST_A).toBe('from-env');
      expect(process.env.DOTENV_TEST_B).toBe('quoted value');
    } finally {
      delete process.env.DOTENV_TEST_A;
      delete process.env.DOTENV_TEST_B;
    }
  });

  it('.env.example lists every variable the configuration reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { repoRoot } = await import('./helpers/shared.ts');
    const path = await import('node:path');
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    const config = readFileSync(path.join(repoRoot, 'src/config.ts'), 'utf8');
    const names = [...config.matchAll(/^ {2}([A-Z][A-Z0-9_]+): z/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(15);
    for (const n of names) expect(example, n).toMatch(new RegExp(`^${n}=`, 'm'));
  });
});
