import { join } from "node:path";
import {
  AgentHello,
  type AttemptRef,
  describeIssues,
  type ExecutorsFile,
  PROTOCOL_VERSION,
  type TaskAssign,
} from "../../protocol/index.ts";
import { AgentCredential } from "./agent-credential.ts";
import { type AgentLog, stderrLog } from "./agent-log.ts";
import type { AgentOptions } from "./agent-options.ts";
import { AGENT_RUN_ID, cookieOfRun } from "./attempt-cookie.ts";
import { type AttemptSession, startAttemptSession } from "./attempt-session.ts";
import { sweepCookieCarriersNow } from "./cookie-sweep.ts";
import { RateTable } from "./cost-rates.ts";
import { tiersOf } from "./executors-file.ts";
import { gitCapabilities } from "./git-capability.ts";
import { stopNetworkGit } from "./mirror-git.ts";
import { packageVersion } from "./package-version.ts";
import { signalGroup } from "./process-group-signal.ts";
import { type ProcessSupervisor, plainSupervisor } from "./process-limits.ts";
import { type AgentIdentity, RegistryLink } from "./registry-link.ts";
import { serviceNotifier } from "./service-notify.ts";
import { TaskScratchDirs } from "./task-scratch-dir.ts";
import type { Preflight } from "./tier-preflight.ts";
import { WorktreeKeeper } from "./worktree-keeper.ts";

export interface AgentHandle {
  /** Kills running children (by process group), reports them briefly, and closes every socket. */
  stop(): Promise<void>;
  /** Serves a new executors file (its preflight done): says hello again with what it serves now. */
  reload(executors: ExecutorsFile, preflight: Preflight): void;
  /** Runs `done` once the agent stops. */
  onStop(done: () => void): void;
}

export interface AgentPlatform {
  supervisor?: ProcessSupervisor;
  /** Prices for CLIs that report no cost (`--rates`); the built-in table by default. */
  rates?: RateTable;
  log?: AgentLog;
  /** The registry refused the agent for good; by default the agent stops and the process exits 1. */
  onFatal?: (message: string) => void;
  /** The tiers that passed the preflight (tier-preflight.ts); without one, every tier of the file. */
  preflight?: Preflight;
}

/**
 * Children run in their own process groups, so they outlive a crashed agent unless killed at exit.
 * One exit hook for the process, however many agents it runs (a test fleet runs hundreds): it kills
 * each running child's group, then whatever carries a cookie of this process's run, which finds the
 * children that left their groups (attempt-cookie.ts). A SIGKILL skips it: the next start sweeps.
 */
const leftoverKillers = new Set<() => void>();
const killAllLeftovers = (): void => {
  for (const kill of leftoverKillers) kill();
  sweepCookieCarriersNow((cookie) => cookieOfRun(cookie, AGENT_RUN_ID));
};

/** Starts an agent: registers with the mesh and runs the attempts it is assigned. */
export function startAgent(
  options: AgentOptions,
  initialExecutors: ExecutorsFile,
  platform: AgentPlatform = {},
): AgentHandle {
  let executors = initialExecutors;
  const service = serviceNotifier();
  const stopped: Array<() => void> = [];
  const log = platform.log ?? stderrLog;
  const supervisor = platform.supervisor ?? plainSupervisor(options.kind);
  const rates = platform.rates ?? new RateTable();
  const credential = new AgentCredential(options.stateDir, options.server, options.name, options.credential);
  const identity: AgentIdentity = {
    name: options.name,
    kind: options.kind,
    tiers: platform.preflight?.tiers ?? tiersOf(executors),
    capacity: options.capacity,
    version: packageVersion(),
    capabilities: gitCapabilities(),
    ...(platform.preflight === undefined || Object.keys(platform.preflight.unavailable).length === 0
      ? {}
      : { unavailable: platform.preflight.unavailable }),
  };
  // Refuse here, not in a reconnect loop: the registry would close on a bad hello again and again.
  const hello = AgentHello.safeParse({
    type: "agent.hello",
    protocol_version: PROTOCOL_VERSION,
    ...identity,
    running: [],
  });
  if (!hello.success) throw new Error(`the agent's hello is invalid: ${describeIssues(hello.error)}`);

  // Worktrees only where git can make them; without, tasks that need isolation never come here.
  // Degraded while its directory is read-only or full (docs/faults.md): a heartbeat tells the registry at once.
  const worktrees =
    identity.capabilities?.worktree === true
      ? new WorktreeKeeper({
          worktreesDir: options.worktreesDir,
          mirrorsDir: join(options.stateDir, "mirrors"),
          keepHours: options.keepWorktreesH,
          warmWorktrees: options.warmWorktrees,
          log,
          onHealth: () => registry.beatNow(),
        })
      : undefined;
  // Tasks naming neither cwd nor repo run in a new empty directory each, never the agent's own (docs/repositories.md).
  const scratch = new TaskScratchDirs(join(options.stateDir, "scratch"));
  void scratch.sweep();
  const sessions = new Map<string, { ref: AttemptRef; session: AttemptSession }>();
  const keyOf = (ref: AttemptRef): string => `${ref.task_id}#${ref.attempt}`;
  let stopping: Promise<void> | undefined;

  const onAssign = (assign: TaskAssign): void => {
    const ref: AttemptRef = { task_id: assign.task_id, attempt: assign.attempt };
    const label = `task ${assign.task_id} attempt ${assign.attempt}`;
    if (sessions.has(keyOf(ref))) {
      log(`${label}: assigned again while running; ignored`);
      return;
    }
    const executor = executors.executors[assign.tier];
    const refusal =
      stopping !== undefined
        ? "the agent is stopping"
        : executor === undefined
          ? `no executor for tier ${assign.tier} in ${options.executorsPath}`
          : sessions.size >= options.capacity
            ? `already running ${sessions.size} of capacity ${options.capacity}`
            : undefined;
    if (refusal !== undefined || executor === undefined) {
      // The registry offers it to another agent once it is released.
      log(`${label} refused: ${refusal ?? `no executor for tier ${assign.tier}`}`);
      registry.release(ref);
      return;
    }
    log(`${label} assigned (tier ${assign.tier})`);
    const session = startAttemptSession({
      assign,
      executor,
      agent: options.name,
      server: options.server,
      // The attempt's own token (docs/agent-identity.md): the task room takes this attempt only over a socket opened
      // with it.
      token: assign.attempt_token ?? credential.token(),
      workdir: options.workdir,
      scratch,
      supervisor,
      rates,
      log,
      ...(worktrees === undefined ? {} : { worktrees }),
    });
    sessions.set(keyOf(ref), { ref, session });
    void session.done.then(() => {
      sessions.delete(keyOf(ref));
      registry.release(ref);
    });
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      service.stop();
      for (const { session } of sessions.values()) session.abort();
      // A clone of a large repository may take long: it is ended, not waited for (docs/repositories.md).
      stopNetworkGit();
      await Promise.all([...sessions.values()].map(({ session }) => session.done));
      registry.close();
      worktrees?.stop();
      leftoverKillers.delete(killLeftovers);
      if (leftoverKillers.size === 0) process.off("exit", killAllLeftovers);
      for (const done of stopped) done();
    })();
    return stopping;
  };

  const reload = (next: ExecutorsFile, preflight: Preflight): void => {
    executors = next;
    const { unavailable: _old, ...rest } = identity;
    registry.rehello({
      ...rest,
      tiers: preflight.tiers,
      ...(Object.keys(preflight.unavailable).length === 0 ? {} : { unavailable: preflight.unavailable }),
    });
  };

  const onFatal =
    platform.onFatal ??
    ((message: string): void => {
      log(`${message}; exiting`);
      void stop().then(() => process.exit(1));
    });

  const registry = new RegistryLink({
    server: options.server,
    credential,
    identity,
    log,
    // Heartbeats say what each attempt is doing, so the dashboard can tell dead from slow from waiting.
    running: () => [...sessions.values()].map(({ ref, session }) => ({ ...ref, ...session.status() })),
    onAssign,
    onFatal,
    onMerge: (merge) => {
      log(`task ${merge.task_id} attempt ${merge.attempt}: merging ${merge.branch} into ${merge.repo}`);
      const merged =
        worktrees === undefined
          ? Promise.resolve({
              ok: false as const,
              code: "internal" as const,
              message: "this agent has no git worktree support",
              files: [],
            })
          : worktrees.merge(merge);
      void merged
        .catch((error: unknown) => ({
          ok: false as const,
          code: "internal" as const,
          message: `the merge failed: ${String(error)}`,
          files: [],
        }))
        .then((outcome) => {
          log(
            `task ${merge.task_id} attempt ${merge.attempt}: ${outcome.ok ? `merged, checkout at ${outcome.commit.slice(0, 12)}` : `not merged (${outcome.code}): ${outcome.message}`}`,
          );
          registry.merged(merge.request_id, outcome);
        });
    },
    onWorktreesRelease: (release) => {
      void worktrees?.release(release.task_id, release.keep);
      void scratch.release(release.task_id);
    },
    // Under systemd (Type=notify) the status line says where it stands; READY=1 went out at start.
    onRegistered: () => service.ready(`registered with ${options.server.origin} as ${options.name}`),
    worktreesBytes: () => worktrees?.diskBytes(),
    degraded: () => {
      const fault = worktrees?.degraded();
      return fault === undefined ? undefined : { worktree: fault };
    },
  });
  // After the link exists (its first hello goes out once the socket opens): the directory is tried now.
  worktrees?.start();
  log(
    `agent ${options.name} (${options.kind}) connecting to ${options.server.origin} with tiers ${identity.tiers.join(",")}`,
  );
  // Ready once started, not once registered: a mesh that is down at boot must not fail the unit's start (it
  // reconnects).
  service.ready(`connecting to ${options.server.origin} as ${options.name}`);
  log(`children run with ${supervisor.description}`);
  log(
    worktrees === undefined
      ? "no git worktree support (git missing or older than 2.17): tasks that need isolation go to other agents"
      : `attempts run in git worktrees under ${options.worktreesDir}`,
  );

  const killLeftovers = (): void => {
    for (const { session } of sessions.values()) {
      const pid = session.pid();
      if (pid === undefined) continue;
      const sent = signalGroup(pid, "SIGKILL");
      if (!sent.ok) log(sent.error.message);
    }
  };
  if (leftoverKillers.size === 0) process.on("exit", killAllLeftovers);
  leftoverKillers.add(killLeftovers);

  return { stop, reload, onStop: (done) => void stopped.push(done) };
}
