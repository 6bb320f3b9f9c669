import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listApiFiles, papersFromApiResponse, readApiFile, SourceFileError } from '../src/sources/files.ts';
import { EntryError, isArxivId, paperFromApiEntry, paperUrl, titleId } from '../src/sources/normalize.ts';
import { papersFromPageText, parsePageDate } from '../src/sources/page.ts';
import { newEntry, oldEntry, writeDays } from './helpers/synthetic-days.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_API = path.resolve(repoRoot, '../shared/data/hf-daily-papers/api');
const SHARED_PAGE = path.resolve(repoRoot, '../shared/data/daily-papers-page/page.txt');

const ABSTRACT =
  'We study a made-up problem in\n  considerable detail. The method is simple and\nworks well on three benchmarks.';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'sources-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('paperFromApiEntry', () => {
  it('normalizes the current (2025+) shape with every optional field', () => {
    const e = newEntry(
      {
        id: '2509.01234',
        title: 'A Synthetic\n  Title  About\tThings',
        abstract: ABSTRACT,
        upvotes: 42,
        comments: 5,
        authors: ['  Ada   Example ', 'Bo Sample'],
        keywords: ['first keyword', '  second\nkeyword ', '', 7 as unknown as string],
        aiSummary: '  A one\n sentence   summary. ',
        githubRepo: ' https://github.com/example/repo ',
        projectPage: 'https://example.org/project',
      },
      '2025-09-02',
    );
    expect(paperFromApiEntry(e)).toEqual({
      id: '2509.01234',
      date: '2025-09-02',
      title: 'A Synthetic Title About Things',
      abstract:
        'We study a made-up problem in considerable detail. The method is simple and works well on three benchmarks.',
      authors: ['Ada Example', 'Bo Sample'],
      upvotes: 42,
      comments: 5,
      githubUrl: 'https://github.com/example/repo',
      projectUrl: 'https://example.org/project',
      aiSummary: 'A one sentence summary.',
      aiKeywords: ['first keyword', 'second keyword'],
    });
  });

  it('normalizes the 2024 shape (no submittedOnDailyAt, no ai_* fields) given the file day', () => {
    const p = paperFromApiEntry(
      oldEntry({ id: '2406.11111', title: 'Old\n  Shape Paper', abstract: ABSTRACT, upvotes: 9, comments: 2 }),
      '2024-06-20',
    );
    expect(p).toEqual({
      id: '2406.11111',
      date: '2024-06-20',
      title: 'Old Shape Paper',
      abstract:
        'We study a made-up problem in considerable detail. The method is simple and works well on three benchmarks.',
      authors: ['Ada Example'],
      upvotes: 9,
      comments: 2,
    });
    // No optional keys at all (not even `undefined` ones): the record hash and JSON output stay clean.
    expect(Object.keys(p).sort()).toEqual(['abstract', 'authors', 'comments', 'date', 'id', 'title', 'upvotes']);
  });

  it('collapses hard wraps but keeps real paragraph breaks', () => {
    const e = newEntry(
      { id: '2509.00001', title: 'T', abstract: 'First line\nof para one.\n\n  Second\n   para\r\nhere.\n\n\n' },
      '2025-09-01',
    );
    expect(paperFromApiEntry(e).abstract).toBe('First line of para one.\n\nSecond para here.');
  });

  it('prefers the display title; falls back to paper.title; whitespace normalized', () => {
    const e = newEntry({ id: '2509.00002', title: 'x', abstract: ABSTRACT }, '2025-09-01');
    e.title = 'LLM$\\times$MapReduce:  Display\n Title';
    (e.paper as Record<string, unknown>).title = 'LLMMapReduce: Display Title';
    expect(paperFromApiEntry(e).title).toBe('LLM$\\times$MapReduce: Display Title');
    delete e.title;
    (e.paper as Record<string, unknown>).title = '  Only the\n   paper title ';
    expect(paperFromApiEntry(e).title).toBe('Only the paper title');
    e.title = '   '; // blank display title: the paper's own is used
    expect(paperFromApiEntry(e).title).toBe('Only the paper title');
  });

  it('takes the digest day from the caller (file name), else paper.submittedOnDailyAt, never top-level publishedAt', () => {
    const e = newEntry({ id: '2509.00003', title: 'Dated', abstract: ABSTRACT }, '2025-09-03');
    expect(e.publishedAt).toMatch(/^2025-09-02/); // the top-level publishedAt is on another day
    expect(paperFromApiEntry(e).date).toBe('2025-09-03');
    expect(paperFromApiEntry(e, '2025-09-05').date).toBe('2025-09-05'); // the file name wins
    (e.paper as Record<string, unknown>).submittedOnDailyAt = '2026-01-05T00:00:00Z'; // midnight-truncated, 2026 style
    expect(paperFromApiEntry(e).date).toBe('2026-01-05');

    // The old shape has only the top-level publishedAt: without a day it has no digest date.
    const old = oldEntry({ id: '2406.22222', title: 'Old', abstract: ABSTRACT }, '2024-06-20T12:00:00.000Z');
    expect(() => paperFromApiEntry(old)).toThrow(EntryError);
    expect(() => paperFromApiEntry(old)).toThrow(/2406\.22222 has no digest date.*YYYY-MM-DD\.json/);
  });

  it('rejects entries without id, title or abstract with a reason naming the paper', () => {
    const base = () => newEntry({ id: '2509.00004', title: 'Fine', abstract: ABSTRACT }, '2025-09-01');
    const noTitle = base();
    delete noTitle.title;
    delete (noTitle.paper as Record<string, unknown>).title;
    expect(() => paperFromApiEntry(noTitle)).toThrow('paper 2509.00004 has no title');
    const blankAbstract = base();
    delete blankAbstract.summary;
    (blankAbstract.paper as Record<string, unknown>).summary = ' \n\n ';
    expect(() => paperFromApiEntry(blankAbstract)).toThrow('paper 2509.00004 has no abstract');
    const noId = base();
    delete (noId.paper as Record<string, unknown>).id;
    expect(() => paperFromApiEntry(noId)).toThrow('entry has no paper.id');
    expect(() => paperFromApiEntry(null)).toThrow(EntryError);
    expect(() => paperFromApiEntry([1, 2])).toThrow(EntryError);
  });

  it('ignores non-numeric counts and malformed authors instead of failing', () => {
    const e = newEntry({ id: '2509.00005', title: 'Counts', abstract: ABSTRACT }, '2025-09-01');
    (e.paper as Record<string, unknown>).upvotes = '12';
    e.numComments = null;
    (e.paper as Record<string, unknown>).authors = [{ name: 'Real Person' }, 'a string', { name: '' }, null];
    const p = paperFromApiEntry(e);
    expect(p.upvotes).toBe(0);
    expect(p.comments).toBe(0);
    expect(p.authors).toEqual(['Real Person']);
  });
});

describe('papersFromApiResponse and readApiFile', () => {
  it('skips bad entries and counts each with where and why; keeps the rest', () => {
    const good = newEntry({ id: '2509.00010', title: 'Good', abstract: ABSTRACT }, '2025-09-01');
    const noTitle = newEntry({ id: '2509.00011', title: 'x', abstract: ABSTRACT }, '2025-09-01');
    delete noTitle.title;
    delete (noTitle.paper as Record<string, unknown>).title;
    const noAbstract = newEntry({ id: '2509.00012', title: 'No abstract', abstract: '' }, '2025-09-01');
    const repr = "{'paper': {'id': '2412.00001', 'title': 'Python repr', 'summary': 'x'}, 'publishedAt': None}";
    const batch = papersFromApiResponse('day.json', [good, noTitle, repr, noAbstract, 17], '2025-09-01');
    expect(batch.papers.map((p) => p.id)).toEqual(['2509.00010']);
    expect(batch.day).toBe('2025-09-01');
    expect(batch.skipped).toEqual([
      { where: 'day.json entry 2', reason: 'paper 2509.00011 has no title' },
      { where: 'day.json entry 3', reason: expect.stringMatching(/string, not an object/) },
      { where: 'day.json entry 4', reason: 'paper 2509.00012 has no abstract' },
      { where: 'day.json entry 5', reason: 'entry is not an object' },
    ]);
  });

  it('accepts the historical {status, date, count, data:[...]} wrapper', () => {
    const wrapped = {
      status: 'ok',
      date: '2025-01-10',
      count: 2,
      data: [
        newEntry({ id: '2501.00001', title: 'Wrapped one', abstract: ABSTRACT }, '2025-01-10'),
        newEntry({ id: '2501.00002', title: 'Wrapped two', abstract: ABSTRACT }, '2025-01-10'),
      ],
    };
    const batch = papersFromApiResponse('wrapped.json', wrapped, '2025-01-10');
    expect(batch.papers.map((p) => p.id)).toEqual(['2501.00001', '2501.00002']);
    expect(() => papersFromApiResponse('x.json', { error: 'nope' })).toThrow(SourceFileError);
    expect(() => papersFromApiResponse('x.json', 'text')).toThrow(/x\.json: is not a Daily Papers API response/);
  });

  it('reads a day file: the day comes from the file name, even against submittedOnDailyAt', async () => {
    const e = newEntry({ id: '2509.00020', title: 'Named', abstract: ABSTRACT }, '2025-09-04');
    await writeDays(work, { '2025-09-08': [e] });
    const batch = await readApiFile(path.join(work, '2025-09-08.json'));
    expect(batch.day).toBe('2025-09-08');
    expect(batch.papers[0]!.date).toBe('2025-09-08');
  });

  it('a file not named after a day uses submittedOnDailyAt, and skips old-shape entries that have no date', async () => {
    const file = path.join(work, 'export.json');
    await writeFile(
      file,
      JSON.stringify([
        newEntry({ id: '2509.00021', title: 'Has date', abstract: ABSTRACT }, '2025-09-04'),
        oldEntry({ id: '2406.00022', title: 'No date', abstract: ABSTRACT }),
      ]),
    );
    const batch = await readApiFile(file);
    expect(batch.day).toBeUndefined();
    expect(batch.papers.map((p) => [p.id, p.date])).toEqual([['2509.00021', '2025-09-04']]);
    expect(batch.skipped).toHaveLength(1);
    expect(batch.skipped[0]!.reason).toMatch(/2406\.00022 has no digest date/);
  });

  it('malformed JSON is a SourceFileError that names the file', async () => {
    const file = path.join(work, '2025-09-09.json');
    await writeFile(file, '[{"paper": {"id": "2509.1"');
    const err = await readApiFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceFileError);
    expect((err as SourceFileError).file).toBe(file);
    expect((err as Error).message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not valid JSON`),
    );
    const missing = await readApiFile(path.join(work, 'nope.json')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SourceFileError);
    expect((missing as Error).message).toMatch(/nope\.json: cannot be read \(ENOENT\)/);
  });

  it('lists only YYYY-MM-DD.json day files of a folder, in date order', async () => {
    const e = (id: string) => newEntry({ id, title: `P ${id}`, abstract: ABSTRACT }, '2025-09-01');
    await writeDays(work, { '2025-09-10': [e('2509.00031')], '2025-09-02': [e('2509.00032')] });
    await writeFile(path.join(work, 'README.md'), '# not a day');
    await writeFile(path.join(work, 'LICENSE.source-repo.txt'), 'Apache');
    await writeFile(path.join(work, '2025-09-03.json.bak'), 'garbage');
    await writeFile(path.join(work, 'notes.json'), '{}');
    await writeFile(path.join(work, '2025-9-4.json'), '[]');
    expect(await listApiFiles(work)).toEqual([path.join(work, '2025-09-02.json'), path.join(work, '2025-09-10.json')]);
    // A single file is returned as is, whatever its name.
    expect(await listApiFiles(path.join(work, 'notes.json'))).toEqual([path.join(work, 'notes.json')]);
    await expect(listApiFiles(path.join(work, 'absent'))).rejects.toThrow(SourceFileError);
    const empty = await mkdtemp(path.join(tmpdir(), 'sources-empty-'));
    try {
      await expect(listApiFiles(empty)).rejects.toThrow(/holds no YYYY-MM-DD\.json day files/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('titleId, isArxivId, paperUrl', () => {
  it('titleId is stable under whitespace and case, and differs between titles', () => {
    const a = titleId('Scaling  Laws for\nSynthetic Things');
    expect(a).toMatch(/^title-[0-9a-f]{12}$/);
    expect(titleId('  scaling laws for synthetic things ')).toBe(a);
    expect(titleId('Scaling Laws for Synthetic Thing')).not.toBe(a);
    expect(a).toBe(titleId('Scaling Laws for Synthetic Things')); // same process, same value: a pure function
  });

  it('recognizes arXiv ids and links accordingly', () => {
    expect(isArxivId('2509.01234')).toBe(true);
    expect(isArxivId('1706.03762v5')).toBe(true);
    expect(isArxivId('hep-th/9901001')).toBe(true);
    expect(isArxivId(titleId('x'))).toBe(false);
    expect(paperUrl({ id: '2509.01234', title: 'T' })).toBe('https://huggingface.co/papers/2509.01234');
    expect(paperUrl({ id: titleId('A & B'), title: 'A & B' })).toBe('https://huggingface.co/papers?q=A%20%26%20B');
  });
});

// ---------------------------------------------------------------------------------------------------------------

const PARA = (topic: string) =>
  `This synthetic abstract describes ${topic} in enough words to look like real prose. It has several sentences, ` +
  `a claim about results, and a closing remark. The experiments cover three settings and two baselines, and the ` +
  `method improves all of them by a clear margin.`;

const PAGE = [
  'new',
  'Get trending papers in your email inbox!',
  'Subscribe',
  'Daily Papers',
  'byAK and the research community',
  'Jul 29',
  'First  Synthetic   Paper',
  PARA('first topic'),
  'Second Paper: With a Colon Inside',
  // A hard-wrapped abstract over three lines.
  PARA('second topic').replace(/, /g, ',\n'),
  'Third Paper Has Two Paragraphs',
  PARA('third topic, paragraph one'),
  PARA('third topic, paragraph two'),
  'Fourth Paper',
  PARA('fourth topic'),
].join('\n\n');

describe('papersFromPageText', () => {
  it('parses a copied page: header lines skipped, date line read, title + abstract pairs', () => {
    const batch = papersFromPageText('page.txt', PAGE, { today: '2025-08-15' });
    expect(batch.day).toBe('2025-07-29');
    expect(batch.skipped).toEqual([]);
    expect(batch.papers.map((p) => p.title)).toEqual([
      'First Synthetic Paper',
      'Second Paper: With a Colon Inside',
      'Third Paper Has Two Paragraphs',
      'Fourth Paper',
    ]);
    for (const p of batch.papers) {
      expect(p.date).toBe('2025-07-29');
      expect(p.id).toBe(titleId(p.title));
      expect(p).toMatchObject({ authors: [], upvotes: 0, comments: 0 });
    }
    expect(batch.papers[0]!.abstract).toBe(PARA('first topic'));
    expect(batch.papers[1]!.abstract).toBe(PARA('second topic')); // hard wraps collapsed
    expect(batch.papers[2]!.abstract).toBe(
      `${PARA('third topic, paragraph one')}\n\n${PARA('third topic, paragraph two')}`,
    );
    expect(batch.papers[3]!.abstract).toBe(PARA('fourth topic'));
  });

  it('handles CRLF line endings the same way', () => {
    const crlf = papersFromPageText('page.txt', PAGE.replace(/\n/g, '\r\n'), { today: '2025-08-15' });
    const lf = papersFromPageText('page.txt', PAGE, { today: '2025-08-15' });
    expect(crlf.papers).toEqual(lf.papers);
  });

  it('a date given by the caller overrides the page date line; the date line has no year', () => {
    expect(papersFromPageText('p', PAGE, { date: '2025-01-02', today: '2025-08-15' }).papers[0]!.date).toBe(
      '2025-01-02',
    );
    // "Jul 29" read in the spring is last year's July.
    expect(papersFromPageText('p', PAGE, { today: '2025-03-01' }).day).toBe('2024-07-29');
    expect(parsePageDate('Jul 29, 2023', '2025-01-01')).toBe('2023-07-29');
    expect(parsePageDate('2025-07-29', '2025-01-01')).toBe('2025-07-29');
    expect(parsePageDate('September 3', '2025-09-03')).toBe('2025-09-03');
    expect(parsePageDate('Daily Papers', '2025-09-03')).toBeUndefined();
  });

  it('titles ending in "?" or "!" are papers too (not silently dropped)', () => {
    const text = [
      'Jul 29',
      'Can Synthetic Models Answer Questions?',
      PARA('a question'),
      'Attention Is Not Enough!',
      PARA('an exclamation'),
      'Plain Title',
      PARA('a plain title'),
    ].join('\n\n');
    const batch = papersFromPageText('p', text, { today: '2025-08-15' });
    expect(batch.papers.map((p) => p.title)).toEqual([
      'Can Synthetic Models Answer Questions?',
      'Attention Is Not Enough!',
      'Plain Title',
    ]);
  });

  it('keeps a short last paragraph of a multi-paragraph abstract (e.g. a code link) or reports it', () => {
    const text = [
      'Jul 29',
      'Paper With a Code Link',
      PARA('code link'),
      'Code and data are available at https://example.org/code.',
      'Next Paper',
      PARA('next'),
    ].join('\n\n');
    const batch = papersFromPageText('p', text, { today: '2025-08-15' });
    expect(batch.papers.map((p) => p.title)).toEqual(['Paper With a Code Link', 'Next Paper']);
    const first = batch.papers[0]!;
    const kept = first.abstract.includes('https://example.org/code');
    expect(kept || batch.skipped.some((s) => s.where.includes('Code and data'))).toBe(true);
  });

  it('a paper whose abstract is short (under 200 characters) is kept or reported, never dropped silently', () => {
    const text = [
      'Jul 29',
      'Good Paper',
      PARA('good'),
      'Terse Paper',
      'We show that a short abstract exists. It works.',
      'Last Paper',
      PARA('last'),
    ].join('\n\n');
    const batch = papersFromPageText('p.txt', text, { today: '2025-08-15' });
    const titles = batch.papers.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Good Paper', 'Last Paper']));
    expect(titles.includes('Terse Paper') || batch.skipped.some((s) => s.where.includes('Terse Paper'))).toBe(true);
  });

  it('a title with no abstract after it is skipped and reported', () => {
    const text = ['Jul 29', 'Good Paper', PARA('good'), 'Orphan Title', 'Another Good Paper', PARA('another')].join(
      '\n\n',
    );
    const batch = papersFromPageText('p.txt', text, { today: '2025-08-15' });
    expect(batch.papers.map((p) => p.title)).toEqual(['Good Paper', 'Another Good Paper']);
    expect(batch.skipped).toEqual([
      { where: 'p.txt: "Orphan Title"', reason: 'a title line with no abstract after it' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const haveShared = existsSync(SHARED_API) && existsSync(SHARED_PAGE);

describe.skipIf(!haveShared)(
  haveShared ? 'the shared corpus' : `the shared corpus (skipped: ${SHARED_API} or ${SHARED_PAGE} not found)`,
  () => {
    it('the real page.txt yields 74 papers whose titles are exactly the page title lines', () => {
      const text = readFileSync(SHARED_PAGE, 'utf8');
      // Independently of the parser: after the six header blocks, the page alternates title, abstract.
      const blocks = text
        .split(/\n\s*\n/)
        .map((b) => b.trim())
        .filter(Boolean);
      const header = blocks.slice(0, 6);
      expect(header[5]).toBe('Jul 29');
      const titleLines = blocks
        .slice(6)
        .filter((_, i) => i % 2 === 0)
        .map((t) => t.replace(/\s+/g, ' '));
      expect(titleLines).toHaveLength(74);

      const batch = papersFromPageText(SHARED_PAGE, text, { today: '2025-08-01' });
      expect(batch.day).toBe('2025-07-29');
      expect(batch.papers.map((p) => p.title)).toEqual(titleLines);
      expect(new Set(batch.papers.map((p) => p.id)).size).toBe(74);
      expect(batch.papers.every((p) => p.abstract.length >= 200 && p.date === '2025-07-29')).toBe(true);
    });

    it('the real api folder yields 5,412 entries, 5,408 unique ids, every entry dated by its file', async () => {
      const files = await listApiFiles(SHARED_API);
      expect(files).toHaveLength(256);
      let entries = 0;
      const ids = new Set<string>();
      for (const f of files) {
        const b = await readApiFile(f);
        entries += b.papers.length + b.skipped.length;
        expect(b.skipped).toEqual([]);
        for (const p of b.papers) {
          ids.add(p.id);
          expect(p.date).toBe(b.day);
          expect(p.title).not.toMatch(/\s{2}|\n/);
          expect(p.abstract).not.toMatch(/[^\n]\n[^\n]/); // no hard wraps left
        }
      }
      expect(entries).toBe(5412);
      expect(ids.size).toBe(5408);
    });
  },
);
