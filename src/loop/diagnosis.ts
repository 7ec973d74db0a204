// Runs diagnoses as effects, after the pass that asked for them committed: one in flight per
// ticket, each with its own AbortSignal and deadline. A slow diagnoser (an LLM) delays only its own
// ticket; passes and other tickets go on. Answers go back to the reconciler, which applies them in
// the next pass.
import type { DiagnoseRequest, DiagnosisAnswer } from '../domain/decide.js';
import type { Diagnoser, EvidenceBundle } from '../diagnosis/diagnoser.js';
import type { Diagnosis } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';

export interface DiagnosisRunnerDeps {
  diagnoser: Diagnoser;
  clock: Clock;
  /** Gathers the evidence for a request (log tails, the world slice): the runtime's I/O. */
  gather: (req: DiagnoseRequest) => EvidenceBundle;
  onAnswer: (a: DiagnosisAnswer) => void;
  /** How long one diagnosis may take before it is aborted and reported failed. */
  timeoutMs: number;
}

interface InFlight {
  key: string;
  controller: AbortController;
  timer: TimerHandle;
}

export class DiagnosisRunner {
  private readonly inflight = new Map<string, InFlight>();

  constructor(private readonly deps: DiagnosisRunnerDeps) {}

  /** Tickets being diagnosed now (the pass does not ask again for them). */
  get diagnosing(): ReadonlySet<string> {
    return new Set(this.inflight.keys());
  }

  run(req: DiagnoseRequest): void {
    const cur = this.inflight.get(req.ticketId);
    if (cur && cur.key === req.key) return;
    // Newer evidence: the older question no longer matters.
    if (cur) this.settle(req.ticketId, cur);
    const controller = new AbortController();
    const timer = this.deps.clock.setTimeout(() => controller.abort(new Error(`diagnoser ${this.deps.diagnoser.name} gave no answer within ${this.deps.timeoutMs} ms`)), this.deps.timeoutMs);
    const entry: InFlight = { key: req.key, controller, timer };
    this.inflight.set(req.ticketId, entry);
    let bundle: EvidenceBundle;
    try {
      bundle = this.deps.gather(req);
    } catch (e) {
      this.answer(req, entry, { error: `gathering evidence failed: ${errorText(e)}` });
      return;
    }
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
    });
    Promise.race([this.deps.diagnoser.diagnose(bundle, controller.signal), aborted]).then(
      (diagnosis) => this.answer(req, entry, { diagnosis }),
      (e: unknown) => this.answer(req, entry, { error: errorText(e) }),
    );
  }

  /** Abandons every diagnosis in flight (stop). */
  abortAll(): void {
    for (const [id, e] of this.inflight) this.settle(id, e);
  }

  private answer(req: DiagnoseRequest, entry: InFlight, a: { diagnosis: Diagnosis } | { error: string }): void {
    // Superseded by newer evidence or abandoned: the answer is for a question nobody asks any more.
    if (this.inflight.get(req.ticketId) !== entry) return;
    this.settle(req.ticketId, entry);
    this.deps.onAnswer({ ticketId: req.ticketId, key: req.key, ...a });
  }

  private settle(ticketId: string, e: InFlight): void {
    this.deps.clock.clearTimeout(e.timer);
    if (!e.controller.signal.aborted) e.controller.abort(new Error('superseded'));
    this.inflight.delete(ticketId);
  }
}
