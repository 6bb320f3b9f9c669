import { describe, expect, it } from 'vitest';
import { comparisonSides } from '../src/answer/asker.ts';
import { calibrationFor, LEXICAL_FALLBACK } from '../src/answer/calibration.ts';
import { definitionTarget } from '../src/answer/extractive.ts';
import { parseFollowUp, RecentAnswers } from '../src/answer/follow-up.ts';
import { cleanQuestion, contentTerms } from '../src/answer/question.ts';

describe('cleanQuestion and contentTerms', () => {
  it('drops mentions, custom emoji, links, markdown, code calls and invisible or bidi characters', () => {
    expect(cleanQuestion('<@123456789012345678> **what is** `RLHF`? <:pepe:123> https://x.y/z')).toBe('what is RLHF ?');
    expect(cleanQuestion('\u202eevil\u202c text\u0000 \u200b')).toBe('evil text');
    expect(cleanQuestion('www.google.com')).toBe('');
    expect(cleanQuestion("print('hello world')")).toBe('');
    expect(cleanQuestion('a\ud800b')).toBe('ab'); // a lone surrogate
  });

  it('keeps only words that carry a topic', () => {
    expect(contentTerms('OR b')).toEqual([]);
    expect(contentTerms('42 2401.12345 ?')).toEqual([]);
    expect(contentTerms('thanks bot, really helpful')).toEqual([]);
    expect(contentTerms('which papers make LLM decoding faster?')).toEqual(['llm', 'decoding', 'faster']);
  });
});

describe('parseFollowUp', () => {
  it('reads references to the previous answer', () => {
    expect(parseFollowUp('which of these have code?')).toEqual({ kind: 'code' });
    expect(parseFollowUp('do those papers have code')).toEqual({ kind: 'code' });
    expect(parseFollowUp('tell me more about the second one')).toEqual({ kind: 'pick', index: 1 });
    expect(parseFollowUp('what about the 3rd paper?')).toEqual({ kind: 'pick', index: 2 });
    expect(parseFollowUp('and the last one?')).toEqual({ kind: 'pick', index: -1 });
    expect(parseFollowUp('how do they compare?')).toEqual({ kind: 'about-these' });
    expect(parseFollowUp('tell me more')).toEqual({ kind: 'pick', index: 0 });
  });

  it('leaves questions that name their topic alone, pronouns and ordinals in them included', () => {
    expect(parseFollowUp('why do LLM agents blame the environment for their own failures?')).toBeUndefined();
    expect(parseFollowUp('second-order optimizers for LLM pretraining')).toBeUndefined();
    expect(parseFollowUp('a 3B model trained on 2 trillion tokens')).toBeUndefined();
    expect(parseFollowUp('do they make LLM decoding faster with a draft model')).toBeUndefined();
  });
});

describe('RecentAnswers', () => {
  it('forgets a conversation after its time and keeps a bounded number', () => {
    let t = 0;
    const r = new RecentAnswers<number>(1000, 2, () => t);
    r.set('a', 1);
    r.set('b', 2);
    r.set('c', 3);
    expect(r.get('a')).toBeUndefined(); // the oldest beyond the bound
    expect(r.get('c')).toBe(3);
    t = 1001;
    expect(r.get('c')).toBeUndefined();
  });
});

describe('comparisons and definitions', () => {
  it('finds the two sides of a comparison', () => {
    expect(comparisonSides('compare DPO and PPO for alignment')).toEqual(['DPO', 'PPO for alignment']);
    expect(comparisonSides('Mamba vs transformers?')).toEqual(['Mamba', 'transformers']);
    expect(comparisonSides('what is the difference between LoRA and full fine-tuning?')).toEqual([
      'LoRA',
      'full fine-tuning',
    ]);
    expect(comparisonSides('how does speculative decoding scale?')).toBeUndefined();
  });

  it('finds what a definition question asks about', () => {
    expect(definitionTarget('What is speculative decoding?')).toBe('speculative decoding');
    expect(definitionTarget("what's an LLM router")).toBe('LLM router');
    expect(definitionTarget('which papers make decoding faster?')).toBeUndefined();
  });
});

describe('calibration', () => {
  it("is keyed by the embedding model: another model gets the lexical fallback, never another model's weights", () => {
    expect(calibrationFor('static:potion-base-4M-int8').model).toBe('static:potion-base-4M-int8');
    expect(calibrationFor('static:minishlab/potion-base-8M')).toBe(LEXICAL_FALLBACK);
    expect(calibrationFor('onnx:Xenova/bge-small-en-v1.5')).toBe(LEXICAL_FALLBACK);
  });
});
