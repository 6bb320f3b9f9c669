import { describe, expect, it } from 'vitest';
import { searchUrl } from '../src/discord/present.ts';
import { paperFromApiEntry } from '../src/sources/normalize.ts';
import { httpsUrl, safeLinks } from '../src/sources/links.ts';
import { stripUnsafe } from '../src/text.ts';
import { newEntry } from './helpers/synthetic-days.ts';

describe('links from upstream', () => {
  it('shows only https links; the GitHub label only for github.com', () => {
    expect(httpsUrl('javascript:alert(1)')).toBeUndefined();
    expect(httpsUrl('http://example.com/x')).toBeUndefined();
    expect(httpsUrl('data:text/html,hi')).toBeUndefined();
    expect(httpsUrl('https://user:pw@example.com/')).toBeUndefined();
    expect(httpsUrl(' https://github.com/a/b ')).toBe('https://github.com/a/b');
    expect(safeLinks('https://github.com/a/b', 'https://a.example/p')).toEqual({
      githubUrl: 'https://github.com/a/b',
      projectUrl: 'https://a.example/p',
    });
    expect(safeLinks('https://gitlab.com/a/b', undefined)).toEqual({ projectUrl: 'https://gitlab.com/a/b' });
    expect(safeLinks('https://github.com.evil.example/a', 'javascript:alert(1)')).toEqual({
      projectUrl: 'https://github.com.evil.example/a',
    });
    expect(safeLinks('javascript:alert(1)', 'http://example.com')).toEqual({});
  });

  it('normalizes an API entry with hostile links and text into a safe paper', () => {
    const entry = newEntry(
      {
        id: '2501.00001',
        title: 'A \u202eTitle\u0000 with Controls\ud800',
        abstract: 'Some abstract text.',
        githubRepo: 'javascript:alert(1)',
        projectPage: 'https://project.example/',
      },
      '2025-01-06',
    );
    const p = paperFromApiEntry(entry, '2025-01-06');
    expect(p.githubUrl).toBeUndefined();
    expect(p.projectUrl).toBe('https://project.example/');
    expect(p.title).toBe('A Title with Controls');
  });
});

describe('stripUnsafe', () => {
  it('removes NUL, controls, bidi overrides, zero-width spaces and lone surrogates; keeps emoji and line breaks', () => {
    expect(stripUnsafe('a\u0000b\u202ec\u2066d\u200be\ufefff\ud800g\udc00h')).toBe('abcdefgh');
    expect(stripUnsafe('👨\u200d💻 ok\nnext')).toBe('👨\u200d💻 ok\nnext');
  });

  it('a lone surrogate in a search never throws when the search link is built', () => {
    expect(() => searchUrl('diffusion \ud800 models')).not.toThrow();
    expect(searchUrl('diffusion \ud800 models')).toBe('https://huggingface.co/papers?q=diffusion%20%20models');
  });
});
