import { assertEquals, assertThrows } from "../support/assert.ts";
import { ClientTable } from "../../src/engine/client_table.ts";

Deno.test("a client table reuses a slot once its client has gone, and a key names one client only", () => {
  const table = new ClientTable<string>(2);
  const first = table.take("a", "192.0.2.1", 1, "192.0.2.1", 1, 22, 0);
  const second = table.take("b", "192.0.2.2", 2, "192.0.2.2", 2, 22, 0);
  assertEquals([first, second, table.size], [0, 1, 2]);
  assertThrows(
    () => table.take("c", "192.0.2.3", 3, "192.0.2.3", 3, 22, 0),
    RangeError,
    /2 clients/,
  );
  const key = table.keyOf(first);
  table.bytesSent[first] = 99;
  table.firstBytes.set(first, "SSH-2.0-x");
  table.release(first);
  assertEquals([table.slotOf(key), table.size, [...table.slots()]], [-1, 1, [second]]);
  const third = table.take("c", "192.0.2.3", 3, "192.0.2.3", 3, 22, 5);
  assertEquals(third, first, "the slot given back is taken again");
  assertEquals([table.bytesSent[third], table.firstBytes.has(third)], [0, false]);
  assertEquals([table.slotOf(key), table.slotOf(table.keyOf(third))], [-1, third]);
  assertEquals([table.connectedAt[third], table.answeredMs[third]], [5, Infinity]);
});
