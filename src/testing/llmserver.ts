// A local HTTP server that stands in for the hosted LLM APIs in tests: it speaks the Anthropic
// Messages API (POST /v1/messages) and the OpenAI chat completions API (POST /v1/chat/completions)
// in their real wire formats, plain JSON or server-sent events when the request asks to stream.
// Each request takes the next scripted turn; the bodies received are kept for assertions.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Turn =
  | { answer: unknown }
  /** Output that is not the schema (Anthropic: a tool input of the wrong shape; OpenAI: not JSON). */
  | { malformed: true }
  | { refuse: string }
  | { status: number; retryAfter?: string }
  /** Never answers (until the client gives up). */
  | { hang: true };

export interface StandIn {
  url: string;
  /** Request bodies received, in order. */
  requests: { path: string; body: Record<string, unknown> }[];
  script(...turns: Turn[]): void;
  close(): Promise<void>;
}

export async function llmStandIn(): Promise<StandIn> {
  const turns: Turn[] = [];
  const requests: StandIn['requests'] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    void body(req).then((raw) => {
      const b = JSON.parse(raw) as Record<string, unknown>;
      requests.push({ path: req.url ?? '', body: b });
      const turn = turns.shift() ?? { status: 500 };
      if ('hang' in turn) { hanging.add(res); return; }
      if ('status' in turn) {
        res.writeHead(turn.status, { 'content-type': 'application/json', ...(turn.retryAfter ? { 'retry-after': turn.retryAfter } : {}) });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
        return;
      }
      if (req.url?.endsWith('/messages')) anthropic(res, turn, b.stream === true);
      else openai(res, turn, b.stream === true);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...t) => { turns.push(...t); },
    close: () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => { s += c.toString(); });
    req.on('end', () => resolve(s));
  });
}

const USAGE = { input: 120, output: 40 };

function anthropic(res: ServerResponse, turn: Exclude<Turn, { hang: true } | { status: number }>, stream: boolean): void {
  const refusal = 'refuse' in turn;
  const content = refusal
    ? [{ type: 'text', text: turn.refuse }]
    : [{ type: 'tool_use', id: 'toolu_01', name: 'submit_diagnosis', input: 'malformed' in turn ? { cause: 'gremlins' } : turn.answer }];
  const stop = refusal ? 'refusal' : 'tool_use';
  const message = { id: 'msg_01', type: 'message', role: 'assistant', model: 'stand-in', content, stop_reason: stop, stop_sequence: null, usage: { input_tokens: USAGE.input, output_tokens: USAGE.output } };
  if (!stream) { json(res, message); return; }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const ev = (type: string, data: unknown): void => { res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`); };
  ev('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: USAGE.input, output_tokens: 1 } } });
  const block = content[0]!;
  if (block.type === 'text') {
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: (block as { text: string }).text } });
  } else {
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_01', name: 'submit_diagnosis', input: {} } });
    const j = JSON.stringify((block as { input: unknown }).input);
    const mid = Math.floor(j.length / 2);
    for (const part of [j.slice(0, mid), j.slice(mid)]) ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } });
  }
  ev('content_block_stop', { type: 'content_block_stop', index: 0 });
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: USAGE.output } });
  ev('message_stop', { type: 'message_stop' });
  res.end();
}

function openai(res: ServerResponse, turn: Exclude<Turn, { hang: true } | { status: number }>, stream: boolean): void {
  const refusal = 'refuse' in turn ? turn.refuse : null;
  const content = 'refuse' in turn ? null : 'malformed' in turn ? 'Sure! Here is the diagnosis: {"cause": ' : JSON.stringify(turn.answer);
  const usage = { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output };
  const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'stand-in' };
  if (!stream) {
    json(res, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, refusal }, finish_reason: 'stop', logprobs: null }], usage });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (delta: Record<string, unknown>, finish: string | null): void => {
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`);
  };
  chunk({ role: 'assistant', content: '' }, null);
  const text = refusal ?? content ?? '';
  const mid = Math.floor(text.length / 2);
  for (const part of [text.slice(0, mid), text.slice(mid)]) chunk(refusal !== null ? { refusal: part } : { content: part }, null);
  chunk({}, 'stop');
  res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
  res.write('data: [DONE]\n\n');
  res.end();
}

function json(res: ServerResponse, v: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(v));
}
