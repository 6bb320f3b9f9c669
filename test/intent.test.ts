import { dayIn } from '../src/dates.ts';
import { describe, expect, it } from 'vitest';
import { isMetadataOnly, parseIntent } from '../src/answer/intent.ts';

// Friday 2026-08-21, 23:30 UTC: already Saturday in Tokyo, still Friday in Los Angeles.
const now = new Date('2026-08-21T23:30:00Z');

describe('parseIntent', () => {
  it('resolves "today" in the configured time zone', () => {
    expect(dayIn('Asia/Tokyo', now)).toBe('2026-08-22');
    expect(dayIn('America/Los_Angeles', now)).toBe('2026-08-21');
    expect(parseIntent("what's new today?", 'Asia/Tokyo', now).range).toEqual({
      since: '2026-08-22',
      until: '2026-08-22',
    });
    expect(parseIntent("what's new today?", 'America/Los_Angeles', now).range).toEqual({
      since: '2026-08-21',
      until: '2026-08-21',
    });
  });

  it('reads yesterday, this week (from Monday), last week, a date, a month-day and a range', () => {
    const tz = 'UTC';
    expect(parseIntent('papers from yesterday', tz, now).range).toEqual({ since: '2026-08-20', until: '2026-08-20' });
    expect(parseIntent('top papers this week', tz, now).range).toEqual({ since: '2026-08-17', until: '2026-08-21' });
    expect(parseIntent('most upvoted last week', tz, now).range).toEqual({ since: '2026-08-10', until: '2026-08-16' });
    expect(parseIntent('papers from 2026-08-19 about agents', tz, now).range).toEqual({
      since: '2026-08-19',
      until: '2026-08-19',
    });
    expect(parseIntent('papers on Aug 18 about diffusion', tz, now).range).toEqual({
      since: '2026-08-18',
      until: '2026-08-18',
    });
    expect(parseIntent('anything 2026-08-01 to 2026-08-05?', tz, now).range).toEqual({
      since: '2026-08-01',
      until: '2026-08-05',
    });
    // A month-day later than today means last year.
    expect(parseIntent('papers on Dec 24', tz, now).range).toEqual({ since: '2025-12-24', until: '2025-12-24' });
  });

  it('reads months the way people say them, and keeps "may" the verb out of it', () => {
    const tz = 'UTC';
    expect(parseIntent('agent papers from August 2026', tz, now).range).toEqual({
      since: '2026-08-01',
      until: '2026-08-31',
    });
    expect(parseIntent('what came out in May about robots?', tz, now).range).toEqual({
      since: '2026-05-01',
      until: '2026-05-31',
    });
    // A month after the current one is last year's.
    expect(parseIntent('diffusion papers in December', tz, now).range).toEqual({
      since: '2025-12-01',
      until: '2025-12-31',
    });
    expect(parseIntent('top papers last month', tz, now).range).toEqual({ since: '2026-07-01', until: '2026-07-31' });
    expect(parseIntent('anything on world models since June?', tz, now).range).toEqual({
      since: '2026-06-01',
      until: '2026-08-21',
    });
    expect(parseIntent('papers in the past 2 weeks', tz, now).range).toEqual({
      since: '2026-08-08',
      until: '2026-08-21',
    });
    expect(parseIntent('what may help LLM decoding?', tz, now).range).toBeUndefined();
    expect(parseIntent('video models from 2025', tz, now).range).toEqual({ since: '2025-01-01', until: '2025-12-31' });
    const january = parseIntent('top papers last month', tz, new Date('2026-01-15T12:00:00Z'));
    expect(january.range).toEqual({ since: '2025-12-01', until: '2025-12-31' });
    expect(isMetadataOnly(parseIntent('top papers since June', tz, now))).toBe(true);
  });

  it('tells metadata-only questions from topical ones', () => {
    const tz = 'UTC';
    expect(isMetadataOnly(parseIntent("what's new today?", tz, now))).toBe(true);
    expect(isMetadataOnly(parseIntent('top papers this week', tz, now))).toBe(true);
    const code = parseIntent('which papers have code?', tz, now);
    expect(code.withCode).toBe(true);
    expect(isMetadataOnly(code)).toBe(true);
    const topical = parseIntent('papers from 2026-08-19 about speculative decoding', tz, now);
    expect(isMetadataOnly(topical)).toBe(false);
    expect(topical.topic).toMatch(/speculative decoding/);
    const plain = parseIntent('how does speculative decoding scale?', tz, now);
    expect(plain.range).toBeUndefined();
    expect(plain.top).toBe(false);
    expect(isMetadataOnly(plain)).toBe(false);
  });

  it('does not read an invalid date as a range', () => {
    expect(parseIntent('papers from 2026-02-30', 'UTC', now).range).toBeUndefined();
  });
});
