// A pass decided again with the diagnoses it asked for, at one instant: what the daemon does over
// two passes a moment apart when the diagnoser answers at once (rules). Used where nothing waits
// for a diagnoser: `reconcile --once` and the tests' driver. Same ids, same audit as the daemon.
import { decide, type DecideInput, type DecideOutput, type DiagnoseRequest, type DiagnosisAnswer } from './decide.js';

export function decideSettled(input: DecideInput, answer: (req: DiagnoseRequest) => DiagnosisAnswer): DecideOutput {
  let answers = [...input.answers];
  let out = decide(input);
  // Each round can only ask about tickets it has not had an answer for; a few rounds settle it.
  for (let round = 0; out.diagnose.length > 0 && round < 5; round++) {
    answers = [...answers, ...out.diagnose.map(answer)];
    out = decide({ ...input, answers });
  }
  return out;
}
