import { defaultCacheDir } from "../../../deploy/local/engine.js";
import type { UserId } from "../../../runtime/ids.js";
import { CENTRIFUGO_NAMESPACE, ensureCentrifugo, startCentrifugo } from "../load/centrifugo.js";
import { LoadClients } from "../load/clients.js";
import { ownCpuSeconds } from "../load/process-cpu.js";
import type { StepResult, Target } from "../load/protocol.js";
import { round, sleep } from "../load/stats.js";
import { ids, LOAD_LIMITS_ENV, startEmbedded } from "../load/systems.js";
import type { WireName } from "../load/wire.js";
import {
  figure,
  type LatencyCurve,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from "../scenario.js";

/**
 * Groups: small group chats under one open-loop generator, the shape of a messaging app's busiest path.
 * 100 chats of 5 members: one sender per chat, four receivers, each receiver acking cumulatively at most every
 * 100 ms per chat; 100-byte messages. The offered rate steps up until a step misses p99 send -> push <= 100 ms
 * or has fewer than 95% of its messages reach all four receivers; the knee is the highest rate that met both.
 * Each step also reports the server's CPU per delivered push.
 *
 * Baseline, same generator and shape: Centrifugo v6 (memory engine, a namespace with history and forced
 * recovery, client-side publish into 100 channels of four subscribers each). Its receivers send no acks:
 * Centrifugo's protocol has none (delivery is at most once; history and recovery stand in for them).
 */

const TARGET_P99_MS = 100;
const TARGET_DELIVERED_TO_ALL = 0.95;
const TARGET_KNEE = 1_000;
const CONTENT_BYTES = 100;
const CHATS = 100;
const RECEIVERS_PER_CHAT = 4;
/** The acks' cadence per receiver and chat. */
const ACK_INTERVAL_MS = 100;
/** Under the 30 s heartbeat_interval_ms the gateway announces, so no connection closes with idle_timeout. */
const HEARTBEAT_INTERVAL_MS = 25_000;
const WARM_UP_DRAIN_MS = 30_000;
/** Before a missed step runs again: the drain has ended, this lets the queues behind it empty too. */
const RETRY_PAUSE_MS = 2_000;

interface Settings {
  readonly rates: readonly number[];
  readonly stepMs: number;
  readonly drainMs: number;
}

const settingsFor = (quick: boolean): Settings =>
  quick
    ? { rates: [50, 100, 200, 400, 1_000, 2_000], stepMs: 2_000, drainMs: 1_000 }
    : { rates: [50, 100, 200, 400, 800, 1_000, 1_500, 2_000], stepMs: 5_000, drainMs: 2_000 };

/** A step and the server CPU it cost. */
interface GroupStep extends StepResult {
  readonly serverCpuMs: number;
  /** Server CPU over the step (sends, drain included) per push delivered in it. */
  readonly cpuUsPerPush: number;
}

const pointMet = (step: StepResult) =>
  step.p99Ms <= TARGET_P99_MS && step.deliveredToAll >= TARGET_DELIVERED_TO_ALL * step.scheduled;

/** The highest offered rate whose step met both conditions (steps stop at the first miss), 0 if none. */
const kneeOf = (steps: readonly StepResult[]) =>
  steps.filter(pointMet).reduce((best, step) => Math.max(best, step.offeredPerSecond), 0);

/** One system under the generator: who connects where, and how its server's CPU is read. */
interface System {
  readonly label: string;
  readonly wire: WireName;
  readonly senderTargets: readonly Target[];
  readonly receiverTargets: readonly Target[];
  /** Sender i sends to chat i. */
  readonly chatsBySender: readonly (readonly string[])[];
  readonly ackIntervalMs: number | undefined;
  cpuSeconds(): number;
}

async function curve(
  context: ScenarioContext,
  clients: LoadClients,
  system: System,
  settings: Settings,
): Promise<{ steps: GroupStep[]; retried: GroupStep[] }> {
  const { label } = system;
  const common = {
    waitFirstFrame: true,
    record: "stamped",
    wire: system.wire,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
  } as const;
  const senders = await clients.connect(`${label}-senders`, system.senderTargets, common);
  const receivers = await clients.connect(`${label}-receivers`, system.receiverTargets, {
    ...common,
    ...(system.ackIntervalMs === undefined ? {} : { ackIntervalMs: system.ackIntervalMs }),
  });
  try {
    if (senders.failed + receivers.failed > 0) {
      throw new Error(`${label}: ${senders.failed + receivers.failed} connections failed`);
    }
    const plan = (ratePerSecond: number, durationMs: number) => ({
      ratePerSecond,
      durationMs,
      drainMs: settings.drainMs,
      contentBytes: CONTENT_BYTES,
      chatsBySender: system.chatsBySender,
      pushesPerMessage: RECEIVERS_PER_CHAT,
    });
    // Warm-up, not counted: one message per chat activates its sequencer and fills the fanout's member cache.
    const warm = await clients.load(`${label}-senders`, {
      ...plan(50, Math.max(2_000, CHATS * 20)),
      drainMs: WARM_UP_DRAIN_MS,
    });
    context.progress(
      `  ${label} warm-up: ${warm.deliveredToAll}/${warm.scheduled} reached all receivers, p99 ${warm.p99Ms} ms`,
    );
    const measure = async (rate: number): Promise<GroupStep> => {
      const cpuBefore = system.cpuSeconds();
      const step = await clients.load(`${label}-senders`, plan(rate, settings.stepMs));
      const serverCpuMs = (system.cpuSeconds() - cpuBefore) * 1000;
      const errors = Object.entries(step.errors)
        .map(([code, count]) => `${code} x${count}`)
        .join(", ");
      const measured: GroupStep = {
        ...step,
        serverCpuMs: round(serverCpuMs, 0),
        cpuUsPerPush: step.received === 0 ? Number.NaN : round((serverCpuMs * 1000) / step.received, 1),
      };
      context.progress(
        `  ${label} ${rate} msg/s: ${step.pushesPerSecond} pushes/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, all ${RECEIVERS_PER_CHAT} reached ${step.deliveredToAll}/${step.scheduled}, server CPU ${measured.cpuUsPerPush} µs/push, acks sent ${step.deliveryAcksSent}, late sends ${step.sentLate}${errors ? `, errors ${errors}` : ""}`,
      );
      return measured;
    };
    const steps: GroupStep[] = [];
    const retried: GroupStep[] = [];
    for (const rate of settings.rates) {
      let step = await measure(rate);
      if (!pointMet(step)) {
        // Neighbours on a shared machine can starve one step (the generator's late sends show it): a miss
        // ends the curve only when the step misses again.
        retried.push(step);
        context.progress(`  ${label} ${rate} msg/s missed; once more after ${RETRY_PAUSE_MS} ms`);
        await sleep(RETRY_PAUSE_MS);
        step = await measure(rate);
      }
      steps.push(step);
      if (!pointMet(step)) break;
      // Let queues empty before the next step.
      await sleep(500);
    }
    return { steps, retried };
  } finally {
    await clients.close(`${label}-senders`);
    await clients.close(`${label}-receivers`);
  }
}

async function embeddedCurve(context: ScenarioContext, clients: LoadClients, settings: Settings) {
  context.progress("groups: embedded platform");
  const platform = await startEmbedded(context.env, LOAD_LIMITS_ENV);
  try {
    const senders: UserId[] = Array.from({ length: CHATS }, () => ids.user());
    const receivers: UserId[] = Array.from({ length: CHATS * RECEIVERS_PER_CHAT }, () => ids.user());
    const chats: string[] = [];
    for (let c = 0; c < CHATS; c++) {
      const members = receivers.slice(c * RECEIVERS_PER_CHAT, (c + 1) * RECEIVERS_PER_CHAT);
      chats.push(await platform.chat([senders[c] as UserId, ...members]));
    }
    const measured = await curve(
      context,
      clients,
      {
        label: "embedded",
        wire: "platform",
        senderTargets: await platform.targets(senders),
        // Device ids continue after the senders'.
        receiverTargets: await platform.targets(receivers, CHATS),
        chatsBySender: chats.map((chat) => [chat]),
        ackIntervalMs: ACK_INTERVAL_MS,
        // The platform runs in this process; the generator is a child process of its own.
        cpuSeconds: ownCpuSeconds,
      },
      settings,
    );
    return { ...measured, settings: platform.settings };
  } finally {
    await platform.stop();
  }
}

async function centrifugoCurve(context: ScenarioContext, clients: LoadClients, settings: Settings) {
  const installed = await ensureCentrifugo(defaultCacheDir(context.env), (line) =>
    context.progress(`  ${line}`),
  );
  if ("unavailable" in installed) return { skipped: installed.unavailable } as const;
  context.progress(`groups: Centrifugo ${installed.version} (baseline)`);
  const server = await startCentrifugo(installed, (line) => context.progress(`  ${line}`));
  try {
    const channels = Array.from({ length: CHATS }, (_, c) => `${CENTRIFUGO_NAMESPACE}:chat-${c}`);
    const senderTargets = await Promise.all(channels.map((_, c) => server.target(`sender-${c}`, [])));
    const receiverTargets = await Promise.all(
      Array.from({ length: CHATS * RECEIVERS_PER_CHAT }, (_, r) =>
        server.target(`receiver-${r}`, [channels[Math.floor(r / RECEIVERS_PER_CHAT)] as string]),
      ),
    );
    const measured = await curve(
      context,
      clients,
      {
        label: "centrifugo",
        wire: "centrifugo",
        senderTargets,
        receiverTargets,
        chatsBySender: channels.map((channel) => [channel]),
        ackIntervalMs: undefined,
        cpuSeconds: () => server.cpuSeconds(),
      },
      settings,
    );
    return { ...measured, version: server.version, config: server.config } as const;
  } finally {
    await server.stop();
  }
}

const toPoints = (steps: readonly StepResult[]) =>
  steps.map((step) => ({
    offeredPerSecond: step.offeredPerSecond,
    achievedPerSecond: step.achievedPerSecond,
    p50Ms: step.p50Ms,
    p99Ms: step.p99Ms,
    p999Ms: step.p999Ms,
  }));

/** The per-step table of the report. */
const stepRows = (steps: readonly GroupStep[]) =>
  steps.map((step) => ({
    offeredPerSecond: step.offeredPerSecond,
    deliveredPushesPerSecond: step.pushesPerSecond,
    p50Ms: step.p50Ms,
    p99Ms: step.p99Ms,
    p999Ms: step.p999Ms,
    reachedAllReceivers: round(step.deliveredToAll / Math.max(1, step.scheduled), 3),
    serverCpuUsPerPush: step.cpuUsPerPush,
    met: pointMet(step),
    detail: step,
  }));

/** The step of `steps` at `rate`, if one ran. */
const stepAt = (steps: readonly GroupStep[], rate: number) => steps.find((s) => s.offeredPerSecond === rate);

interface Curve {
  readonly steps: GroupStep[];
  readonly retried: GroupStep[];
}

/** Figures and details of both curves; `baseline` is undefined when Centrifugo could not run. */
function result(
  settings: Settings,
  embedded: Curve & { readonly settings: Readonly<Record<string, unknown>> },
  baseline: (Curve & { readonly version: string; readonly config: unknown }) | undefined,
  skipped: string | undefined,
): ScenarioResult {
  const ours = embedded.steps;
  const knee = kneeOf(ours);
  const baselineKnee = baseline === undefined ? null : kneeOf(baseline.steps);
  const baselineName =
    baseline === undefined ? "Centrifugo (not run)" : `Centrifugo ${baseline.version}, same generator`;
  // CPU per push compares at one offered rate: the highest both met (else the first), where neither is
  // saturated, so the figure is the cost of a push rather than the cost of queueing.
  const compareRate =
    settings.rates.filter((rate) => rate <= Math.min(knee, baselineKnee ?? knee)).at(-1) ??
    (settings.rates[0] as number);
  const pushesAt = (steps: readonly GroupStep[], rate: number) => stepAt(steps, rate)?.pushesPerSecond ?? 0;
  const curves: LatencyCurve[] = [{ label: "groups embedded", points: toPoints(ours) }];
  if (baseline !== undefined) curves.push({ label: "groups centrifugo", points: toPoints(baseline.steps) });
  return {
    figures: [
      figure({
        name: "groups.knee.embedded",
        value: knee,
        unit: "msg/s",
        baseline: baselineKnee,
        baselineLabel: `${baselineName}${baselineKnee === settings.rates.at(-1) ? " (highest rate offered)" : ""}`,
        target: `>= ${TARGET_KNEE} msg/s (${TARGET_KNEE * RECEIVERS_PER_CHAT} pushes/s)`,
        met: knee >= TARGET_KNEE,
      }),
      figure({
        name: "groups.knee_pushes.embedded",
        value: pushesAt(ours, knee),
        unit: "pushes/s",
        baseline:
          baseline === undefined || baselineKnee === null ? null : pushesAt(baseline.steps, baselineKnee),
        baselineLabel: `${baselineName}, delivered pushes/s at its knee`,
        target: null,
      }),
      figure({
        name: "groups.cpu_per_push.embedded",
        value: stepAt(ours, compareRate)?.cpuUsPerPush ?? Number.NaN,
        unit: "µs/push",
        baseline: baseline === undefined ? null : (stepAt(baseline.steps, compareRate)?.cpuUsPerPush ?? null),
        baselineLabel: `${baselineName}, server CPU at ${compareRate} msg/s`,
        target: null,
      }),
    ],
    curves,
    details: {
      knee: `highest offered rate with p99 send -> push <= ${TARGET_P99_MS} ms and >= ${TARGET_DELIVERED_TO_ALL * 100}% of messages reaching all ${RECEIVERS_PER_CHAT} receivers by the end of the drain; a missed step runs once more, and the curve ends at the first step that misses twice`,
      shape: `${CHATS} chats of ${RECEIVERS_PER_CHAT + 1} members: one sender connection per chat (sender i sends to chat i), ${RECEIVERS_PER_CHAT} receiver connections per chat; ${CONTENT_BYTES}-byte messages; one generator process for both systems`,
      acks: `receivers on our platform send a cumulative ack per chat at most every ${ACK_INTERVAL_MS} ms (the first push after a flush arms the timer); Centrifugo's receivers send none, its protocol has no delivery ack (history and recovery stand in for it)`,
      cpu: "server CPU (user + system) over each step, drain included, divided by the pushes delivered in it. Ours: process.cpuUsage of the bench process (every thread of it), which runs the embedded platform and, without DYNAMODB_ENDPOINT, its dynalite storage (the generator is a child process). Centrifugo: /proc/<pid>/stat of its process, at the kernel tick's resolution (10 ms).",
      cpuCompareRate: compareRate,
      latencyFrom:
        "each message's scheduled send time (open loop), per push; a push not received by the end of the drain counts as the drain time",
      machine:
        "the generator shares this machine's cores with the server (and with whatever else runs on it), so every knee is a lower bound of the server's own capacity; `sentLate` counts sends the generator itself made late",
      sendLimits:
        "per-connection send limits raised as in end-to-end (LOAD_LIMITS_ENV): one sender connection offers a whole chat's load",
      rates: settings.rates,
      stepMs: settings.stepMs,
      drainMs: settings.drainMs,
      embedded: {
        knee,
        settings: embedded.settings,
        steps: stepRows(ours),
        missedOnFirstTry: stepRows(embedded.retried),
      },
      centrifugo:
        baseline === undefined
          ? { skipped }
          : {
              knee: baselineKnee,
              version: baseline.version,
              config: baseline.config,
              publish:
                "client-side publish (allow_publish_for_client); subscriptions from the connection token's channels claim",
              steps: stepRows(baseline.steps),
              missedOnFirstTry: stepRows(baseline.retried),
            },
      kneeRatio: baselineKnee === null || baselineKnee === 0 ? null : round(knee / baselineKnee, 2),
    },
  };
}

export const scenario: Scenario = {
  name: "groups",
  title:
    "Groups: 100 chats of 5 (1 sender, 4 acking receivers), rising open-loop rates (the knee), vs Centrifugo",
  async run(context: ScenarioContext): Promise<ScenarioResult> {
    const settings = settingsFor(context.quick);
    const clients = new LoadClients();
    try {
      const centrifugo = await centrifugoCurve(context, clients, settings);
      const skipped = "skipped" in centrifugo ? centrifugo.skipped : undefined;
      if (skipped !== undefined) context.progress(`groups: Centrifugo skipped: ${skipped}`);
      const embedded = await embeddedCurve(context, clients, settings);
      return result(settings, embedded, "skipped" in centrifugo ? undefined : centrifugo, skipped);
    } finally {
      await clients.stop();
    }
  },
};
