// Token ids by js-tiktoken, the reference llmhost's tokenizer is checked against: for each text
// of corpus.json and for generated texts, its ids under o200k_base and cl100k_base, as JSON
//   [{"text": ..., "o200k_base": [...], "cl100k_base": [...]}, ...]
// on standard output. Run by run.sh.  usage: node reference.mjs corpus.json
// (Runs of one character stay near 1,000: js-tiktoken merges in quadratic time.)
import { readFileSync } from 'node:fs';
import { getEncoding } from 'js-tiktoken';

const corpus = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Generated texts mix scripts, marks, emoji, digits and whitespace at random, with a fixed seed
// so that a failure is reproducible. Code points are drawn from blocks assigned in Unicode 14
// (what PCRE2 10.42 knows), and leave out U+0085 and U+FEFF, the two characters JavaScript's
// \s and Unicode's White_Space (tiktoken's, and PCRE2's) disagree on.
let seed = 0x11a7;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const pools = [
  [0x20, 0x7e], [0x20, 0x20], [0x0a, 0x0a], [0x09, 0x0d], [0xa0, 0xa0], [0x3000, 0x3000],
  [0xc0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x591, 0x5f4], [0x600, 0x6ff], [0x660, 0x669],
  [0x900, 0x97f], [0xe01, 0xe5b], [0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5],
  [0xac00, 0xd7a3], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x200d, 0x200d], [0xfe0f, 0xfe0f],
  [0x2019, 0x2019], [0x27, 0x27], [0x300, 0x36f], [0xff01, 0xff5e],
];
const generated = [];
for (let i = 0; i < 300; ++i) {
  const length = Math.floor(random() * 120);
  let text = '';
  for (let j = 0; j < length; ++j) {
    const [lo, hi] = pick(pools);
    text += String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
  }
  generated.push(text);
}

const encodings = ['o200k_base', 'cl100k_base'].map((name) => [name, getEncoding(name)]);
const out = [...corpus, ...generated].map((text) => {
  const entry = { text };
  // No special tokens: "<|endoftext|>" in a prompt is text, as the host counts it.
  for (const [name, encoding] of encodings) entry[name] = encoding.encode(text, [], []);
  return entry;
});
process.stdout.write(JSON.stringify(out));
