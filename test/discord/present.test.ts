/** The pure parts of the bot: escaping, splitting within Discord's limits, presenters, custom ids, cooldown, logs. */
import { describe, expect, it, vi } from 'vitest';
import type { Answer } from '../../src/answer/types.ts';
import { checkBotConfig } from '../../src/discord/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { Cooldown } from '../../src/discord/cooldown.ts';
import { escapeText, linkUrl, maskedLink, stripReasoning, truncate } from '../../src/discord/escape.ts';
import { createLogger, redact } from '../../src/log.ts';
import { pageButtons, parsePageId } from '../../src/discord/paginate.ts';
import { answerMessages, renderAnswerText } from '../../src/discord/present.ts';
import { firstSentences } from '../../src/sentences.ts';
import { atomSpans, buildEmbeds, embedLength, LIMITS, packMessages, splitText } from '../../src/discord/split.ts';
import type { Paper } from '../../src/types.ts';

const paper = (id: string, title = `Paper ${id}`): Paper => ({
  id,
  date: '2025-03-03',
  title,
  abstract: 'An abstract.',
  authors: ['A'],
  upvotes: 1,
  comments: 0,
});

function answer(text: string, n: number, extra: Partial<Answer> = {}): Answer {
  return {
    question: 'q?',
    outcome: 'answer',
    abstained: false,
    text,
    citations: Array.from({ length: n }, (_, k) => ({
      n: k + 1,
      paper: paper(`2501.0000${k}`),
      url: `https://huggingface.co/papers/2501.0000${k}`,
    })),
    retrieved: [],
    closest: [],
    answerer: 'extractive',
    searched: 10,
    ...extra,
  };
}

describe('escaping', () => {
  it('makes markdown, mentions, tags and links inert', () => {
    const s = escapeText(
      '**bold** _it_ `code` ||spoiler|| <@123456789012345678> <#1> <t:1:R> @everyone @here [x](https://e.x) # head',
    );
    expect(s).toBe(
      '\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\|\\|spoiler\\|\\| \\<@123456789012345678> \\<#1> \\<t:1:R> @\u200beveryone @\u200bhere \\[x\\](https://e.x) # head',
    );
    expect(escapeText('# Title\n- item\n> quote\n-# small')).toBe('\\# Title\n\\- item\n\\> quote\n\\-# small');
    expect(escapeText('- item\n1. first', { keepLists: true })).toBe('- item\n1. first');
    // A backslash in the text stays a visible backslash and cannot escape our escapes.
    expect(escapeText('a\\<b')).toBe('a\\\\\\<b');
  });

  it('strips model reasoning, closed or cut off', () => {
    expect(stripReasoning('<think>plan [1]</think>Answer [1].')).toBe('Answer [1].');
    expect(stripReasoning('Answer.<thinking>\nmore')).toBe('Answer.');
    expect(stripReasoning('stray</think> end')).toBe('stray end');
  });

  it('keeps masked links well formed', () => {
    expect(linkUrl('https://hf.co/papers?q=a (b)')).toBe('https://hf.co/papers?q=a%20%28b%29');
    expect(maskedLink('Title [v2] (draft)', 'https://x.y/(a)')).toBe('[Title \\[v2\\] (draft)](https://x.y/%28a%29)');
    expect(truncate('one two three four', 10)).toBe('one two…');
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abc\\*def', 5).endsWith('\\…')).toBe(false);
  });
});

describe('splitting within limits', () => {
  it('cuts at paragraph, line, sentence, then word boundaries', () => {
    expect(splitText('aaaa bbbb\n\ncccc dddd', 12)).toEqual(['aaaa bbbb', 'cccc dddd']);
    expect(splitText('One two. Three four five.', 15)).toEqual(['One two.', 'Three four', 'five.']);
  });

  it('never cuts inside a citation link, masked link, URL or escape', () => {
    const link = '[[12]](https://huggingface.co/papers/2501.00012)';
    const text = `${'word '.repeat(8)}${link} ${'tail '.repeat(5)}`;
    for (let max = link.length; max < text.length; max += 3) {
      const parts = splitText(text, max);
      for (const p of parts) expect(p.length).toBeLessThanOrEqual(max);
      expect(parts.join(' ')).toContain(link);
    }
    const escaped = `${'x'.repeat(9)}\\*${'y'.repeat(9)}`;
    for (const p of splitText(escaped, 10)) expect(p.endsWith('\\')).toBe(false);
    expect(atomSpans('a [1] b [t](u) https://x.y \\*')).toEqual([
      [2, 5],
      [8, 14],
      [15, 26],
      [27, 29],
    ]);
  });

  it('builds embeds and packs messages within 4096 / 1024 / 25 fields / 6000 / 10 embeds', () => {
    const lines = Array.from(
      { length: 80 },
      (_, k) =>
        `**[${k + 1}]** [A fairly long paper title number ${k + 1}](https://huggingface.co/papers/2501.${String(k).padStart(5, '0')}) · 2025-03-03`,
    );
    const embeds = buildEmbeds({
      title: 'T'.repeat(300),
      description: 'word '.repeat(3000),
      sections: [{ name: 'Sources', lines }],
      footer: 'f',
    });
    expect(embeds[0]!.title!.length).toBe(LIMITS.title);
    for (const e of embeds) {
      expect(e.description?.length ?? 0).toBeLessThanOrEqual(LIMITS.description);
      expect(e.fields?.length ?? 0).toBeLessThanOrEqual(LIMITS.fields);
      for (const f of e.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
      expect(embedLength(e)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    }
    expect(embeds.at(-1)!.footer).toEqual({ text: 'f' });
    const all = embeds
      .flatMap((e) => e.fields ?? [])
      .map((f) => f.value)
      .join('\n');
    for (const l of lines) expect(all).toContain(l); // every source line whole
    const messages = packMessages([...embeds, ...embeds, ...embeds]);
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(LIMITS.embedsPerMessage);
      expect(m.reduce((n, e) => n + embedLength(e), 0)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    }
    expect(messages.flat()).toHaveLength(embeds.length * 3);
  });
});

describe('presenting answers', () => {
  it('links every [n] to its paper and lists the sources', () => {
    const a = answer('Drafting helps [1]. Both agree [1, 2]; unknown [7].', 2);
    expect(renderAnswerText(a)).toBe(
      'Drafting helps [[1]](https://huggingface.co/papers/2501.00000). Both agree ' +
        '[[1]](https://huggingface.co/papers/2501.00000)[[2]](https://huggingface.co/papers/2501.00001); unknown \\[7\\].',
    );
    const [first] = answerMessages(a, { since: '2025-03-01', until: '2025-03-07' });
    const e = first![0]!;
    expect(e.fields![0]!.name).toBe('Sources');
    expect(e.fields![0]!.value.split('\n')[1]).toMatch(
      /^\*\*\[2\]\*\* \[Paper 2501\.00001\]\(https:\/\/huggingface\.co\/papers\/2501\.00001\) · 2025-03-03 · ▲ 1 · \[arXiv\]/,
    );
    expect(e.footer!.text).toBe('Searched 10 papers · 2025-03-01 to 2025-03-07 · answered by extractive');
  });

  it('shows a closest outcome plainly as no answer, with one line per paper and no citation', () => {
    const a = answer('No paper in the digest answers this directly; the closest are:', 0, {
      outcome: 'closest',
      abstained: true,
      closest: [{ paper: paper('2501.00009', 'Near miss'), line: 'A sampler that skips 3.5 steps.' }],
      note: 'The model timed out; extractive shown.',
    });
    const e = answerMessages(a)[0]![0]!;
    expect(e.title).toBe('No direct answer: q?');
    expect(e.description).toBe(
      'No paper in the digest answers this directly; the closest are:\n\n*The model timed out; extractive shown.*',
    );
    expect(e.fields).toEqual([
      {
        name: 'Closest papers (not an answer)',
        value:
          '**1.** [Near miss](https://huggingface.co/papers/2501.00009) · 2025-03-03\nA sampler that skips 3.5 steps.',
      },
    ]);
  });

  it('shows a none outcome as nothing related, without sources', () => {
    const a = answer('Nothing in the digest is related to this.', 0, { outcome: 'none', abstained: true });
    const e = answerMessages(a)[0]![0]!;
    expect(e.title).toBe('Nothing related in the digest: q?');
    expect(e.fields ?? []).toEqual([]);
  });

  it('escapes model output but keeps its lists, and drops its reasoning', () => {
    const a = answer('<think>I should cite [2]</think>- **Drafting** @everyone [1]\n- <@1> second [1]', 1);
    expect(renderAnswerText(a)).toBe(
      '- \\*\\*Drafting\\*\\* @\u200beveryone [[1]](https://huggingface.co/papers/2501.00000)\n- \\<@1> second [[1]](https://huggingface.co/papers/2501.00000)',
    );
  });

  it('takes the first sentences of an abstract', () => {
    expect(firstSentences('One is short. Two is a bit longer. Three.', 20)).toBe('One is short.');
    expect(firstSentences('No full stop at all', 5)).toBe('No full stop at all');
  });
});

describe('pagination ids', () => {
  it('carry command, target page, owner and arguments, within 100 characters', () => {
    const [row] = pageButtons('search', { page: 0, pages: 3, owner: '123456789012345678', args: ['2025-03-01', ''] });
    const [prev, next] = row!.toJSON().components as { custom_id: string; disabled: boolean }[];
    expect(prev).toMatchObject({ custom_id: 'search:prev:0:123456789012345678:2025-03-01:', disabled: true });
    expect(next).toMatchObject({ custom_id: 'search:next:1:123456789012345678:2025-03-01:', disabled: false });
    expect(parsePageId(next!.custom_id)).toEqual({
      command: 'search',
      page: 1,
      owner: '123456789012345678',
      args: ['2025-03-01', ''],
    });
    expect(parsePageId('similar:next:2:1:title-abc%3Adef')).toMatchObject({ args: ['title-abc:def'] });
    expect(parsePageId('search:jump:1:1')).toBeUndefined();
    expect(pageButtons('digest', { page: 0, pages: 1, owner: '1', args: [] })).toEqual([]);
    expect(() => pageButtons('x', { page: 0, pages: 2, owner: '1', args: ['y'.repeat(100)] })).toThrow(
      /custom_id too long/,
    );
  });
});

describe('cooldown', () => {
  it('lets a user ask once per window and reports the wait', () => {
    let now = 0;
    const c = new Cooldown(10, () => now);
    expect(c.take('a')).toBe(0);
    now = 4000;
    expect(c.take('a')).toBe(6000);
    expect(c.take('b')).toBe(0);
    now = 10_000;
    expect(c.take('a')).toBe(0);
    expect(new Cooldown(0).take('a')).toBe(0);
  });
});

describe('logging', () => {
  it('writes one JSON object a line and never the token or interaction tokens', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), secrets: ['super-secret-token'] });
    log.error('handler_error', {
      error: 'failed with super-secret-token',
      url: 'https://discord.com/api/v10/webhooks/123/aW50ZXJhY3Rpb246abc/messages/@original',
    });
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed).toMatchObject({
      level: 'error',
      event: 'handler_error',
      error: 'failed with [redacted]',
      url: 'https://discord.com/api/v10/webhooks/123/[redacted]/messages/@original',
    });
    expect(redact('token MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789 end')).toBe(
      'token [redacted] end',
    );
  });
});

describe('serve configuration', () => {
  it('`cli serve` fails with a clear message and exit code 1 when the Discord settings are missing', async () => {
    const { main } = await import('../../src/cli.ts');
    vi.stubEnv('DISCORD_TOKEN', '');
    vi.stubEnv('DISCORD_APPLICATION_ID', '');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'cli', '--data-dir', '/nonexistent/never-created', 'serve'])).toBe(1);
      expect(String(err.mock.calls[0]?.[0])).toMatch(
        /^error: serve needs DISCORD_TOKEN \(the bot token\) and DISCORD_APPLICATION_ID \(the application id\)\. /,
      );
    } finally {
      err.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it('names exactly the missing settings', () => {
    expect(() => checkBotConfig(loadConfig({ DISCORD_TOKEN: 't' }))).toThrow(
      /^serve needs DISCORD_APPLICATION_ID \(the application id\)\./,
    );
    expect(() => checkBotConfig(loadConfig({ DISCORD_APPLICATION_ID: '123456789012345678' }))).toThrow(
      /^serve needs DISCORD_TOKEN \(the bot token\)\./,
    );
    expect(() =>
      checkBotConfig(loadConfig({ DISCORD_TOKEN: 't', DISCORD_APPLICATION_ID: '123456789012345678' })),
    ).not.toThrow();
  });
});
