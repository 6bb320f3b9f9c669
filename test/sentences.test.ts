import { describe, expect, it } from 'vitest';
import { firstSentences, splitSentences, summaryLine } from '../src/sentences.ts';

describe('splitSentences', () => {
  it('keeps decimals and sizes inside their sentence', () => {
    expect(splitSentences('We train a 3.8B model. It reaches 72.6% on MMLU, up 2.5x.')).toEqual([
      'We train a 3.8B model.',
      'It reaches 72.6% on MMLU, up 2.5x.',
    ]);
  });

  it('does not end a sentence at e.g., i.e., et al., vs., Fig. or an initial', () => {
    expect(
      splitSentences(
        'Prior work (e.g. Smith et al. 2024) fails. Accuracy is 72.6% (vs. 70.1%) in Fig. 3. J. Doe agrees.',
      ),
    ).toEqual([
      'Prior work (e.g. Smith et al. 2024) fails.',
      'Accuracy is 72.6% (vs. 70.1%) in Fig. 3.',
      'J. Doe agrees.',
    ]);
    expect(splitSentences('It holds, i.e. Always. Then more.')).toEqual(['It holds, i.e. Always.', 'Then more.']);
  });

  it('handles unicode, quotes and other scripts', () => {
    expect(splitSentences('Café models “work.” Next one! 日本語の文。次の文。')).toEqual([
      'Café models “work.”',
      'Next one!',
      '日本語の文。',
      '次の文。',
    ]);
  });

  it('ends a sentence at a paragraph break, and copes with text without any stop', () => {
    expect(splitSentences('First paragraph without a stop\n\nSecond one.')).toEqual([
      'First paragraph without a stop',
      'Second one.',
    ]);
    expect(splitSentences('   ')).toEqual([]);
  });
});

describe('firstSentences', () => {
  it('keeps whole sentences up to the limit and never garbles decimals', () => {
    expect(firstSentences('We train a 3.8B model. It is fast. It is small too.', 40)).toBe(
      'We train a 3.8B model. It is fast.',
    );
    expect(firstSentences('We train a 3.8B model.', 5)).toBe('We train a 3.8B model.');
  });
});

describe('summaryLine', () => {
  it('prefers what the paper does over the background', () => {
    const abstract =
      'Large language models have shown remarkable abilities. However, existing methods are slow. We propose FastLM, which decodes 3.1x faster. Code is released.';
    expect(summaryLine(abstract)).toBe('We propose FastLM, which decodes 3.1x faster.');
  });
});
