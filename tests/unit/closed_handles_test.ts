import { assert, assertEquals } from "../support/assert.ts";
import {
  ArrivalBursts,
  burstCheckMs,
  ClosedHandleCollector,
  minArrivalsPerBurst,
  minClosesPerCollection,
} from "../../src/runtime/closed_handles.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";
import { residentGrowth } from "../support/resident.ts";

function collectionsAfter(closes: number, open: number): number {
  let collections = 0;
  const collector = new ClosedHandleCollector(() => collections++);
  for (let i = 0; i < closes; i++) collector.closed(open);
  return collections;
}

Deno.test("a full collection runs once per 1,024 closed handles while few stay open", () => {
  assertEquals(minClosesPerCollection, 1024);
  assertEquals(collectionsAfter(1023, 0), 0);
  assertEquals(collectionsAfter(1024, 0), 1);
  assertEquals(collectionsAfter(10 * 1024, 4000), 10);
});

Deno.test("with many open, a full collection waits for a quarter of them to close", () => {
  assertEquals(collectionsAfter(4999, 20_000), 0);
  assertEquals(collectionsAfter(5000, 20_000), 1);
  assertEquals(collectionsAfter(50_000, 20_000), 10);
});

/** Arrival bursts whose checks run when the test says, with the give-backs counted. */
function bursts(): {
  arrive(count: number, open?: number): void;
  check(): boolean;
  givenBack(): number;
} {
  let givenBack = 0;
  let pending: (() => void) | undefined;
  const watched = new ArrivalBursts(() => givenBack++, (check, ms) => {
    assertEquals(ms, burstCheckMs);
    assert(pending === undefined, "a second check armed while one waits");
    pending = check;
  });
  return {
    arrive: (count, open = 0) => {
      for (let i = 0; i < count; i++) watched.arrived(open);
    },
    check: () => {
      const check = pending;
      pending = undefined;
      check?.();
      return check !== undefined;
    },
    givenBack: () => givenBack,
  };
}

Deno.test("memory is given back once a burst of arrivals is over, not while it goes on", () => {
  const run = bursts();
  run.arrive(minArrivalsPerBurst - 1);
  assertEquals(run.check(), false, "a check armed for fewer arrivals than a burst");
  run.arrive(1);
  run.arrive(minArrivalsPerBurst); // still coming
  assertEquals([run.check(), run.givenBack()], [true, 0]);
  run.arrive(minArrivalsPerBurst / 10 - 1); // nearly stopped
  assertEquals([run.check(), run.givenBack()], [true, 1]);
  assertEquals(run.check(), false, "checked on after giving back");
  run.arrive(minArrivalsPerBurst - 1);
  assertEquals([run.check(), run.givenBack()], [false, 1]);
});

Deno.test("a last-resort collection gives back the pages a full collection keeps for reuse", async () => {
  // What closed_handles.ts assumes of the runtime, with the V8 flags TarPyt runs with.
  const [afterFull, afterLastResort] = await residentGrowth(
    [],
    `
    let kept = [];
    for (let i = 0; i < 400_000; i++) kept.push({ a: i, b: "line " + i, c: [i] });
    gc();
    kept = [];
    gc();
    mark();
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    mark();
  `,
    runtimeFlags.filter((flag) => flag.startsWith("--v8-flags=")),
  );
  const mib = 2 ** 20;
  assert(
    afterFull - afterLastResort > 32 * mib,
    `RSS ${afterFull / mib} MiB after a full collection, ${
      afterLastResort / mib
    } after last resort, above the start`,
  );
});

Deno.test("with many open, a burst is a quarter of them: giving back costs the same per arrival", () => {
  const run = bursts();
  run.arrive(minArrivalsPerBurst, 40_000);
  assertEquals(run.check(), false, "a thousand arrivals among 40,000 open are no burst");
  run.arrive(10_000 - minArrivalsPerBurst - 1, 40_000);
  assertEquals(run.check(), false);
  run.arrive(1, 40_000);
  assertEquals([run.check(), run.givenBack()], [true, 1]);
});
