import type { ChatId, UserId } from "../../../runtime/ids.js";
import { LoadClients } from "../load/clients.js";
import type { StepResult, Target } from "../load/protocol.js";
import { sleep, wallNow } from "../load/stats.js";
import {
  bareTargets,
  ids,
  LOAD_LIMITS_ENV,
  type PlatformUnderTest,
  startBareServer,
  startCluster,
  startEmbedded,
} from "../load/systems.js";
import { hopBreakdown, TraceCollector } from "../load/trace-collector.js";
import {
  figure,
  type LatencyCurve,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from "../scenario.js";

/**
 * End to end: send -> receive latency at rising offered rates, open loop. Sender clients send `send_message`
 * on a fixed timetable (./load/client-process.ts); each message carries its scheduled send time, and the
 * receiving client measures from that time, so queueing anywhere (the generator included) shows in the
 * latency instead of slowing the offered load. A step's rate is met when p99 <= 100 ms and the receivers
 * take in >= 95% of the offered rate; the knee is the highest such rate.
 *
 * Shape: S sender connections, C two-member group chats (one sender, one receiver each, chats of a sender
 * taken in turn), so every message is one push. Run on the embedded platform, on the local cluster (one
 * process per role, DynamoDB + Redis + Kafka) and, as the baseline, on a bare `ws` relay that acks and
 * pushes each frame to the chat's receiver: the ceiling of the load generator and loopback on this machine.
 */

const TARGET_P99_MS = 100;
const TARGET_ACHIEVED = 0.95;
const TARGET_EMBEDDED_KNEE = 2_000;
/** The cluster's latency is judged at this offered rate, cut into hops from the traces of that step. */
const CLUSTER_HOPS_RATE = 100;
const TARGET_CLUSTER_P99_MS = 50;
/**
 * Share of the cluster's sends traced (the production default is 1%): enough traces in a step at
 * CLUSTER_HOPS_RATE for a p99 per hop without the export weighing on the latency it measures.
 */
const CLUSTER_TRACE_RATIO = "0.25";
/** The OTLP batch processor exports every 5 s: the last step's spans arrive within this. */
const TRACE_FLUSH_MS = 6_000;
const CONTENT_BYTES = 100;

interface Settings {
  readonly rates: readonly number[];
  readonly stepMs: number;
  readonly drainMs: number;
  readonly senders: number;
  readonly chats: number;
  readonly clusterShape: { gateways: number; ingest: number; fanout: number; chatmgmt: number };
}

const settingsFor = (quick: boolean): Settings =>
  quick
    ? {
        rates: [50, 100, 250, 500, 1_000, 2_000, 3_000, 5_000],
        stepMs: 2_000,
        drainMs: 1_000,
        senders: 50,
        chats: 200,
        clusterShape: { gateways: 1, ingest: 1, fanout: 1, chatmgmt: 1 },
      }
    : {
        rates: [50, 100, 250, 500, 1_000, 2_000, 3_000, 5_000, 7_000, 10_000],
        stepMs: 5_000,
        drainMs: 2_000,
        senders: 100,
        chats: 500,
        clusterShape: { gateways: 2, ingest: 2, fanout: 1, chatmgmt: 1 },
      };

const pointMet = (step: StepResult) =>
  step.p99Ms <= TARGET_P99_MS && step.achievedPerSecond >= TARGET_ACHIEVED * step.offeredPerSecond;

/** The highest offered rate below the first step that missed a condition, 0 if the first missed. */
const kneeOf = (steps: readonly StepResult[]) => {
  let knee = 0;
  for (const step of steps) {
    if (!pointMet(step)) break;
    knee = step.offeredPerSecond;
  }
  return knee;
};

interface Topology {
  readonly senderTargets: Target[];
  readonly receiverTargets: Target[];
  readonly chatsBySender: string[][];
}

/** Users and chats on a platform: chat c joins sender c mod S and receiver c. */
async function platformTopology(platform: PlatformUnderTest, settings: Settings): Promise<Topology> {
  const senders: UserId[] = Array.from({ length: settings.senders }, () => ids.user());
  const receivers: UserId[] = Array.from({ length: settings.chats }, () => ids.user());
  const chatsBySender: string[][] = senders.map(() => []);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let c = next++; c < settings.chats; c = next++) {
        const chatId = await platform.chat([senders[c % settings.senders] as UserId, receivers[c] as UserId]);
        chatsBySender[c % settings.senders]?.push(chatId);
      }
    }),
  );
  return {
    senderTargets: await platform.targets(senders),
    // Receivers start on the next gateway, so in the cluster most pushes cross gateways.
    receiverTargets: await platform.targets(receivers, 1),
    chatsBySender,
  };
}

/** Steps the offered rate up until a step misses p99 or throughput; returns every step run. */
async function curve(
  context: ScenarioContext,
  clients: LoadClients,
  label: string,
  topology: Topology,
  waitFirstFrame: boolean,
  settings: Settings,
  /** Told each step's wall-clock window (to cut the traces of one step out of a run). */
  onStep: (rate: number, fromMs: number, toMs: number) => void = () => {},
  /** Steps up to this rate run even after a miss (the knee still ends at the first one). */
  keepGoingThrough = 0,
): Promise<StepResult[]> {
  const senders = await clients.connect(`${label}-senders`, topology.senderTargets, {
    waitFirstFrame,
    record: "stamped",
  });
  const receivers = await clients.connect(`${label}-receivers`, topology.receiverTargets, {
    waitFirstFrame,
    record: "stamped",
  });
  if (senders.failed + receivers.failed > 0) {
    throw new Error(`${label}: ${senders.failed + receivers.failed} connections failed`);
  }
  const plan = (ratePerSecond: number, durationMs: number) => ({
    ratePerSecond,
    durationMs,
    drainMs: settings.drainMs,
    contentBytes: CONTENT_BYTES,
    chatsBySender: topology.chatsBySender,
  });
  try {
    // Warm-up, not counted: every chat gets a message (its sequencer activates, fanout caches its members)
    // and code gets compiled. Activations read DynamoDB, so the warm-up waits long for its last pushes.
    const warm = await clients.load(`${label}-senders`, {
      ...plan(50, Math.max(2_000, settings.chats * 20)),
      drainMs: 30_000,
    });
    context.progress(`  ${label} warm-up: ${warm.received}/${warm.scheduled} received, p99 ${warm.p99Ms} ms`);
    const steps: StepResult[] = [];
    for (const rate of settings.rates) {
      const fromMs = wallNow();
      const step = await clients.load(`${label}-senders`, plan(rate, settings.stepMs));
      onStep(rate, fromMs, wallNow());
      steps.push(step);
      const errors = Object.entries(step.errors)
        .map(([code, count]) => `${code} x${count}`)
        .join(", ");
      context.progress(
        `  ${label} ${rate} msg/s: achieved ${step.achievedPerSecond}/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, p999 ${step.p999Ms} ms, received ${step.received}/${step.scheduled}, acks ${step.acks}, late sends ${step.sentLate}${errors ? `, errors ${errors}` : ""}`,
      );
      if (!pointMet(step) && rate >= keepGoingThrough) break;
      // Let queues empty before the next step.
      await sleep(500);
    }
    return steps;
  } finally {
    await clients.close(`${label}-senders`);
    await clients.close(`${label}-receivers`);
  }
}

async function embeddedCurve(context: ScenarioContext, clients: LoadClients, settings: Settings) {
  context.progress("end-to-end: embedded platform");
  const platform = await startEmbedded(context.env, LOAD_LIMITS_ENV);
  try {
    const topology = await platformTopology(platform, settings);
    return { steps: await curve(context, clients, "embedded", topology, true, settings), platform };
  } finally {
    await platform.stop();
  }
}

async function clusterCurve(context: ScenarioContext, clients: LoadClients, settings: Settings) {
  context.progress(`end-to-end: local cluster ${JSON.stringify(settings.clusterShape)}`);
  const collector = new TraceCollector();
  const tracing = {
    TRACING_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_ENDPOINT: await collector.start(),
    TRACING_SAMPLE_RATIO: CLUSTER_TRACE_RATIO,
  };
  try {
    const platform = await startCluster(
      context.env,
      settings.clusterShape,
      { ...LOAD_LIMITS_ENV, ...tracing },
      (line) => context.progress(`  cluster: ${line}`),
    );
    let window: { fromMs: number; toMs: number } | undefined;
    try {
      const topology = await platformTopology(platform, settings);
      const steps = await curve(
        context,
        clients,
        "cluster",
        topology,
        true,
        settings,
        (rate, fromMs, toMs) => {
          if (rate === CLUSTER_HOPS_RATE) window = { fromMs, toMs };
        },
        CLUSTER_HOPS_RATE,
      );
      await sleep(TRACE_FLUSH_MS);
      const hops =
        window === undefined ? undefined : hopBreakdown(collector.spans, window.fromMs, window.toMs);
      if (hops !== undefined) {
        context.progress(
          `  cluster hops at ${CLUSTER_HOPS_RATE} msg/s (${hops.traces} traces): ${Object.entries(hops.hops)
            .map(([name, summary]) => `${name} p50 ${summary.p50Ms} / p99 ${summary.p99Ms} ms`)
            .join("; ")}`,
        );
      }
      return { steps, platform, hops };
    } finally {
      await platform.stop();
    }
  } finally {
    await collector.stop();
  }
}

async function bareCurve(context: ScenarioContext, clients: LoadClients, settings: Settings) {
  context.progress("end-to-end: bare ws relay (baseline)");
  const server = await startBareServer({ relay: true });
  try {
    const chats: ChatId[] = Array.from({ length: settings.chats }, () => ids.chat());
    const chatsBySender: string[][] = Array.from({ length: settings.senders }, () => []);
    for (const [c, chatId] of chats.entries()) chatsBySender[c % settings.senders]?.push(chatId);
    const topology: Topology = {
      senderTargets: bareTargets(server.url, settings.senders, () => "senders"),
      receiverTargets: bareTargets(server.url, settings.chats, (c) => chats[c] as string),
      chatsBySender,
    };
    return await curve(context, clients, "bare", topology, false, settings);
  } finally {
    await server.stop();
  }
}

/**
 * The cluster's p99 at CLUSTER_HOPS_RATE against the bare relay's at the same rate (the hops are in details);
 * none when the curve stopped below that rate.
 */
function clusterP99Figure(cluster: readonly StepResult[], bare: readonly StepResult[]) {
  const at = (steps: readonly StepResult[]) =>
    steps.find((step) => step.offeredPerSecond === CLUSTER_HOPS_RATE);
  const step = at(cluster);
  if (step === undefined) return [];
  return [
    figure({
      name: `end_to_end.cluster.p99_at_${CLUSTER_HOPS_RATE}`,
      value: step.p99Ms,
      unit: "ms",
      baseline: at(bare)?.p99Ms ?? null,
      baselineLabel: `bare ws relay at ${CLUSTER_HOPS_RATE} msg/s, same generator`,
      target: `<= ${TARGET_CLUSTER_P99_MS} ms (hops in details)`,
      met: step.p99Ms <= TARGET_CLUSTER_P99_MS,
    }),
  ];
}

const toPoints = (steps: readonly StepResult[]) =>
  steps.map((step) => ({
    offeredPerSecond: step.offeredPerSecond,
    achievedPerSecond: step.achievedPerSecond,
    p50Ms: step.p50Ms,
    p99Ms: step.p99Ms,
    p999Ms: step.p999Ms,
  }));

export const scenario: Scenario = {
  name: "end-to-end",
  title: "End to end: send -> receive latency at rising open-loop rates (the knee), embedded and cluster",
  // The cluster needs all three; the embedded platform takes DynamoDB from them.
  engines: ["dynamodb", "redis", "kafka"],
  async run(context: ScenarioContext): Promise<ScenarioResult> {
    const settings = settingsFor(context.quick);
    const clients = new LoadClients();
    try {
      const bare = await bareCurve(context, clients, settings);
      const embedded = await embeddedCurve(context, clients, settings);
      const { KAFKA_BROKERS, REDIS_URL, DYNAMODB_ENDPOINT } = context.env;
      // A cluster that cannot start (missing engines, a node failing) leaves the other curves standing.
      let clusterSkipped: string | undefined;
      const cluster =
        KAFKA_BROKERS && REDIS_URL && DYNAMODB_ENDPOINT
          ? await clusterCurve(context, clients, settings).catch((error: unknown) => {
              clusterSkipped = `the cluster failed: ${error instanceof Error ? error.message : String(error)}`;
              return undefined;
            })
          : undefined;
      if (cluster === undefined) {
        clusterSkipped ??= "no DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS for the cluster";
        context.progress(`end-to-end: cluster skipped: ${clusterSkipped}`);
      }
      const bareKnee = kneeOf(bare);
      const baselineLabel = `bare ws relay, same generator${bareKnee === settings.rates.at(-1) ? " (highest rate offered)" : ""}`;
      const curves: LatencyCurve[] = [{ label: "embedded", points: toPoints(embedded.steps) }];
      if (cluster !== undefined) curves.push({ label: "cluster", points: toPoints(cluster.steps) });
      const embeddedKnee = kneeOf(embedded.steps);
      return {
        figures: [
          figure({
            name: "end_to_end.knee.embedded",
            value: embeddedKnee,
            unit: "msg/s",
            baseline: bareKnee,
            baselineLabel,
            target: `>= ${TARGET_EMBEDDED_KNEE} msg/s`,
            met: embeddedKnee >= TARGET_EMBEDDED_KNEE,
          }),
          ...(cluster === undefined
            ? []
            : [
                figure({
                  name: "end_to_end.knee.cluster",
                  value: kneeOf(cluster.steps),
                  unit: "msg/s",
                  baseline: bareKnee,
                  baselineLabel,
                  target: null,
                }),
                ...clusterP99Figure(cluster.steps, bare),
              ]),
        ],
        curves,
        details: {
          knee: `highest offered rate with p99 <= ${TARGET_P99_MS} ms and achieved >= ${TARGET_ACHIEVED * 100}% of offered; steps stop at the first miss`,
          rates: settings.rates,
          stepMs: settings.stepMs,
          drainMs: settings.drainMs,
          senders: settings.senders,
          chats: settings.chats,
          contentBytes: CONTENT_BYTES,
          latencyFrom:
            "each message's scheduled send time (open loop); a message not received by the end of the drain counts as the drain time",
          machine:
            "the load generator (one child process: senders and receivers) shares this machine's 2 cores with the server(s) and the engines, so every knee here is a lower bound of the server's own capacity",
          sendLimits:
            "per-connection send limits raised (WS_SEND_PER_CONNECTION_PER_S, WS_SEND_PER_CHAT_PER_S, WS_SEND_PER_CHAT_BURST): the load comes from fewer connections than real users",
          bare: { knee: bareKnee, steps: bare },
          embedded: { knee: embeddedKnee, settings: embedded.platform.settings, steps: embedded.steps },
          cluster:
            cluster === undefined
              ? { skipped: clusterSkipped }
              : {
                  knee: kneeOf(cluster.steps),
                  settings: cluster.platform.settings,
                  steps: cluster.steps,
                  hopsAt: CLUSTER_HOPS_RATE,
                  traceRatio: Number(CLUSTER_TRACE_RATIO),
                  hops: cluster.hops ?? "no step at that rate was run",
                  hopsFrom:
                    "OTLP spans of the cluster's processes (same machine clock): gateway.receive_message, durability.persist, durability.kafka_produce, fanout.consume, gateway.receive_delivery",
                },
        },
      };
    } finally {
      await clients.stop();
    }
  },
};

/** The cluster curve alone, with its hops (engines from the context). */
export async function clusterOnly(context: ScenarioContext) {
  const clients = new LoadClients();
  try {
    const { steps, hops } = await clusterCurve(context, clients, settingsFor(context.quick));
    return { steps, hops };
  } finally {
    await clients.stop();
  }
}

/** The embedded curve alone (no baseline, no cluster), e.g. to profile the server under load. */
export async function embeddedOnly(context: ScenarioContext): Promise<StepResult[]> {
  const clients = new LoadClients();
  try {
    return (await embeddedCurve(context, clients, settingsFor(context.quick))).steps;
  } finally {
    await clients.stop();
  }
}
