// tiktoken (npm, its Rust core compiled to WASM) counting the texts of bench/tokens/run.sh, for
// the side-by-side ratio. Prints one line per text and encoding:
//   <text> <encoding> <bytes> <tokens> <microseconds per count>
// usage: node tiktoken_wasm.mjs TEXT_DIR
import { readFileSync, readdirSync } from 'node:fs';
import { get_encoding } from 'tiktoken';

const dir = process.argv[2];
for (const name of ['o200k_base', 'cl100k_base']) {
  const enc = get_encoding(name);
  for (const file of readdirSync(dir).sort()) {
    const text = readFileSync(`${dir}/${file}`, 'utf8');
    let tokens = enc.encode_ordinary(text).length;
    // Runs for at least half a second after a warm-up, as Google Benchmark does on our side.
    for (let i = 0; i < 20; ++i) enc.encode_ordinary(text);
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 500_000_000n) {
      tokens = enc.encode_ordinary(text).length;
      ++n;
      elapsed = process.hrtime.bigint() - start;
    }
    const us = Number(elapsed) / 1000 / n;
    console.log(`${file} ${name} ${Buffer.byteLength(text)} ${tokens} ${us.toFixed(3)}`);
  }
  enc.free();
}
