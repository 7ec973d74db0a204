// The warden.yaml that `warden init` writes. It is the first documentation people read, so it
// shows every section with a comment saying what each field does and what it defaults to; a test
// proves it parses, so it cannot rot.

import { actions } from '../actions/index.js';
import { kinds } from '../kinds/index.js';
import { probes } from '../probes/index.js';

export function exampleConfig(): string {
  return `# warden.yaml — what should be running, how to tell it is healthy, and what Warden may do
# about it. Check it with "warden validate"; see what Warden would do with "warden reconcile --once".
# Durations take a unit: 250ms, 2s, 10m, 1h, 1m30s. Relative paths are relative to this file.

version: 1                      # the config format; 1 is the only version so far

agent:
  name: otto                    # this agent's identity in the audit log and in policy
  mode: recommend               # observe: watch only | recommend: propose repairs (default)
                                # | execute: carry out repairs that policy allows
  dataDir: .warden              # store, audit chain, reboot log (default .warden)
  interval: 1s                  # the loop looks at least this often; events wake it at once (default 1s)
  resync: 10s                   # a full pass, every service observed afresh, this often (default 10s)
  verify:
    stable: 500ms               # a repaired service must stay healthy this long... (default 500ms)
    deadline: 30s               # ...within this time, or its ticket escalates (default 30s)
  crashLoop: { exits: 3, window: 60s }  # this many exits within window is a crash loop
  reopenWindow: 10m             # a problem back within this window reopens its ticket (default 10m)
  flapThreshold: 3              # occurrences within reopenWindow that make it flapping: escalated, no more repairs (default 3)
  restartBackoff:               # repeated restarts of one service wait their turn: the first is
    initial: 1s                 # immediate, then 1s, 2s, 4s... (default 1s)
    max: 60s                    # ...up to this (default 60s)
    resetAfter: 5m              # healthy this long without a break: the next restart is immediate again (default 5m)
  # prometheus: http://127.0.0.1:9090  # asked by subjects' PromQL invariants (this is the default)
  # lab: true                   # a lab: "warden chaos" injects faults without --i-know (default false)

hosts:                          # where services run (default: just "local")
  - name: local
    transport: local            # the only transport so far

services:
  - name: cache                 # unique; used in dependsOn, policy and the CLI
    host: local                 # a name from hosts (default local)
    kind: process               # Warden starts and stops it itself; kinds: ${Object.keys(kinds).join(', ')}
    start: [redis-server, --port, "6390", --save, ""]   # argv, never a shell string;
                                # quote numbers so they stay strings
    stopSignal: SIGTERM         # sent to stop it (default SIGTERM)...
    stopGrace: 5s               # ...then SIGKILL after this long (default 5s)
    log: { maxSize: 1MiB, keep: 3 }   # rotate its output log at this size, keep 3 old files
    checks:                     # each has exactly one probe: ${Object.keys(probes).join(', ')}
      - tcp: { address: "127.0.0.1:6390" }   # healthy while the port accepts connections
        interval: 500ms         # probe this often (default 1s)
        timeout: 300ms          # give up on one probe after this long (default 500ms)
        failures: 2             # consecutive failures before unhealthy (default 2)
        successes: 1            # consecutive successes before healthy again (default 1)
        # slowerThan: 100ms     # an answer later than this fails as slow: degraded (default: no bound)
      - name: ping              # a check's id: its name, or <type>#<index> (here it would be exec#1)
        exec: { argv: [redis-cli, -p, "6390", ping] }   # healthy when it exits 0
        interval: 2s
        timeout: 1s

  - name: api
    start: [node, api.js]
    cwd: ./lab                  # working directory (default: this file's directory)
    startPeriod: 10s            # check failures this soon after a start do not count until the
                                # checks first pass; a slow start is not a hang (default 0s)
    restartBackoff: { max: 30s }  # overrides keys of agent.restartBackoff for this service
    env: { PORT: "8080" }       # added to Warden's environment; values become strings
    dependsOn: [cache]          # when cache is down, api's symptoms are blamed on cache
    checks:
      - name: health
        http: { url: "http://127.0.0.1:8080/healthz", expectStatus: 200, bodyMatch: "ok" }
                                # expectStatus defaults to 200; bodyMatch is a substring or /regex/
        interval: 500ms
        timeout: 300ms
    runbooks:                   # scripted repairs Warden may propose (action run-runbook);
                                # when the service is down, a restart follows the runbook
      - name: clean-tmp
        run: [sh, ./clean-tmp.sh]   # argv; runs in the service's cwd with its env by default
        timeout: 30s            # default 60s
        for: [resource_exhausted]   # the diagnosed causes this runbook repairs
      - name: reload-config     # a workflow: steps instead of run (docs/runbooks.md)
        for: [config_drift]
        revert: { runbook: clean-tmp }   # runs if this repair's verification fails (and policy allows)
        steps:
          - { name: check, run: [sh, ./check-config.sh] }
          - name: bounce
            action: { type: restart }    # start, restart or stop of this service
            needs: [check]               # after check succeeded (or was skipped)
            verify: { http: { url: "http://127.0.0.1:8080/healthz" }, timeout: 10s }
        onFailure:                       # when a step fails; the steps after it do not run
          - { name: restore, run: [sh, ./restore-config.sh], if: { stepFailed: bounce } }

people:                         # who may approve; the CLI knows you by your Unix user
  - { name: alice, unix: alice, roles: [oncall, admin] }   # admin: may act --as someone (audited)

policy:
  rules:                        # every matching rule counts; the most restrictive wins (docs/policy.md)
    - match: { service: "*", host: "*" }   # globs: * any characters, ? one character
      allow: [start, restart]   # from: ${Object.keys(actions).join(', ')}
      approval: none            # none | required (a person runs "warden actions approve")
    - match: { service: api }
      allow: [run-runbook]
      approval: required
      approvers: [role:oncall]  # people by name, or role:NAME; default anyone but the requester
      quorum: 1                 # how many must approve (N of the approvers)
      approvalTtl: 15m          # unanswered this long: denied, and the ticket escalates
  approvalTtl: 1h               # the default lifetime of an approval request
  limits:                       # beyond these, Warden escalates instead of repairing again
                                # (repairs count; a service's first start does not)
    - { action: restart, per: service, max: 3, window: 10m }
    - { action: "*", per: service, max: 5, window: 1h }
`;
}
