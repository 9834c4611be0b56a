import { assertEquals } from "../support/assert.ts";
import { ClosedHandleCollector, minClosesPerCollection } from "../../src/runtime/closed_handles.ts";

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
