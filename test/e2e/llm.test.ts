// The real daemon with rules and an LLM diagnoser side by side. The LLM is a local server that
// stands in for the hosted Anthropic Messages API (src/testing/llmserver.ts, its real wire format,
// streamed). A killed web is diagnosed by both; `tickets show --llm` prints the stored prompt
// (redacted, with the log fenced as untrusted) and the response.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { llmStandIn } from '../../src/testing/llmserver.js';
import { cli, startLab, waitFor } from './harness.js';

interface ShownTicket { id: string; status: string; service: string; diagnosis: { diagnoser: string; opinions?: { diagnoser: string; rootCause: { service: string; cause: string } | null; error: string | null }[] } | null; llmCalls: { outcome: string; error?: string | null; prompt: string; model: string }[] }

test('a crash diagnosed by rules and an LLM side by side; tickets show --llm prints the stored prompt and response', async (t) => {
  const server = await llmStandIn();
  t.after(() => server.close());
  const answer = { rootService: 'web', cause: 'process_exited', confidence: 0.8, citations: ['process:web'], reasoning: 'web was killed by SIGKILL', alternatives: [{ cause: 'crash_loop', rejected: 'one exit' }], actions: [{ type: 'restart', target: 'web', params: {} }] };
  server.script(...Array.from({ length: 6 }, () => ({ answer })));
  const run = await startLab();
  t.after(() => run.cleanup());
  const keyFile = join(run.lab.dir, 'claude.key');
  writeFileSync(keyFile, 'sk-ant-test-key-not-real-0123456789\n', { mode: 0o600 });
  appendFileSync(run.lab.configPath, [
    'diagnosis:',
    '  diagnosers: [rules, claude]',
    '  require: rules',
    '  llm:',
    '    claude:',
    '      provider: anthropic',
    '      model: stand-in',
    `      baseURL: ${server.url}`,
    `      apiKeyFile: ${keyFile}`,
    '      stream: true',
    '      timeout: 10s',
    '',
  ].join('\n'));
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web', 'worker']);
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 30_000, 'web ticket resolved');

  const shown = await cli(['tickets', 'show', tk.id, '--llm', '--json'], { config: run.lab.configPath });
  assert.equal(shown.code, 0, shown.stderr);
  const j = JSON.parse(shown.stdout) as ShownTicket;
  assert.equal(j.diagnosis?.diagnoser, 'rules');
  assert.deepEqual(j.diagnosis?.opinions?.map((o) => [o.diagnoser, o.rootCause?.service, o.rootCause?.cause]), [['rules', 'web', 'process_exited'], ['claude', 'web', 'process_exited']]);
  // One call answered; a call Warden itself cut short (the evidence moved on while a loaded machine
  // waited for the answer) is stored as cancelled, never as the provider's error.
  assert.ok(j.llmCalls.some((c) => c.outcome === 'ok'), JSON.stringify(j.llmCalls.map((c) => [c.outcome, c.error])));
  for (const c of j.llmCalls.filter((x) => x.outcome !== 'ok')) assert.match(c.error ?? '', /^cancelled by Warden/, JSON.stringify(c));
  // What the stand-in received is what was stored, and the API key went only in the header.
  assert.ok(server.requests.length >= 1);
  assert.ok(!JSON.stringify(server.requests).includes('sk-ant-test-key'), 'the key is not in any body');

  const text = await cli(['tickets', 'show', tk.id, '--llm'], { config: run.lab.configPath });
  assert.match(text.stdout, /diagnosers\n {4}rules {6}web: process_exited/);
  assert.match(text.stdout, /claude {5}web: process_exited \(confidence 0\.8\); proposes restart web/);
  assert.match(text.stdout, /llm call \d+ {2}claude \(stand-in\) .* ok {2}120\+40 tokens/);
  assert.match(text.stdout, /prompt \(as sent, redacted\):\n {6}\[system\]/);
  assert.match(text.stdout, /process:web \| web: not running/);
  assert.match(text.stdout, /response:\n {6}\[\{"type":"tool_use"/);
});
