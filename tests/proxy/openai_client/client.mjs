// The official `openai` Node package against a running `llmhost serve`, unchanged except for
// baseURL: a completion, a stream, text completions (plain and streamed), images (url and
// b64_json) and an image edit of a PNG file, embeddings, models.list() and APIErrors (404, 401).
// Env: LLMHOST_URL (http://127.0.0.1:PORT/v1), LLMHOST_KEY (the master key).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import OpenAI from 'openai';

const baseURL = process.env.LLMHOST_URL;
const client = new OpenAI({ baseURL, apiKey: process.env.LLMHOST_KEY, maxRetries: 0, timeout: 30_000 });
const messages = (text) => [{ role: 'user', content: text }];

// A completion through a configured model name.
const c = await client.chat.completions.create({ model: 'echo-model', messages: messages('hello from node') });
assert.equal(c.object, 'chat.completion');
assert.equal(c.choices[0].message.content, 'hello from node');
assert.equal(c.choices[0].finish_reason, 'stop');
assert.equal(c.usage.total_tokens, 6);

// A stream, chunk by chunk, with the usage chunk.
const stream = await client.chat.completions.create({
  model: 'echo/any', messages: messages('a b c'), stream: true, stream_options: { include_usage: true },
});
let text = '';
let chunks = 0;
let usage = null;
let finish = null;
for await (const chunk of stream) {
  chunks += 1;
  assert.equal(chunk.object, 'chat.completion.chunk');
  const choice = chunk.choices[0];
  if (choice?.delta?.content) text += choice.delta.content;
  if (choice?.finish_reason) finish = choice.finish_reason;
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(text, 'a b c');
assert.equal(finish, 'stop');
assert.equal(chunks, 5);  // three words, the finish chunk, the usage chunk
assert.equal(usage.total_tokens, 6);

// Text completions (the legacy completions API): a list of prompts, one choice each; and a
// stream, whose chunks carry their choice's text.
const t = await client.completions.create({ model: 'echo-model', prompt: ['first prompt', 'second'], max_tokens: 8 });
assert.equal(t.object, 'text_completion');
assert.deepEqual(t.choices.map((ch) => [ch.index, ch.text, ch.finish_reason]),
  [[0, 'first prompt', 'stop'], [1, 'second', 'stop']]);
assert.equal(t.usage.total_tokens, 6);
const ts = await client.completions.create({ model: 'echo/any', prompt: 'x y z', stream: true });
let streamed = '';
let textFinish = null;
for await (const chunk of ts) {
  assert.equal(chunk.object, 'text_completion');
  streamed += chunk.choices[0].text;
  if (chunk.choices[0].finish_reason) textFinish = chunk.choices[0].finish_reason;
}
assert.equal(streamed, 'x y z');
assert.equal(textFinish, 'stop');

// Images: echo draws 8x8 RGB PNGs from the prompt. As b64_json, and as the data: URL a url
// answer carries for an image handed over as bytes.
const pixels = (png) => {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 8);  // IHDR width
  assert.equal(png.readUInt32BE(20), 8);  // IHDR height
  const idat = png.indexOf('IDAT');
  return zlib.inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
};
const b64 = await client.images.generate({ model: 'echo/any', prompt: 'a red fox', n: 2, response_format: 'b64_json' });
assert.equal(b64.data.length, 2);
const fox = pixels(Buffer.from(b64.data[0].b64_json, 'base64'));
assert.equal(fox.length, 8 * (1 + 8 * 3));  // a filter byte and 8 RGB pixels per row
assert.notDeepEqual(fox, pixels(Buffer.from(b64.data[1].b64_json, 'base64')));
assert.equal(b64.data[0].revised_prompt, 'a red fox');
const url = await client.images.generate({ model: 'echo/any', prompt: 'a red fox', response_format: 'url' });
const prefix = 'data:image/png;base64,';
assert.ok(url.data[0].url.startsWith(prefix), url.data[0].url.slice(0, 40));
assert.deepEqual(pixels(Buffer.from(url.data[0].url.slice(prefix.length), 'base64')), fox);
const other = await client.images.generate({ model: 'echo/any', prompt: 'a blue whale', response_format: 'b64_json' });
assert.notDeepEqual(pixels(Buffer.from(other.data[0].b64_json, 'base64')), fox);

// An edit of a real PNG file, sent as multipart/form-data by the client: echo's answer depends
// on the image's bytes as well as on the prompt.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmhost-node-'));
const file = path.join(dir, 'fox.png');
fs.writeFileSync(file, Buffer.from(b64.data[0].b64_json, 'base64'));
const edited = await client.images.edit({
  model: 'echo/any', image: fs.createReadStream(file), prompt: 'a red fox', response_format: 'b64_json',
});
const editedPixels = pixels(Buffer.from(edited.data[0].b64_json, 'base64'));
assert.equal(editedPixels.length, fox.length);
assert.notDeepEqual(editedPixels, fox);
fs.rmSync(dir, { recursive: true });

// Embeddings: the client asks for base64 by default and decodes it; float must agree.
const e = await client.embeddings.create({ model: 'echo/any', input: ['one', 'two'] });
const f = await client.embeddings.create({ model: 'echo/any', input: ['one', 'two'], encoding_format: 'float' });
assert.equal(e.data.length, 2);
assert.equal(e.data[0].embedding.length, 8);
for (let i = 0; i < 2; i += 1)
  assert.deepEqual(e.data[i].embedding, f.data[i].embedding.map(Math.fround));

// models.list()
const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
assert.ok(ids.includes('echo-model'), ids.join(','));
assert.ok(ids.includes('echo/*'), ids.join(','));

// Errors arrive as APIError subclasses with the right status.
await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: messages('x') }), (err) => {
  assert.ok(err instanceof OpenAI.APIError);
  assert.ok(err instanceof OpenAI.NotFoundError);
  assert.equal(err.status, 404);
  assert.equal(err.code, 'model_not_found');
  return true;
});
const wrongKey = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
await assert.rejects(wrongKey.chat.completions.create({ model: 'echo-model', messages: messages('x') }), (err) => {
  assert.ok(err instanceof OpenAI.AuthenticationError);
  assert.equal(err.status, 401);
  return true;
});
await assert.rejects(client.chat.completions.create({ model: 'echo/any', messages: messages('x'), mock_error_status: 429 }),
  (err) => err instanceof OpenAI.RateLimitError && err.status === 429);

console.log('openai client: ok');
