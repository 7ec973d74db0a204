// The vocabulary of DESIGN.md as types. Everything here is plain data: it is persisted, printed as
// JSON, and passed between the pure decision functions and the effectful runtime.

export type Mode = 'observe' | 'recommend' | 'execute';

/** Time in milliseconds since the epoch. Printed as ISO-8601 with milliseconds. */
export type Millis = number;

// ---------------------------------------------------------------- resolved configuration

/**
 * A probe's resolved config, tagged with the probe's name. The probe plugin (src/probes/<type>/)
 * owns the rest of its shape, so a new probe needs no change here.
 */
export interface ProbeSpec {
  type: string;
  [field: string]: unknown;
}

export interface CheckSpec {
  /** Stable id, unique within the service: the check's `name` or `<type>#<index>`. */
  id: string;
  probe: ProbeSpec;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures before the check counts as unhealthy. */
  failures: number;
  /** Consecutive successes before an unhealthy check counts as healthy again. */
  successes: number;
  /** An answer later than this counts as a failure, marked slow (the check's `slowerThan`); absent: no bound. */
  slowerThanMs?: number;
}

export interface RunbookSpec {
  name: string;
  /** The one command it runs; [] when it is a workflow. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Causes this runbook is the recommended repair for. */
  for: Cause[];
  /** Steps instead of one command (docs/runbooks.md); absent: `argv` is the runbook. */
  workflow?: WorkflowSpec;
  /** What undoes this runbook when its repair's verification fails; absent: none. */
  revert?: RevertSpec;
}

/** A runbook's steps, run one at a time in dependency order, and the steps run when one fails. */
export interface WorkflowSpec {
  steps: WorkflowStep[];
  onFailure: WorkflowStep[];
}

/** A condition on a step: every key given must hold (absent keys hold). No expressions. */
export interface StepCondition {
  /** The ticket's cause is one of these. */
  cause?: Cause[];
  /** This step (of the main steps) failed. */
  stepFailed?: string;
  /** This step (of the main steps) succeeded. */
  stepSucceeded?: string;
}

/** A step's post-condition, tried every `intervalMs` until it holds or `timeoutMs` passes. */
export interface StepVerify {
  /** A command that exits 0 when the step held, or a probe (as a check's) that passes; one of the two. */
  argv: string[] | null;
  probe: ProbeSpec | null;
  timeoutMs: number;
  intervalMs: number;
}

export interface WorkflowStep {
  name: string;
  /** A command (argv) or a catalog action on the runbook's service: exactly one is set. */
  run: string[] | null;
  action: { type: 'start' | 'restart' | 'stop'; params: Record<string, string> } | null;
  /** Steps of the same list that must have succeeded (or been skipped) first. */
  needs: string[];
  if: StepCondition | null;
  verify: StepVerify | null;
  timeoutMs: number;
}

/** What undoes an action: a catalog action (a runbook is `run-runbook` with its name) on the same service. */
export interface RevertSpec {
  type: ActionType;
  params: Record<string, string>;
}

/** One step of a workflow as it ran (kept on the action; absent steps have not started). */
export interface StepRecord {
  name: string;
  branch: 'steps' | 'onFailure';
  state: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: Millis | null;
  finishedAt: Millis | null;
  detail: string | null;
}

/** The kinds of src/kinds/ (its registry is checked against this list). */
export type ServiceKind = ServiceSpec['kind'];

/** What every service has, whatever its kind. */
export interface ServiceCommon {
  name: string;
  host: string;
  cwd: string;
  env: Record<string, string>;
  stopSignal: NodeJS.Signals;
  stopGraceMs: number;
  dependsOn: string[];
  checks: CheckSpec[];
  runbooks: RunbookSpec[];
  /** What undoes each action type on this service when its verification fails (docs/runbooks.md); absent: none. */
  reverts?: Partial<Record<ActionType, RevertSpec>>;
  /** Log file bound: rotate when the file passes this size; keep `logKeep` rotated files. */
  logMaxBytes: number;
  logKeep: number;
  /** Delays between repeated restarts of this service; absent (hand-built specs): none. */
  restartBackoff?: RestartBackoff;
  /** Check failures this soon after the process started do not count until its checks first pass; absent or 0: none. */
  startPeriodMs?: number;
  /** When a reload removes the service: stop it (absent, the default) or leave it running, unmanaged. */
  onRemove?: 'stop' | 'leave';
  /** Free-form labels (team, tier): notification routes match them; absent: none. */
  labels?: Record<string, string>;
}

/** Restart n ≥ 2 of a streak waits min(initialMs·2^(n−2), maxMs) after restart n−1 started. */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  /** A restart this long after the previous one starts a new streak (its first restart is immediate). */
  resetAfterMs: number;
}

/**
 * Warden starts and stops it itself. `unit` stays as null so code written before the union (and
 * its fixtures) still reads; narrow on `kind` for the fields that matter.
 */
export interface ProcessServiceSpec extends ServiceCommon {
  kind: 'process';
  /** argv of the service. */
  start: string[];
  unit: null;
}

/** A unit driven through systemctl. `start` stays as [] for the same reason as `unit` above. */
export interface SystemdServiceSpec extends ServiceCommon {
  kind: 'systemd';
  /** The unit, e.g. "nginx.service" or "backup.timer". */
  unit: string;
  start: [];
}

/** One container as Podman runs it (kind container, and each member of a kind pod). */
export interface ContainerRun {
  /** The container's name in Podman. */
  name: string;
  image: string;
  /** argv run in the image; empty: the image's own command. */
  command: string[];
  env: Record<string, string>;
  /** Published ports as `podman run -p` takes them ("8080:80"). */
  ports: string[];
  /** Memory limit in bytes; null: none. */
  memoryBytes: number | null;
  /** Podman's own healthcheck (Warden runs it where systemd does not schedule it); null: none. */
  healthcheck: { command: string[]; intervalMs: number; timeoutMs: number; retries: number } | null;
  /** `--network`; null: Podman's default. */
  network: string | null;
  /** The OCI runtime (`podman --runtime`); null: Podman's default. */
  runtime: string | null;
  /** `--ulimit NAME=SOFT:HARD`, by name. */
  ulimits: Record<string, string>;
}

/** A container driven through Podman. `unit` and `start` stay null and [] as for systemd. */
export interface ContainerServiceSpec extends ServiceCommon {
  kind: 'container';
  container: ContainerRun;
  unit: null;
  start: [];
}

/** A Podman pod: containers started, stopped and judged as one service. */
export interface PodServiceSpec extends ServiceCommon {
  kind: 'pod';
  pod: { name: string; containers: ContainerRun[] };
  unit: null;
  start: [];
}

/** One variant per kind, discriminated by `kind`. */
export type ServiceSpec = ProcessServiceSpec | SystemdServiceSpec | ContainerServiceSpec | PodServiceSpec;

export type HostSpec = LocalHostSpec | SshHostSpec;

export interface LocalHostSpec {
  name: string;
  transport: 'local';
}

/** A host reached with the system OpenSSH client (src/transport/ssh.ts). */
export interface SshHostSpec {
  name: string;
  transport: 'ssh';
  /** What ssh connects to: a name, an address or a ~/.ssh/config alias. */
  address: string;
  /** null: ssh's own defaults (~/.ssh/config, then Warden's user and port 22). */
  user: string | null;
  port: number | null;
  /** Absolute paths, or null for ssh's defaults. */
  identityFile: string | null;
  knownHostsFile: string | null;
  connectTimeoutMs: number;
  /** How often the host itself is probed. */
  intervalMs: number;
  /** Mount points whose space and inodes are read. */
  mounts: string[];
}

/** The kernel's own actions, on any service. */
export type CoreActionType = 'start' | 'restart' | 'stop' | 'run-runbook';
/** A subject's action, named `<subject type>.<action>` (`etcd.defragment`): src/subjects/<type>/. */
export type SubjectActionType = `${string}.${string}`;
export type ActionType = CoreActionType | SubjectActionType;

export interface PolicyRule {
  match: { service: string; host: string };
  allow: ActionType[];
  /** Actions this rule forbids on the matched services, whatever other rules allow. */
  deny?: ActionType[];
  approval: 'none' | 'required';
  /** Who may approve what this rule requires approval for: people's names and `role:NAME`; absent: anyone but the requester. */
  approvers?: string[];
  /** How many distinct approvers must say yes (1 when absent). */
  quorum?: number;
  /** How long a request waits for its approvals before it is denied (the policy's default when absent). */
  approvalTtlMs?: number;
}

/** A person Warden knows: by name, the Unix user that is them, and their roles (`admin` may act `--as` someone). */
export interface Person {
  name: string;
  unix: string;
  roles: string[];
}

/** An action's request for approval, as proposed: who may approve, how many, until when, and who has. */
export interface ApprovalRequest {
  quorum: number;
  /** Names and `role:NAME`; empty: anyone but the requester. */
  approvers: string[];
  /** When the request lapses and the action is denied (wall time, shown). */
  expiresAt: number;
  /** The same on monotonic time within its boot: what is decided on. */
  expiresMono: { mono: number; boot: string } | null;
  /** Identities that approved so far, in order. */
  by: string[];
}

/** Authority, from least to most: each action type needs one, each identity holds one per scope (docs/policy.md). */
export const TIERS = ['observe', 'propose', 'repair-service', 'repair-host', 'repair-cluster', 'human-only'] as const;
export type Tier = (typeof TIERS)[number];

/** Where a grant, a limit or a window applies: globs over the target's service, host, groups (subjects) and labels. */
export interface Scope {
  service: string;
  host: string;
  /** Glob over the subjects (groups) the target belongs to; `*` also matches a service in none. */
  group: string;
  /** Each label must be present on the service and match its glob. */
  labels: Record<string, string>;
}

/** Identities (agent names, people's names, `role:NAME`) holding a tier on a scope. */
export interface TierGrant {
  who: string[];
  scope: Scope;
  tier: Tier;
}

/** A maintenance window: from each cron start for `durationMs`; `allow` windows confine acting to them, `deny` windows forbid it. */
export interface MaintenanceWindow {
  name: string;
  cron: string;
  durationMs: number;
  effect: 'allow' | 'deny';
  scope: Scope;
  /** IANA time zone of the cron expression; absent: the host's. */
  timezone?: string;
}

export interface RateLimit {
  action: ActionType | '*';
  /** What is counted together: one target, one action type everywhere, every target in `scope`, or everything. */
  per: 'service' | 'action' | 'scope' | 'global';
  /** For per: scope. */
  scope?: Scope;
  max: number;
  windowMs: number;
}

export interface ResolvedConfig {
  /** Absolute path of the file this came from. */
  file: string;
  agent: {
    name: string;
    mode: Mode;
    /** A lab (the demo, the tests): `warden chaos` injects faults without --i-know. */
    lab: boolean;
    /** Prometheus's base URL, which subjects' PromQL invariants ask. */
    prometheus: string;
    /** Absolute. */
    dataDir: string;
    /** The loop looks at least this often (a pass when anything is open or changed). */
    intervalMs: number;
    /** A full pass over the whole inventory, every service observed afresh, at least this often. */
    resyncMs: number;
    /** How long a repaired service must stay healthy before its ticket resolves. */
    verifyStableMs: number;
    /** How long verification may take before the ticket escalates. */
    verifyDeadlineMs: number;
    /** Exits within this window that make a crash loop (with `crashLoopExits`). */
    crashLoopWindowMs: number;
    crashLoopExits: number;
    /** A resolved ticket whose problem comes back within this window is reopened, not new. */
    reopenWindowMs: number;
    /** Occurrences within reopenWindowMs after which a ticket is marked flapping. */
    flapThreshold: number;
    /** The daemon's HTTP API; null when not configured. */
    api: ApiSpec | null;
  };
  hosts: HostSpec[];
  services: ServiceSpec[];
  /** Systems made of services, with invariants over them (src/subjects/). */
  subjects: SubjectSpec[];
  policy: {
    rules: PolicyRule[];
    limits: RateLimit[];
    /** How long an approval request waits before it is denied, unless its rule says otherwise. */
    approvalTtlMs: number;
    /** Who holds which tier where; empty: tiers are not enforced (the rules alone decide). */
    tiers?: TierGrant[];
    /** Each action type's tier (from the action catalog; a subject declares its actions'). */
    actionTiers?: Record<string, Tier>;
    /** Actions executing at once, at most; absent: no bound. */
    concurrency?: number;
    /** No repair of a target within this long after the last one started; absent or 0: none. */
    cooldownMs?: number;
    windows?: MaintenanceWindow[];
    /** Scopes in shadow: Warden decides there as it would act, records it, and never acts (docs/policy.md). */
    shadow?: Scope[];
  };
  /** People and their roles (approvers, admins); empty: every local user is a person with no role. */
  people: Person[];
  /** Out-of-band notification channels. */
  notify: NotifyChannel[];
  /** Alerts taken in from Alertmanager (POST /api/alerts); absent (hand-built configs): the defaults. */
  alerts?: AlertsSpec;
  /** Who diagnoses (diagnosis section); absent (hand-built configs): the rules alone. */
  diagnosis?: DiagnosisSpec;
  /** The dead man's switch: a URL pinged after healthy passes; null or absent: none. */
  heartbeat?: HeartbeatSpec | null;
  /** Other Wardens this one watches through their /healthz; absent: none. */
  peers?: PeerSpec[];
}

export interface AlertsSpec {
  /** Label names tried in order: the first whose value names a service of the inventory places the alert. */
  labels: string[];
  /** A firing alert not received again for this long counts as gone (Alertmanager re-sends every repeat_interval). */
  expireAfterMs: number;
}

export interface HeartbeatSpec {
  url: string;
  method: 'GET' | 'POST';
  /** At most one ping this often. */
  everyMs: number;
  timeoutMs: number;
}

export interface PeerSpec {
  name: string;
  /** The peer's /healthz URL. */
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failed probes before the peer counts as unreachable. */
  failures: number;
}

/** A subject: a system of member services; `type` names its plugin in src/subjects/<type>/. */
export interface SubjectSpec {
  name: string;
  type: string;
  /** Where its ticket says it is: the host of its first member. */
  host: string;
  /** Member services, in config order. */
  members: string[];
  /** The plugin's compiled config fragment. */
  params: Record<string, unknown>;
  /** How often a subject that reads its system does so (its plugin's `observe`), and evaluates its PromQL invariants. */
  intervalMs: number;
  /** Invariants written in PromQL (config `promql:`), after the type's own; absent: none. */
  promql?: PromqlInvariantSpec[];
}

/** A subject's invariant in PromQL, alert-style: broken while `expr` returns series held for `forMs`. */
export interface PromqlInvariantSpec {
  id: string;
  expr: string;
  forMs: number;
  cause: Cause;
  description: string;
}

export interface ApiSpec {
  host: string;
  port: number;
  /** File holding the bearer token; null means the WARDEN_API_TOKEN environment variable. */
  tokenFile: string | null;
  /** Listening where other hosts reach it was asked for (config checks say a non-loopback listen needs it). */
  allowRemote: boolean;
  /** Serve HTTPS with these PEM files (absolute paths); null: plain HTTP. */
  tls: { cert: string; key: string } | null;
  /** Why a remote API goes without TLS, as the operator wrote it; null when it does not. */
  insecureReason: string | null;
  /** Open connections at most; requests on connections past it get 503. */
  maxConnections: number;
  /** Named bearer tokens, each an identity (`token:NAME`, or its person) for approving through the API. */
  tokens: ApiTokenSpec[];
  /** The API's base URL as approvers reach it; null: approval requests carry no links. */
  publicUrl: string | null;
}

export interface ApiTokenSpec {
  name: string;
  /** Absolute path of the file holding the token. */
  file: string;
  role: string | null;
  /** The person (people[].name) the token acts for, or null: it acts as `token:NAME`. */
  person: string | null;
}

/** A notification channel; `type` names its plugin in src/notify/<type>/. */
export type NotifyChannel =
  | WebhookChannel | SlackChannel | MattermostChannel | NtfyChannel | EmailChannel
  | TwilioChannel | PagerDutyChannel | TelegramChannel | AlertmanagerChannel;

export type Severity = 'info' | 'warning' | 'critical';

/** What every channel has, whatever its type: which events reach it, and how they are paced. */
export interface ChannelCommon {
  name: string;
  /** Event kinds sent to this channel ("agent.online", "ticket.opened", ...); ["*"] for all. */
  events: string[];
  /** One delivery attempt gives up after this long. */
  timeoutMs: number;
  /** Accepted for old configs; deliveries now retry until `ttlMs` (the outbox). */
  retries: number;
  /** An undelivered notification is dropped (and audited) this long after it was recorded. */
  ttlMs: number;
  /** Which events reach the channel, by severity, service and service labels (globs). */
  route: NotifyRoute;
  /** At most `max` deliveries per `perMs`; the rest wait their turn (nothing is lost). */
  rateLimit: { max: number; perMs: number } | null;
  /** Local times of day ("22:00" to "07:00") when only escalations and critical events are sent; the rest wait until it ends. */
  quietHours: { from: number; to: number; timezone: string | null } | null;
  /** When more than `after` events reach the channel within `windowMs`, the rest of that window goes out as one digest. */
  digest: { after: number; windowMs: number } | null;
  /** While a ticket stays unresolved, remind this often; null: never. */
  repeatMs: number | null;
  /** A resolve waits this long: a problem that comes back meanwhile stays one incident on this channel. */
  resolveHoldMs: number;
}

export interface NotifyRoute {
  /** The least severity sent. */
  severity: Severity;
  /** Globs of service names; [] for every service (events about no service always pass). */
  services: string[];
  /** Each label named must be on the service with a value matching the glob. */
  labels: Record<string, string>;
}

export interface WebhookChannel extends ChannelCommon {
  type: 'webhook';
  url: string;
  headers: Record<string, string>;
  /** HMAC-SHA256 key: the body's signature goes in X-Warden-Signature; null: unsigned. */
  secret: string | null;
}

export interface SlackChannel extends ChannelCommon {
  type: 'slack';
  url: string;
  /** Where the buttons link to (Warden's API); null: no buttons. */
  linkBase: string | null;
}

export interface MattermostChannel extends ChannelCommon {
  type: 'mattermost';
  url: string;
  linkBase: string | null;
  channel: string | null;
  username: string | null;
}

export interface NtfyChannel extends ChannelCommon {
  type: 'ntfy';
  /** The server's base URL, e.g. https://ntfy.sh. */
  server: string;
  topic: string;
  token: string | null;
}

export interface EmailChannel extends ChannelCommon {
  type: 'email';
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  password: string | null;
  from: string;
  to: string[];
}

export interface TwilioChannel extends ChannelCommon {
  type: 'twilio';
  accountSid: string;
  authToken: string;
  from: string;
  to: string;
  /** The REST API's base URL (https://api.twilio.com). */
  apiBase: string;
}

export interface PagerDutyChannel extends ChannelCommon {
  type: 'pagerduty';
  routingKey: string;
  /** The Events API v2 endpoint (https://events.pagerduty.com/v2/enqueue). */
  url: string;
}

export interface TelegramChannel extends ChannelCommon {
  type: 'telegram';
  botToken: string;
  chatId: string;
  /** The Bot API's base URL (https://api.telegram.org). */
  apiBase: string;
}

export interface AlertmanagerChannel extends ChannelCommon {
  type: 'alertmanager';
  url: string;
  headers: Record<string, string>;
}

// ---------------------------------------------------------------- world (actual state)

export interface ProbeResult {
  ok: boolean;
  /** One line for people: "connect ECONNREFUSED 127.0.0.1:6390", "HTTP 200 in 3 ms". */
  message: string;
  latencyMs: number;
  /** True when the probe gave up because of its timeout (the mark of a hung service). */
  timedOut: boolean;
  /** What the probe measured, besides ok/fail, for invariants: a number or named values. */
  value?: number | Record<string, number | string>;
  /**
   * Set when the probe could not run for want of Warden's own resources (EMFILE, ENFILE): the
   * errno. Such a result says nothing about the service and is never counted against it.
   */
  inconclusive?: string;
  /**
   * Set when the probe got the answer it expected, but later than its check's `slowerThan` bound
   * (the bound, in ms): the result then counts as a failure, the mark of a degraded service.
   */
  slowerThanMs?: number;
}

export interface CheckState {
  id: string;
  type: string;
  /** null until the first result. */
  healthy: boolean | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** `at` is wall time (a record); `mono`, when known, is monotonic time (for comparisons). */
  last: (ProbeResult & { at: Millis; mono?: number }) | null;
  /** Monotonic time of the last passing result, when known: a start period ends at the first one. */
  okMono?: number;
  /** When `healthy` last changed. */
  since: Millis | null;
  /** `since` on monotonic time, when known: what a dependency's recovery is compared on. */
  sinceMono?: number;
}

export interface ExitRecord {
  at: Millis;
  code: number | null;
  signal: string | null;
  /** How long the process ran; null when it was adopted and its start time is unknown. */
  uptimeMs: number | null;
  /** True when Warden itself stopped the process (a stop or restart): not a crash. */
  byWarden?: boolean;
  /** When it exited on monotonic time, with the boot: crash-loop windows are measured on it. */
  stamp?: { mono: number; boot: string };
}

export interface ProcessState {
  running: boolean;
  pid: number | null;
  startedAt: Millis | null;
  /** Monotonic time of the start, when known: what check freshness is compared with (a wall step moves startedAt). */
  startedMono?: number | null;
  /** Linux process state letter from /proc/PID/stat (R, S, D, T, Z, ...), when running. */
  procState: string | null;
  /** Monotonic time since which `procState` has read the same letter, when the driver tracks it. */
  procStateSince?: number;
  /** Set when the last start attempt failed before the process ran (ENOENT, EACCES, ...). */
  spawnError: string | null;
  /** Most recent first, bounded. */
  exits: ExitRecord[];
  /** The process died a moment ago and its exit is not recorded yet. */
  exitPending?: boolean;
  /** Its start command exited 0 and left this process of its own running: it daemonized. */
  daemonized?: { pid: number; command: string };
  /**
   * Which action started the running process: its id, null when no action did (started by hand),
   * absent when the driver cannot tell. Resume compares this identity, never start times.
   */
  startedBy?: string | null;
  /**
   * Set when the service runs but its own supervisor reports failure (a systemd timer that is
   * active while its last run failed): running is not healthy. One sentence.
   */
  failing?: string;
  /** Set when the service cannot be observed right now (systemd unreachable, a unit mid-transition). */
  unknown?: string;
  /** Kind-specific facts for diagnosis and the diagnostics bundle (systemd unit properties, ...). */
  facts?: Record<string, string | number | null>;
  /** A pod's containers, in config order. */
  members?: MemberState[];
}

/** One container of a pod as last observed. */
export interface MemberState {
  name: string;
  /** Podman's state: created, running, exited, stopped, paused, missing (no such container). */
  state: string;
  running: boolean;
  exitCode: number | null;
  /** healthy, unhealthy, starting; null without a healthcheck. */
  health: string | null;
  oomKilled: boolean;
  restarts: number;
  startedAt: Millis | null;
}

export interface ServiceObservation {
  name: string;
  host: string;
  process: ProcessState;
  checks: CheckState[];
}

/** A firing alert as Alertmanager sent it, without the moment it came (what a finding carries). */
export interface AlertFacts {
  /** Alertmanager's fingerprint (of the labels): the alert's identity across re-sends. */
  fingerprint: string;
  /** labels.alertname. */
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** As Alertmanager sent it (RFC 3339). */
  startsAt: string;
  generatorURL: string;
}

/** A firing alert Warden holds (store flags `alert:<fingerprint>`), with when it last came. */
export interface AlertRecord extends AlertFacts {
  receivedAt: Millis;
  /** receivedAt on monotonic time, with its boot: expiry is measured on it within a boot. */
  received: { mono: number; boot: string };
}

export interface World {
  at: Millis;
  /** Monotonic time of the observation, when known: how long a process has been stopped is measured on it. */
  mono?: number;
  services: Record<string, ServiceObservation>;
  /** What each subject that reads its system (an etcd cluster's members, leader, alarms) last read. */
  subjects?: Record<string, SubjectFacts>;
  /** Subjects' PromQL invariants as last evaluated: subject → invariant id → reading. */
  promql?: Record<string, Record<string, PromqlReading>>;
  /** Firing alerts from Alertmanager, by the service their labels name (domain/alerts.ts). */
  alerts?: Record<string, AlertFacts[]>;
  /** What each host reached through a transport (ssh) last showed of itself; absent: not probed. */
  hosts?: Record<string, HostFacts>;
}

/**
 * One PromQL invariant's last evaluation: whether some series has been returned for its `for`
 * (firing), the answer in words, and the largest firing value. A failed query keeps the verdict
 * of the evaluation before it (as Prometheus keeps an alert's state) and says why in `error`.
 */
export interface PromqlReading {
  at: Millis;
  firing: boolean;
  message: string;
  value: number | null;
  error?: string;
}

/**
 * One host as its probes last saw it. `reachable` is the SSH round trip's verdict (after a second
 * failure in a row); when it is false, `verdict` says whether the host is down (`offline`: no
 * managed peer reaches it either), only cut off from Warden (`partitioned`: a peer reaches it), or
 * refuses Warden's login (`refused`: a host key or credential problem, the host itself answers).
 */
export interface HostFacts {
  at: Millis;
  reachable: boolean;
  /** `rebooting`: down while Warden's own host.reboot of it runs (no ticket: that action waits for it). */
  verdict?: 'offline' | 'partitioned' | 'refused' | 'rebooting';
  /** One sentence for people: why it is unreachable, or what it showed. */
  reason: string;
  /** TCP connect to its SSH port from Warden: "connected in 1 ms", "timed out after 3000 ms". */
  tcp: string;
  /** What each other managed host said when asked whether it reaches this one. */
  peers?: { host: string; reaches: boolean | null; detail: string }[];
  bootId?: string;
  load?: [number, number, number];
  memory?: { totalKb: number; availableKb: number };
  disks?: { mount: string; usedPct: number; inodesUsedPct: number | null }[];
  /** Its wall clock minus Warden's, estimated at the middle of the round trip. */
  clockOffsetMs?: number;
  rttMs?: number;
}

/** A subject's last reading of its system: the facts (its plugin's own shape), or why there are none. */
export type SubjectFacts = { at: Millis; facts: unknown } | { at: Millis; error: string };

// ---------------------------------------------------------------- findings and reports

export type Health = 'healthy' | 'unhealthy' | 'missing' | 'unknown';

export type FindingKind =
  | 'missing_service'
  | 'unhealthy_service'
  | 'failed_deployment'
  | 'offline_node'
  /** Warden cannot reach a host that other managed hosts still reach: its own path is cut. */
  | 'network_partition'
  | 'unresolved_incident'
  | 'invariant_violated';

export type Cause =
  | 'process_exited'
  | 'crash_loop'
  | 'process_hung'
  | 'dependency_down'
  | 'config_drift'
  | 'resource_exhausted'
  | 'node_offline'
  | 'network_partition'
  | 'leader_lost'
  | 'quorum_lost'
  | 'performance_degraded'
  | 'data_inconsistency'
  | 'unknown';

export const CAUSES: readonly Cause[] = [
  'process_exited', 'crash_loop', 'process_hung', 'dependency_down', 'config_drift',
  'resource_exhausted', 'node_offline', 'network_partition', 'leader_lost', 'quorum_lost',
  'performance_degraded', 'data_inconsistency', 'unknown',
];

export interface Finding {
  kind: FindingKind;
  service: string;
  host: string;
  /** One sentence: what differs from the inventory. */
  reason: string;
  /** Set on a dependent's symptom: the broken dependency it is attributed to. */
  dependencyDown?: string;
  /** An invariant_violated finding: the subject (also `service`), the invariant, its cause and who it blames. */
  subject?: string;
  invariant?: string;
  cause?: Cause;
  blame?: string[];
  value?: number;
  /** A member's symptom attributed to its subject's broken invariant. */
  memberOf?: string;
  /** An unresolved_incident from Alertmanager: the alert, as evidence. */
  alert?: AlertFacts;
}

export type Summary = 'nominal' | 'degraded' | 'unstable' | 'reconciling';

export type ReconcileEvent = 'reconcile_required' | 'reconcile_recommended' | 'reconcile_blocked';

export interface Recommendation {
  event: ReconcileEvent;
  action: ActionType | null;
  target: string;
  reason: string;
}

export interface ReconcileReport {
  summary: Summary;
  findings: Finding[];
  recommendations: Recommendation[];
}

// ---------------------------------------------------------------- tickets, diagnosis, actions

export type TicketStatus =
  | 'open'
  | 'diagnosing'
  | 'awaiting_approval'
  | 'remediating'
  | 'verifying'
  | 'resolved'
  | 'escalated'
  | 'held';

export interface Evidence {
  /** Where the fact came from: "process", "check:http#0", "log", "exits", "dependsOn". */
  source: string;
  fact: string;
  /**
   * The id of the evidence piece it rests on (diagnosis/pieces.ts), when one holds it: what
   * `warden debug` lists, so a person can follow the citation.
   */
  piece?: string;
}

export interface Alternative {
  cause: Cause;
  rejected: string;
}

/** One rule's proposal for a diagnosis: ranked with the others, the first is the diagnosis's cause. */
export interface Hypothesis {
  cause: Cause;
  confidence: number;
  /** The rule that proposed it (diagnosis/rulebook.ts). */
  rule: string;
  /** The evidence it rests on: indices into the diagnosis's `evidence`. */
  cites: number[];
  /** Absent on the chosen one; why the others lost. */
  rejected?: string;
}

export interface Diagnosis {
  rootCause: { service: string; host: string; cause: Cause };
  confidence: number;
  evidence: Evidence[];
  alternatives: Alternative[];
  /** Catalog actions the diagnoser recommends, in order. Empty means: a person must act. */
  recommended: { type: ActionType; target: string; params: Record<string, string> }[];
  /** When nothing is recommended: why no automatic repair can help (the escalation's reason). */
  noRepair?: string;
  /** When nothing is recommended yet: what is awaited first (a member starting); no escalation. */
  waitFor?: string;
  diagnoser: string;
  /**
   * Each diagnoser's own answer when several ran side by side (diagnosis.diagnosers): what it said,
   * or why it gave nothing. The diagnosis above is the one `diagnosis.require` chose.
   */
  opinions?: Opinion[];
  /** Set when the diagnosers disagree on the root cause: one sentence saying who said what. */
  disagreement?: string;
  /** The rules' ranked hypotheses, the chosen one first (absent from other diagnosers). */
  hypotheses?: Hypothesis[];
}

export interface LlmSpec {
  provider: 'anthropic' | 'openai';
  model: string;
  baseURL: string | null;
  /** Absolute. */
  apiKeyFile: string | null;
  apiKeyEnv: string | null;
  stream: boolean;
  timeoutMs: number;
  maxTokens: number;
  budget: { callsPerDay: number; tokensPerDay: number; callsPerTicket: number; tokensPerTicket: number };
}

export interface DiagnosisSpec {
  diagnosers: string[];
  require: 'agree' | 'rules' | 'any';
  redact: string[];
  llm: Record<string, LlmSpec>;
}

export interface Opinion {
  diagnoser: string;
  rootCause: { service: string; cause: Cause } | null;
  confidence: number | null;
  recommended: Diagnosis['recommended'];
  /** The evidence ids it cited (diagnosis/pieces.ts). */
  citations: string[];
  /** Why it gave no answer (budget spent, refused, invalid twice, timeout), else null. */
  error: string | null;
}

/** How the last verification of an occurrence's repair ended: held (healthy long enough) or failed. */
export type VerificationOutcome =
  | { outcome: 'held'; at: Millis; healthyForMs: number; tookMs: number }
  | { outcome: 'failed'; at: Millis; reason: string };

/** How a problem Warden only watched in shadow ended: by itself (no action taken), or resolved by a person. */
export type ShadowOutcome =
  | { kind: 'went_away'; at: Millis; afterMs: number }
  | { kind: 'resolved_by_person'; at: Millis; by: string };

/** What Warden would have done on a target in shadow (policy.shadow), recorded instead of doing it. */
export interface ShadowRecord {
  type: ActionType;
  target: string;
  params: Record<string, string>;
  /** The entry that holds the target in shadow, e.g. `policy.shadow[0] (service: db-*)`. */
  scope: string;
  at: Millis;
  /** `at` on monotonic time: how long the problem took to go away is measured on it. */
  stamp: { mono: number; boot: string } | null;
  /** What the policy gate said: allowed, allowed after a person's approval, deferred (a wait), refused. */
  verdict: 'allowed' | 'approval' | 'deferred' | 'refused';
  /** The gate's reason when not allowed, else null. */
  reason: string | null;
  /** What the diagnosis expects the action to bring about. */
  predicted: string;
  /** How the problem ended without Warden acting; null while it lasts. */
  outcome: ShadowOutcome | null;
}

/** One occurrence of a ticket's problem: what was found, why, what was done, how it ended. */
export interface Occurrence {
  /** 1 for the first occurrence, then one more per reopen (= the ticket's `occurrences` when current). */
  n: number;
  openedAt: Millis;
  findings: Finding[];
  diagnosis: Diagnosis | null;
  actionIds: string[];
  verification: VerificationOutcome | null;
  resolvedAt: Millis | null;
  /** The person who resolved it by hand (their resolve restarts the flap count), else null. */
  resolvedBy: string | null;
  reason: string | null;
  /** In shadow: what Warden would have done, and how the problem ended (absent: not in shadow). */
  shadow?: ShadowRecord | null;
}

export interface Ticket {
  id: string;
  fingerprint: string;
  status: TicketStatus;
  service: string;
  host: string;
  findings: Finding[];
  cause: Cause | null;
  rootCause: { service: string; host: string; cause: Cause } | null;
  confidence: number | null;
  occurrences: number;
  flapping: boolean;
  openedAt: Millis;
  diagnosedAt: Millis | null;
  resolvedAt: Millis | null;
  updatedAt: Millis;
  actionIds: string[];
  diagnosis: Diagnosis | null;
  /** When the current verification started and must end (wall times, for display). */
  verification: { startedAt: Millis; deadline: Millis; healthySince: Millis | null } | null;
  /**
   * The same verification on monotonic time of the boot `boot`: what stability and the deadline
   * are decided on, so a wall-clock step neither resolves nor stalls it.
   */
  verificationMono?: { boot: string; startedAt: number; deadline: number; healthySince: number | null } | null;
  /** The monotonic stamp of resolvedAt, so the reopen window is measured on monotonic time. */
  resolvedMono?: { mono: number; boot: string } | null;
  /** Why the ticket is escalated or held; why automation stopped. */
  reason: string | null;
  /** Repairs whose verification failed on this ticket (a backstop against endless repair). */
  failedRepairs: number;
  /** Index, in diagnosis.recommended, of the step of the current repair chain (absent = 0). */
  step?: number;
  /**
   * The evidence the current diagnosis was asked for (a digest of the facts that can change a
   * diagnosis): a diagnoser runs again only when this changes, not on every pass.
   */
  evidenceKey?: string | null;
  /** Each occurrence's story, oldest first, the last MAX_HISTORY; the last is the current one (absent before). */
  history?: Occurrence[];
  /** Occurrences since a person last resolved the ticket: what flapping counts (absent = occurrences). */
  flapStreak?: number;
}

export type ActionState =
  /** Submitted by a person for a later time (`--at`): gated when that time comes. */
  | 'scheduled'
  | 'proposed'
  | 'validated'
  | 'awaiting_approval'
  | 'executing'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface Action {
  id: string;
  /** null for a deployment action (first start of a service that never ran): not an incident. */
  ticketId: string | null;
  type: ActionType;
  /** Service name. */
  target: string;
  params: Record<string, string>;
  state: ActionState;
  attempts: number;
  maxAttempts: number;
  idempotencyKey: string;
  requestedBy: string;
  approvedBy: string | null;
  /** Set while (and after) it awaits approval: the quorum, the approvers, the deadline. */
  approval?: ApprovalRequest | null;
  createdAt: Millis;
  startedAt: Millis | null;
  finishedAt: Millis | null;
  /** Earliest time the next attempt may start (retry backoff). */
  notBefore: Millis | null;
  /** notBefore on monotonic time, with its boot: what is decided on (a wall step must not move it). */
  notBeforeMono?: { mono: number; boot: string } | null;
  error: string | null;
  /** A workflow's steps as they ran (run-runbook of a runbook with steps). */
  steps?: StepRecord[];
  /** Set on a revert: the action whose verification failed and that this one undoes. */
  revertOf?: string;
}

export const TERMINAL_ACTION_STATES: readonly ActionState[] = ['completed', 'failed', 'cancelled'];
export const CLOSED_TICKET_STATES: readonly TicketStatus[] = ['resolved'];
