/**
 * Clients nobody wrote yet: each a handful of the timers real clients keep (a wait for a
 * first byte, a read timeout, an alarm on a whole line, one on the whole connection) and
 * one way of judging what it got, run connection after connection against the real engine
 * and pacer, on the in-memory transport and a clock of their own, to the millisecond. A
 * bot of each model makes its connections one after another from one source, as a
 * brute-forcer with one thread does. `deno task bench-models` runs every model;
 * tests/unit/client_models_test.ts holds the learner to what it must do for all of them.
 *
 * @module
 */
import { Tarpit } from "../../src/engine/tarpit.ts";
import type { Clock } from "../../src/engine/pacing_clock.ts";
import { Learner } from "../../src/learn/learner.ts";
import { type Protocol, protocols } from "../../protocols/mod.ts";
import { linePoolSize, type Profile } from "../../protocols/protocol.ts";
import type { WriteOutcome } from "../../src/engine/transport.ts";
import { Connection, Listener, MemoryTransport } from "./memory_transport.ts";

/**
 * How a client judges what it was sent, besides its timers:
 * - `reads`: it reads on until a timer fires;
 * - `first-bytes`: it leaves {@link verdictMs} after its first bytes, having matched them
 *   against what it expected (medusa);
 * - `reply`: it speaks once a whole line came, and leaves at the next whole line, which it
 *   takes for the reply (one password a connection);
 * - `replies`: it speaks after every whole line, taking each for a reply, and goes on
 *   (a password a line).
 */
export type Judges = "reads" | "first-bytes" | "reply" | "replies";

/** A client: its timers, in seconds (Infinity for none), and how it judges. */
export interface ClientModel {
  /** Leaves when no byte came this long after its connect. */
  readonly firstWaitS: number;
  /** Leaves when no byte came this long after the last one. */
  readonly readWaitS: number;
  /** Leaves when a line is not whole this long after the line before it was. */
  readonly lineAlarmS: number;
  /** Leaves this long after its connect, whatever it got. */
  readonly totalS: number;
  readonly judges: Judges;
}

/** How long after its first bytes a `first-bytes` client has judged them and left. */
const verdictMs = 300;

/** How long a client takes to act on what it read: a round trip and a little work. */
const reactionMs = 20;

/**
 * A model's name: its timers and how it judges.
 *
 * @example
 * ```ts ignore
 * modelName({ firstWaitS: 5, readWaitS: 10, lineAlarmS: 30, totalS: Infinity, judges: "reads" });
 * // "5/10/30/inf reads"
 * ```
 */
export function modelName(model: ClientModel): string {
  const s = (value: number) => value === Infinity ? "inf" : String(value);
  const { firstWaitS, readWaitS, lineAlarmS, totalS, judges } = model;
  return `${s(firstWaitS)}/${s(readWaitS)}/${s(lineAlarmS)}/${s(totalS)} ${judges}`;
}

/**
 * Every model of the grid: the timers real clients are seen with (scanners' scripts wait 5
 * to 10 s; libraries, 10 to 30; alarms on a reply of 30 to 60 s) crossed with every way of
 * judging. A model whose first wait is longer than its read timeout is left out: the read
 * timeout is its wait for a first byte too.
 *
 * @example
 * ```ts ignore
 * modelGrid().length; // 1008
 * ```
 */
export function modelGrid(): ClientModel[] {
  const waits = [5, 8, 10, 20, 30, Infinity];
  const models: ClientModel[] = [];
  for (const firstWaitS of waits) {
    for (const readWaitS of waits) {
      if (firstWaitS > readWaitS) continue;
      for (const lineAlarmS of [15, 30, 60, Infinity]) {
        for (const totalS of [30, 120, Infinity]) {
          for (const judges of ["reads", "first-bytes", "reply", "replies"] as const) {
            models.push({ firstWaitS, readWaitS, lineAlarmS, totalS, judges });
          }
        }
      }
    }
  }
  return models;
}

/**
 * What a model's client sends as it connects, on a protocol where clients speak first: a
 * version string or a request no family's prefix names.
 *
 * @example
 * ```ts ignore
 * openings.ssh; // "SSH-2.0-Model_1.0\r\n"
 * ```
 */
export const openings: Readonly<Record<string, string>> = {
  ssh: "SSH-2.0-Model_1.0\r\n",
  http: "GET / HTTP/1.1\r\nHost: example\r\nUser-Agent: Model/1.0\r\n\r\n",
};

/** What a bot of one model got from a tarpit. */
export interface ModelRun {
  /**
   * Seconds each connection held its client, in order: until it left, or until it took a
   * line for a reply, having made progress then however long it stays.
   */
  readonly heldS: readonly number[];
  /** Pieces written to it in all. */
  readonly writes: number;
}

/**
 * Seconds a run's connections were held from the third on: a tool's first two are what
 * learning learns from.
 */
export function fromThird(run: ModelRun): number {
  return sum(run.heldS.slice(2));
}

/**
 * The sum of `values`.
 *
 * @example
 * ```ts ignore
 * sum([1, 2, 3]); // 6
 * ```
 */
export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** How a bot's connections are run. */
export interface BotOptions {
  /** Connections it makes, one after another. */
  readonly connections: number;
  /** The most a connection is run for: a client that waits for ever is held this long. */
  readonly capS: number;
}

/**
 * A protocol's profiles as the program gives its learner them: the default pacing first,
 * then the protocol's alternatives.
 *
 * @example
 * ```ts ignore
 * profilesOf("smtp").map((profile) => profile.name); // ["default", "early", "lines", ...]
 * ```
 */
export function profilesOf(name: string): Profile[] {
  const protocol = protocols[name];
  return [{ ...protocol.pacing, name: "default" }, ...protocol.alternatives];
}

/** What bots of one model got from fixed pacing, from learning, and from each profile alone. */
export interface Sides {
  readonly fixed: ModelRun;
  readonly learn: ModelRun;
  /** Per profile of {@link profilesOf}, in its order. */
  readonly alone: readonly ModelRun[];
}

/**
 * Runs bots of `model` against tarpits of the protocol `name`: with fixed pacing, with
 * learning, and with each of its profiles alone, which says what the best single pacing
 * would have held it.
 *
 * @example
 * ```ts ignore
 * const { fixed, learn, alone } = await runSides(model, "smtp", { connections: 12, capS: 120 });
 * ```
 */
export async function runSides(
  model: ClientModel,
  name: string,
  options: BotOptions,
): Promise<Sides> {
  const protocol = protocols[name];
  const profiles = profilesOf(name);
  const fixed = await runBot(model, protocol, profiles, false, options);
  const learn = await runBot(model, protocol, profiles, true, options);
  const alone: ModelRun[] = [];
  for (const profile of profiles) {
    alone.push(await runBot(model, protocol, [profile], false, options));
  }
  return { fixed, learn, alone };
}

/** A client's state, as its timers see it. */
interface ClientState {
  readonly connection: Connection;
  readonly connectedAt: number;
  firstByteAt: number;
  lastByteAt: number;
  /** When the line it waits for began: its connect, or the end of the line before. */
  lineFrom: number;
  lines: number;
  /** When it took a line for the reply to what it said: it made progress then. */
  repliedAt: number;
  /** When it leaves if nothing comes first. */
  leaveAt: number;
  /** When it says what a line it took asks of it; Infinity when it has nothing to say. */
  speakAt: number;
}

/** The clock the engine runs on here: one armed call, fired by {@link runBot}'s loop. */
class SteppedClock implements Clock {
  at = 0;
  armedAt = Infinity;
  fire: (() => void) | undefined;
  now(): number {
    return this.at;
  }
  arm(fire: () => void, ms: number): void {
    this.fire = fire;
    this.armedAt = this.at + ms;
  }
  disarm(): void {
    this.fire = undefined;
    this.armedAt = Infinity;
  }
}

/**
 * Runs a bot of `model` against a tarpit of `protocol` with `profiles` (the first the
 * default), learning or not, and returns what each connection was held.
 */
async function runBot(
  model: ClientModel,
  protocol: Protocol,
  profiles: readonly Profile[],
  learn: boolean,
  options: BotOptions,
): Promise<ModelRun> {
  // The engine's jitter and the protocol's lines draw from Math.random: seeded here, a
  // run is the same on every machine, and fixed pacing and learning draw alike.
  const random = Math.random;
  primePool(protocol);
  Math.random = seeded(1);
  try {
    return run(model, protocol, profiles, learn, options);
  } finally {
    Math.random = random;
    // What the engine queued for later (re-arming its listener after each departure)
    // runs now, and lets the tarpit go.
    await Promise.resolve();
  }
}

/** The protocols whose pools of lines {@link primePool} filled. */
const primed = new Set<Protocol>();

/**
 * Fills the pool of lines `protocol` keeps for all its clients (`LinePool`), from a seed of
 * its own, before its first run: filled by whichever runs came first, it would hold lines
 * of other lengths after any change to what those runs were sent, and every later model's
 * holds would move with it.
 */
function primePool(protocol: Protocol): void {
  if (primed.has(protocol)) return;
  primed.add(protocol);
  Math.random = seeded(0);
  const lines = protocol.lines({ maxLineLength: protocol.pacing.maxLineLength, banner: "" });
  for (let i = 0; i < 2 * linePoolSize; i++) lines.next();
}

/** A generator of numbers in [0, 1) from `seed` (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function run(
  model: ClientModel,
  protocol: Protocol,
  profiles: readonly Profile[],
  learn: boolean,
  options: BotOptions,
): ModelRun {
  const clock = new SteppedClock();
  let client: ClientState | undefined;
  let writes = 0;
  const transport = new (class extends MemoryTransport {
    override write<O>(
      connection: Connection,
      bytes: string,
      owner: O,
      written: (owner: O, error?: string) => void,
    ): WriteOutcome {
      const outcome = super.write(connection, bytes, owner, written);
      if (outcome === "sent") writes++;
      if (outcome === "sent" && client?.connection === connection) took(client, bytes);
      return outcome;
    }
  })();
  // One source: a table of a few slots, not the thousands a tarpit keeps.
  const pacer = new Learner({ protocol: protocol.name, profiles, learn, capacity: 16 });
  const tarpit = new Tarpit<Connection, Listener>({
    protocol,
    profiles,
    maxClients: 16,
    maxPerIp: 16,
    banner: "",
    maxLifetimeMs: 0,
    transport,
    onEvent: () => {},
    pacer,
    clock,
  });
  const listener = new Listener(25);
  tarpit.serve(listener);

  /** When the client leaves, as its timers and its judging say, with what it has now. */
  const leaveAt = (state: ClientState): number => {
    const { connectedAt, firstByteAt, lastByteAt, lineFrom } = state;
    let at = Math.min(connectedAt + model.totalS * 1000, connectedAt + options.capS * 1000);
    // The alarm on a line runs from the connect for the first: before any byte as well.
    at = Math.min(at, lineFrom + model.lineAlarmS * 1000);
    if (firstByteAt === Infinity) return Math.min(at, connectedAt + model.firstWaitS * 1000);
    at = Math.min(at, lastByteAt + model.readWaitS * 1000);
    if (model.judges === "first-bytes") at = Math.min(at, firstByteAt + verdictMs);
    return at;
  };
  const took = (state: ClientState, bytes: string): void => {
    const now = clock.at;
    if (state.firstByteAt === Infinity) state.firstByteAt = now;
    state.lastByteAt = now;
    const ended = bytes.split("\n").length - 1;
    if (ended > 0) {
      state.lines += ended;
      state.lineFrom = now;
      const { judges } = model;
      if ((judges === "reply" || judges === "replies") && state.lines === 2) {
        state.repliedAt = now;
      }
      if (judges === "reply" && state.lines >= 2) {
        state.leaveAt = now + reactionMs; // it took the line for the reply it waited for
        return;
      }
      if (judges === "replies" || (judges === "reply" && state.lines === 1)) {
        state.speakAt = now + reactionMs;
      }
    }
    state.leaveAt = leaveAt(state);
  };

  const heldS: number[] = [];
  let port = 40_000;
  let connectAt = 0;
  while (heldS.length < options.connections) {
    const next = Math.min(client?.leaveAt ?? connectAt, client?.speakAt ?? Infinity, clock.armedAt);
    if (next < clock.at) {
      throw new Error(`${modelName(model)}: a timer at ${next} ms, after ${clock.at}`);
    }
    clock.at = next;
    if (client !== undefined && client.speakAt === next && client.leaveAt > next) {
      client.speakAt = Infinity;
      client.connection.send("x\r\n");
    } else if (client !== undefined && client.leaveAt === next) {
      // On a tie the client's timer wins: a byte must come before the timer, not with it.
      heldS.push((Math.min(next, client.repliedAt) - client.connectedAt) / 1000);
      const { connection } = client;
      client = undefined;
      connection.closeEnd();
      connectAt = next + 500;
    } else if (client === undefined && connectAt === next && next < clock.armedAt) {
      const connection = new Connection("192.0.2.1", port++);
      const state: ClientState = {
        connection,
        connectedAt: next,
        firstByteAt: Infinity,
        lastByteAt: next,
        lineFrom: next,
        lines: 0,
        repliedAt: Infinity,
        leaveAt: 0,
        speakAt: Infinity,
      };
      state.leaveAt = leaveAt(state);
      client = state;
      listener.backlog.push(connection);
      transport.acceptWaiting(listener);
      const opening = openings[protocol.name];
      if (opening !== undefined) connection.send(opening);
    } else {
      const fire = clock.fire!;
      clock.disarm();
      fire();
    }
  }
  tarpit.shutdown();
  return { heldS, writes };
}
