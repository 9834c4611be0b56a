/**
 * Learning from departures, on departures written out: what each kind of leaving says
 * of a client, which profile the next client of its source gets, that a patient source
 * gets the cheapest, that nothing locks in, and that a million sources cost a fixed few
 * megabytes.
 *
 * @module
 */
import { assert, assertEquals } from "../support/assert.ts";
import { departure } from "../support/memory_transport.ts";
import { profilesOf } from "../support/client_models.ts";
import { evidenceOf, holdFor } from "../../src/learn/evidence.ts";
import { familyByLeaving, nameByFirstBytes } from "../../src/learn/families.ts";
import { crowd, horizonMs, Learner } from "../../src/learn/learner.ts";
import { SourceTable } from "../../src/learn/source_table.ts";
import { residentGrowth } from "../support/resident.ts";
import { protocols } from "../../protocols/mod.ts";
import type { PacerChoice } from "../../src/engine/pacer.ts";
import type { Departure } from "../../src/engine/events.ts";

const smtpProfiles = profilesOf("smtp");
/** The index of the profile named `name` among `profiles` (smtp's unless given). */
const byName = (name: string, profiles = smtpProfiles) =>
  profiles.findIndex((profile) => profile.name === name);

/** When the first byte comes for a client given `choice`: as asked, or its profile's. */
const firstByteMs = (choice: PacerChoice, profiles = smtpProfiles) =>
  choice.firstDelayMs ?? profiles[choice.profile].firstDelayMs;

/** A learner for smtp that never explores: its choices are its estimates' alone. */
function learner(): Learner {
  return new Learner({ protocol: "smtp", profiles: smtpProfiles, learn: true });
}

Deno.test("each way of leaving names the limit it shows", () => {
  assertEquals(evidenceOf(departure(5_000, { silenceMs: 5_000 })), { limit: "silence", value: 5 });
  // Waited 2.5 s after sitting through 3 s gaps: not a silence it could not stand.
  assertEquals(
    evidenceOf(
      departure(40_000, {
        bytes: 30,
        silenceMs: 2_500,
        longestGapMs: 3_000,
        lineBytes: 9,
        lineMs: 30_000,
      }),
    ),
    { limit: "line", value: 30 },
  );
  assertEquals(
    // Gone 0.3 s after its first piece, which came after 22 s: it judged it (hydra's irc
    // module). That it had waited 22 s for the line makes it no alarm on a line.
    evidenceOf(
      departure(22_300, {
        bytes: 4,
        pieces: 1,
        silenceMs: 300,
        longestGapMs: 22_000,
        lineBytes: 4,
        lineMs: 22_300,
      }),
    ),
    { limit: "verdict", value: 0.3 },
  );
  // Moved to whole lines after 60 pieces of a drip, gone 0.3 s after the first: it judged
  // that line (hydra finds `HTTP/1.` in one read), as one given them from the start would.
  const moved = {
    lines: 2,
    pieces: 60,
    profileLines: 1,
    profilePieces: 1,
    profileSinceMs: 120_000,
  };
  assertEquals(
    evidenceOf(departure(130_300, { ...moved, bytes: 90, silenceMs: 300, longestGapMs: 22_000 })),
    { limit: "verdict", value: 0.3 },
  );
  // Moved to the slow drip mid-line, gone as its second piece ended that line: it took
  // the line the default began for its reply, and judged nothing of the slow drip.
  assertEquals(
    evidenceOf(
      departure(72_000, {
        ...moved,
        bytes: 40,
        pieces: 30,
        profileLines: 1,
        profilePieces: 2,
        silenceMs: 20,
        longestGapMs: 22_000,
        greetedMs: 30_000,
        profileSinceMs: 60_000,
      }),
    ),
    { limit: "lines", value: 2 },
  );
  assertEquals(
    evidenceOf(
      departure(5_000, { bytes: 9_000, lines: 1_024, silenceMs: 10, longestGapMs: 2_000 }),
    ),
    { limit: "lines", value: 1_024 },
  );
  assertEquals(
    evidenceOf(departure(32_500, { bytes: 40, lines: 3, silenceMs: 500, longestGapMs: 1_600 })),
    { limit: "time", value: 32.5 },
  );
  for (const leftBy of ["write", "ended", "lifetime", "shutdown"] as const) {
    assertEquals(evidenceOf(departure(5_000, { leftBy })), undefined, leftBy);
  }
});

Deno.test("a pacing holds a client until the first of its limits it runs into", () => {
  const [drip, early, lines, slow] = ["default", "early", "lines", "slow"].map((n) =>
    smtpProfiles[byName(n)]
  );
  assertEquals(holdFor(drip, { silence: 5 }, 300), 5);
  assertEquals(holdFor(early, { silence: 5 }, 300), 300);
  assertEquals(holdFor(slow, { silence: 5 }, 300), 5);
  assertEquals(holdFor(drip, { line: 30 }, 300) < 60, true, "a dripped line takes longer");
  assertEquals(holdFor(lines, { line: 30 }, 300), 300);
  assertEquals(holdFor(lines, { time: 32 }, 300), 32);
  assertEquals(holdFor(drip, { verdict: 0.3 }, 300) > 22, true);
});

Deno.test("a source whose clients wait 5 s for a byte gets the cheapest profile with no gap as long, and keeps it", () => {
  const learn = learner();
  const source = "203.0.113.7";
  assertEquals(learn.choose(source, undefined).profile, 0, "a first contact gets the default");
  learn.departed(source, 0, departure(5_000, { silenceMs: 5_000, profile: 0 }));
  const next = learn.choose(source, undefined).profile;
  // Both "early" and "lines" keep every gap under 5 s; whole lines write a third as often.
  assertEquals(smtpProfiles[next].name, "lines");
  learn.stayed(source, 0, next, 3_500);
  assertEquals(learn.choose(source, undefined).profile, next);
});

Deno.test("a source whose clients left at a silence gets its first bytes just within it; a scan that closed at once moves nothing", () => {
  const learn = learner();
  const source = "203.0.113.8";
  // A scan: connected and closed before any profile could send a byte.
  learn.departed(source, 0, silence(0.2, 0));
  learn.departed(source, 0, silence(5, 0));
  // Whole lines, their first by 4.5 s: at 4 s, to the second.
  assertEquals(learn.choose(source, undefined), {
    profile: byName("lines"),
    tag: 0,
    firstDelayMs: 4_000,
  });
  const fixed = new Learner({ protocol: "smtp", profiles: smtpProfiles, learn: false });
  fixed.departed(source, 0, silence(5, 0));
  assertEquals(fixed.choose(source, undefined), { profile: 0, tag: 0 }, "fixed pacing is fixed");
});

Deno.test("a source whose clients wait for ever gets the cheapest profile that holds them", () => {
  const learn = learner();
  const source = "198.51.100.2";
  const name = (profile: number) => smtpProfiles[profile].name;
  learn.choose(source, undefined);
  // From the horizon on, the cheapest drip whose silences it sat through: the slow drip.
  assertEquals(name(learn.stayed(source, 0, 0, 22_000)), "slow-drip");
  assertEquals(name(learn.choose(source, undefined).profile), "slow-drip");
  // A drip says nothing of whole lines: held there a horizon, it tries them, and they hold.
  assertEquals(name(learn.stayed(source, 0, byName("slow-drip"), 13_000)), "slow");
  learn.stayed(source, 0, byName("slow"), 20_000);
  assertEquals(name(learn.choose(source, undefined).profile), "slow");
});

Deno.test("pop3: one the default held to the horizon goes on with the slow drip, whose first silence is the default's", () => {
  const profiles = profilesOf("pop3");
  const learn = new Learner({ protocol: "pop3", profiles, learn: true });
  const source = "198.51.100.3";
  learn.choose(source, undefined);
  // It sat 21.5 s for its first byte, less than the default's longest first silence.
  assertEquals(profiles[learn.stayed(source, 0, 0, 21_500)].name, "slow-drip");
  assertEquals(profiles[learn.choose(source, undefined).profile].name, "slow-drip");
});

Deno.test("an alarm on a whole line: dripped lines lose it, whole lines keep it", () => {
  const learn = learner();
  const source = "192.0.2.30";
  learn.choose(source, undefined);
  learn.departed(
    source,
    0,
    departure(52_000, {
      bytes: 15,
      silenceMs: 1_500,
      longestGapMs: 22_000,
      lineBytes: 15,
      lineMs: 30_000,
      profile: 0,
    }),
  );
  // Whole lines hold it; of them, the slow ones, every 16 s ± 4, are the cheaper.
  assertEquals(smtpProfiles[learn.choose(source, undefined).profile].name, "slow");
});

Deno.test("http-status: a client that waits on a drip and judges a whole line at once keeps to the slow drip", () => {
  const profiles = profilesOf("http-status");
  const learn = new Learner({ protocol: "http-status", profiles, learn: true });
  const source = "192.0.2.31";
  const name = (profile: number) => profiles[profile].name;
  const [slow, slowDrip] = [byName("slow", profiles), byName("slow-drip", profiles)];
  learn.choose(source, undefined);
  assertEquals(name(learn.stayed(source, 0, 0, 22_000)), "slow-drip", "a drip, as it stood");
  assertEquals(name(learn.stayed(source, 0, slowDrip, 11_000)), "slow", "whole lines, tried");
  // Gone 0.3 s after its first whole line, `HTTP/1.1 100 ` and a stretch of reason
  // phrase: it judged it (hydra).
  const verdict = departure(2 * horizonMs + 10_300, {
    bytes: 40,
    lines: 1,
    pieces: 35,
    profileLines: 1,
    profilePieces: 1,
    silenceMs: 300,
    longestGapMs: 22_000,
    profile: slow,
    profileSinceMs: 2 * horizonMs,
  });
  learn.departed(source, 0, verdict);
  assertEquals(name(learn.choose(source, undefined).profile), "slow-drip");
  assertEquals(name(learn.stayed(source, 0, slowDrip, 11_000)), "slow-drip", "and stays there");
});

Deno.test("a program named by its first bytes passes on what was learned to its other sources", () => {
  const profiles = profilesOf("ssh");
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-AsyncSSH_2.10.1\r\n";
  const slow = byName("slow", profiles);
  const { tag } = learn.choose("192.0.2.1", hello);
  // Held by the default, it waited at most 1.6 s: nothing says a cheaper pacing holds it,
  // so it tries the cheapest, for its whole program; one client at a time.
  assertEquals(learn.stayed("192.0.2.1", tag, 0, 1_600), slow);
  learn.choose("192.0.2.2", hello);
  assertEquals(learn.stayed("192.0.2.2", tag, 0, 1_600), 0, "one client on trial at a time");
  // It holds: the program's clients move at their next horizon, new ones start there.
  assertEquals(learn.stayed("192.0.2.1", tag, slow, 20_000), slow);
  assertEquals(learn.stayed("192.0.2.2", tag, 0, 1_600), slow);
  assertEquals(learn.choose("192.0.2.3", hello).profile, slow);
  assertEquals(
    profiles[learn.choose("192.0.2.4", undefined).profile].name,
    "default",
    "unnamed: the prior",
  );
});

Deno.test("one source running two programs: each client's leaving is learned for its own program", () => {
  const profiles = profilesOf("ssh");
  const slow = byName("slow", profiles);
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const source = "127.0.0.1";
  const jsch = learn.choose(source, "SSH-2.0-JSCH-0.1.54\r\n");
  assertEquals(learn.stayed(source, jsch.tag, 0, 1_600), slow, "on trial");
  // Another program connects from the same address while the trial runs.
  const libssh = learn.choose(source, "SSH-2.0-libssh_0.10.6\r\n");
  // It waits 2 s a read once the first line is in: it leaves in slow's first gap.
  const left = departure(122_000, {
    bytes: 900,
    pieces: 800,
    lines: 60,
    silenceMs: 2_000,
    longestGapMs: 1_600,
    profile: slow,
    profileSinceMs: 120_000,
  });
  assertEquals(learn.departed(source, jsch.tag, left), "jsch");
  // Its program's next client, anywhere, tries nothing a 2 s silence rules out (lines 3 s
  // apart); libssh has lost nothing.
  const next = learn.choose("192.0.2.80", "SSH-2.0-JSCH-0.1.54\r\n");
  assertEquals(learn.stayed("192.0.2.80", next.tag, 0, 1_600), 0);
  assertEquals(learn.stayed(source, libssh.tag, 0, 1_600), slow);
});

/** The first bytes of a TLS 1.2 or 1.3 ClientHello (RFC 8446 5.1, 4.1.2). */
const clientHello = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

Deno.test("a source's TLS handshakes are learned apart from its plain-text clients, and held by silence", () => {
  // nmap's irc-brute: a plain-text connection waits 30 s for a reply, then comm.tryssl
  // tries TLS, which waits 15 s; run after run from one address.
  const profiles = profilesOf("irc");
  const learn = new Learner({ protocol: "irc", profiles, learn: true });
  const source = "192.0.2.90";
  const longestFirst = profiles[0].firstDelayMs;
  for (let run = 0; run < 3; run++) {
    const plain = learn.choose(source, undefined);
    if (run > 0) {
      assert(firstByteMs(plain, profiles) < 30_000, `run ${run}: the plain text's bytes`);
    }
    learn.departed(source, 0, silence(30, plain.profile));
    const tls = learn.choose(source, clientHello);
    assertEquals(firstByteMs(tls, profiles), longestFirst, `run ${run}: silence`);
    learn.departed(source, tls.tag, silence(15, tls.profile));
  }
});

Deno.test("connections that close at once, as a port scan's do, say nothing of how well a profile holds", () => {
  const profiles = profilesOf("ssh");
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const source = "192.0.2.120";
  for (let i = 0; i < 10; i++) {
    // The engine decides on a client as it closes its end, and its first write finds it gone.
    const { profile } = learn.choose(source, undefined);
    learn.departed(source, 0, departure(5, { silenceMs: 5, profile }));
  }
  const first = new Learner({ protocol: "ssh", profiles, learn: true }).choose(source, undefined);
  assertEquals(learn.choose(source, undefined), first, "the brute force after the scan");
});

/**
 * Connections of one source one after another to a learner for smtp, the `i`th leaving
 * as `leave` says for the choice it was given: the profile each got, and the seconds each
 * was held.
 */
function connections(
  count: number,
  leave: (choice: PacerChoice, i: number) => Departure,
): { chosen: number[]; held: number[] } {
  const learn = learner();
  const chosen: number[] = [];
  const held: number[] = [];
  for (let i = 0; i < count; i++) {
    const choice = learn.choose("192.0.2.60", undefined);
    chosen.push(choice.profile);
    const departed = leave(choice, i);
    learn.departed("192.0.2.60", 0, departed);
    held.push(departed.heldMs / 1000);
  }
  return { chosen, held };
}

/** A departure that shows a silence of `seconds`. */
const silence = (seconds: number, profile: number) =>
  departure(seconds * 1000, { silenceMs: seconds * 1000, profile });

/** A departure 0.3 s after its first bytes, which came after `seconds`. */
const verdict = (seconds: number, profile: number) =>
  departure(seconds * 1000 + 300, {
    bytes: 6,
    pieces: 1,
    silenceMs: 300,
    longestGapMs: seconds * 1000,
    profile,
  });

Deno.test("medusa, connection after connection: the default's first silence wins, the others are tried less and less often, each try holds it nearly as long, and few are made", () => {
  // Gone at 20 s of silence, or 0.3 s after its first bytes.
  const { chosen, held } = connections(400, (choice) => {
    const firstDelayMs = firstByteMs(choice);
    return firstDelayMs >= 20_000
      ? silence(20, choice.profile)
      : verdict(firstDelayMs / 1000, choice.profile);
  });
  // A profile tried on it sends its first bytes just within the silence it left at, so a
  // try costs at most the tenth of the 20 s the default holds it that the first byte is
  // brought forward by, whatever the profile's jitter: over a bot's ten runs as well.
  const sum = (seconds: number[]) => seconds.reduce((total, s) => total + s, 0);
  assert(sum(held.slice(0, 10)) >= 0.9 * 10 * 20, held.slice(0, 10).join(" "));
  assert(held.every((seconds) => seconds >= 0.9 * 20), held.join(" "));
  const tries = (from: number, to: number) => held.slice(from, to).filter((s) => s < 20).length;
  // It judged the first bytes it was sent at once, and would judge as soon any that came no
  // later and held as much: one try tells of them all. Then what holds it by silence,
  // which costs no write, is kept over what holds it nearly as long for a few writes: it
  // is tried on a small share of its connections.
  assert(tries(0, 10) <= 3, `${tries(0, 10)} tries in its first 10 connections`);
  assert(tries(10, 40) <= 5, `${tries(10, 40)} tries in the 30 connections after`);
  assert(tries(0, 400) < 400 * 0.15, `${tries(0, 400)} tries of 400`);
  assert(sum(held) >= 0.98 * 400 * 20, `${sum(held)} s held in all`);
  // The slow drip shares the default's first silence, and holds it as long.
  const first = [0, byName("slow-drip")];
  const others = (from: number, to: number) =>
    chosen.slice(from, to).filter((p) => !first.includes(p)).length;
  assert(others(0, 400) < 200, `${others(0, 400)} of 400 with another first silence`);
  assert(others(200, 400) < others(0, 200), "tried less often as they keep failing");
  assert(others(200, 400) > 0, "but still tried: no profile is ruled out for good");
  assertEquals(learner().choose("192.0.2.61", undefined).profile, 0, "deterministic: no draw");
});

Deno.test("smtp-brute, run after run: a source held seconds by limits of its own keeps the profile that holds it longest, and retries the others for a doubt the size of its holds", () => {
  const { held } = connections(40, (choice, i) => {
    const { profile } = choice;
    const first = firstByteMs(choice);
    const { pieceSize, delayMs } = smtpProfiles[profile];
    // 7 s for a greeting, then 7 s for the reply to EHLO: a drip's line never ends in
    // time; a whole line that comes within them is taken for the reply, and it leaves.
    const greeted = { greetedMs: first, longestGapMs: first };
    const secondLine = delayMs + (i % 2 === 0 ? -1_000 : 1_000);
    return first >= 7_000 ? silence(7, profile) : pieceSize > 0
      ? departure(first + 7_000, {
        ...greeted,
        bytes: 7,
        pieces: 4,
        silenceMs: 1_500,
        lineBytes: 7,
        lineMs: first + 7_000,
        profile,
      })
      : secondLine < 7_000
      ? departure(first + secondLine, { ...greeted, bytes: 60, lines: 2, pieces: 2, profile })
      : departure(first + 7_000, {
        ...greeted,
        bytes: 30,
        lines: 1,
        pieces: 1,
        silenceMs: 7_000,
        profile,
      });
  });
  // The default's silence loses it at 7 s; a drip from within that silence holds it to
  // its 13 s. Tried profiles are retried now and then, for a doubt of a fifth of 13 s,
  // not of the minute a profile may hold a client that stays.
  const heldLong = held.slice(5).filter((seconds) => seconds >= 12).length;
  assert(heldLong >= 0.85 * 35, `${heldLong} of 35 held 12 s or more: ${held.join(" ")}`);
  // The drip's line alarm at 13 s does not make the default's silence, which lost it at 7,
  // look as good: its source's clients left at 7 s of silence. From the third connection
  // on, none is given a first silence it is known to leave at.
  const short = held.slice(2).filter((seconds) => seconds < 10);
  assertEquals(short, [], held.join(" "));
});

Deno.test("a banner grab, then brute-force connections that wait 5 s a read: one grab does not rule out what holds the rest", () => {
  const learn = learner();
  const source = "192.0.2.70";
  const holds: number[] = [];
  for (let i = 0; i < 12; i++) {
    const choice = learn.choose(source, undefined);
    const { profile } = choice;
    const firstDelayMs = firstByteMs(choice);
    if (i === 1) {
      // The grab: it closes once it has read anything, or at 5 s of silence.
      const departed = firstDelayMs < 5_000
        ? verdict(firstDelayMs / 1000, profile)
        : silence(5, profile);
      learn.departed(source, 0, departed);
      holds.push(departed.heldMs / 1000);
    } else if (firstDelayMs < 5_000) {
      holds.push(horizonMs / 1000); // held: every gap of these profiles is under 5 s
      learn.stayed(source, 0, profile, 3_500);
    } else {
      learn.departed(source, 0, silence(5, profile));
      holds.push(5);
    }
  }
  // Held from the third on, but for a try or two of a cheaper profile.
  const held = holds.slice(2).filter((seconds) => seconds === horizonMs / 1000).length;
  assert(held >= 9, holds.join(" "));
});

Deno.test("a client that answers what it is sent is held only until it took its greeting, however long it stays", () => {
  // A brute-forcer that waits 20 s for a greeting and takes any 3 bytes after "+OK " for a
  // reply, as ncrack's pop3 module does, trying passwords on one connection. Sent "+OK "
  // early it tries one every few bytes, and stays longer than it would in silence; left
  // waiting for the greeting, it tries none and leaves at 20 s.
  const profiles = profilesOf("pop3");
  const learn = new Learner({ protocol: "pop3", profiles, learn: true });
  const source = "192.0.2.110";
  const given: string[] = [];
  for (let i = 0; i < 12; i++) {
    const choice = learn.choose(source, undefined);
    const { profile } = choice;
    const { delayMs } = profiles[profile];
    const firstDelayMs = firstByteMs(choice, profiles);
    given.push(profiles[profile].name);
    if (firstDelayMs >= 20_000) {
      learn.departed(source, 0, silence(20, profile));
    } else {
      // USER after "+OK ", PASS after 3 bytes more; it leaves after 5 passwords. Its
      // progress began with "+OK ", which it took for a greeting.
      const answeredMs = firstDelayMs + 3 * delayMs;
      const heldMs = firstDelayMs + 30 * delayMs;
      learn.answered(source, 0, profile, firstDelayMs);
      learn.departed(
        source,
        0,
        departure(heldMs, { bytes: 34, pieces: 31, silenceMs: 100, profile, answeredMs }),
      );
    }
  }
  const early = given.slice(2).filter((name) => name === "early").length;
  assert(early <= 2, given.join(" "));
});

Deno.test("a profile a client answered on is believed at once: not tried again on its source for the doubt", () => {
  // The same brute-forcer, 300 connections one after another: the profile that lets it try
  // passwords is given once, where the benefit of the doubt gave it again and again.
  const profiles = profilesOf("pop3");
  const learn = new Learner({ protocol: "pop3", profiles, learn: true });
  const source = "192.0.2.112";
  const early = byName("early", profiles);
  let given = 0;
  for (let i = 0; i < 300; i++) {
    const choice = learn.choose(source, undefined);
    const { profile } = choice;
    if (profile !== early) {
      learn.departed(source, 0, silence(20, profile));
      continue;
    }
    given++;
    learn.answered(source, 0, profile, firstByteMs(choice, profiles));
    learn.departed(
      source,
      0,
      departure(61_000, { bytes: 34, pieces: 31, silenceMs: 100, profile, answeredMs: 7_000 }),
    );
  }
  assertEquals(given, 1);
});

Deno.test("a client that spoke after its greeting and left at the next piece took it for a reply: held only until it spoke", () => {
  // As nmap's scripts connect (comm.lua, tryssl): a greeting within 5 s, else the try goes
  // on over TLS; given one, a login line, and the first bytes back end the try. Held
  // longer per connection by an early greeting, the tool is held less: it skips the TLS
  // connection that the silence would have cost it.
  const profiles = profilesOf("pop3");
  const learn = new Learner({ protocol: "pop3", profiles, learn: true });
  const source = "192.0.2.113";
  const greeted: number[] = [];
  for (let i = 0; i < 40; i++) {
    const choice = learn.choose(source, undefined);
    const { profile } = choice;
    const firstMs = firstByteMs(choice, profiles);
    if (firstMs >= 5_000) {
      learn.departed(source, 0, silence(5, profile));
      continue;
    }
    greeted.push(i);
    const replyMs = firstMs + profiles[profile].delayMs;
    learn.departed(
      source,
      0,
      departure(replyMs + 100, {
        bytes: 2,
        pieces: 2,
        silenceMs: 100,
        longestGapMs: firstMs,
        lineBytes: 2,
        lineMs: replyMs + 100,
        profile,
        greetedMs: firstMs,
      }),
    );
  }
  assert(greeted.length <= 2, `greeted at connections ${greeted.join(" ")}`);
});

Deno.test("a client that answers is judged when it answers: connections opened while it stays do not get its profile", () => {
  // The same brute-forcer with 5 connections at a time: the first round waits for the
  // greeting and leaves at 20 s, the second is given "+OK " early; of the third, opened
  // while the second tries passwords, none is.
  const profiles = profilesOf("pop3");
  const learn = new Learner({ protocol: "pop3", profiles, learn: true });
  const source = "192.0.2.111";
  const round = () => Array.from({ length: 5 }, () => learn.choose(source, undefined).profile);
  for (const profile of round()) learn.departed(source, 0, silence(20, profile));
  const second = round();
  const early = byName("early", profiles);
  assert(second.includes(early), second.join(" "));
  for (const profile of second) {
    if (profile === early) learn.answered(source, 0, profile, 7_000);
  }
  assertEquals(round().filter((profile) => profile === early), []);
});

Deno.test("learning off gives every client the default, and still names families", () => {
  const learn = new Learner({ protocol: "smtp", profiles: smtpProfiles, learn: false });
  learn.choose("192.0.2.9", undefined);
  learn.stayed("192.0.2.9", 0, 0, 22_000);
  assertEquals(learn.choose("192.0.2.9", undefined).profile, 0);
  // Nothing to choose, so nothing looked up per client: only a departure's family is kept.
  assertEquals(learn.sources, 0, "sources kept before any left");
  assertEquals(
    learn.departed("192.0.2.9", 0, departure(20_100, { silenceMs: 20_100 })),
    "read-timeout-20s",
  );
  assertEquals(learn.sources, 1);
  // One whose leaving shows nothing is named as its source's last that did.
  assertEquals(
    learn.departed("192.0.2.9", 0, departure(3_000, { leftBy: "write" })),
    "read-timeout-20s",
  );
});

Deno.test("families: by first bytes where a client speaks first, else by how it left", () => {
  assertEquals(nameByFirstBytes("ssh", "SSH-2.0-libssh_0.10.6\r\n"), "libssh");
  assertEquals(nameByFirstBytes("ssh", "SSH-2.0-libssh2_1.10.0\r\n"), "libssh2");
  assertEquals(
    nameByFirstBytes("http", "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/4.0 (Hydra)\r\n"),
    "hydra",
  );
  assertEquals(nameByFirstBytes("smtp", "EHLO x\r\n"), undefined);
  assertEquals(nameByFirstBytes("telnet", clientHello), "tls", "a TLS handshake on plain text");
  assertEquals(nameByFirstBytes("tls", clientHello), undefined, "where it belongs");
  assertEquals(nameByFirstBytes("ssh", undefined), undefined);
  assertEquals(familyByLeaving("ssh", { limit: "time", value: 33 }, 33), "hydra");
  // Its own time, whatever it was reading when it came.
  assertEquals(familyByLeaving("ssh", { limit: "line", value: 12 }, 32.1), "hydra");
  assertEquals(familyByLeaving("ftp", { limit: "silence", value: 5.1 }, 5.1), "read-timeout-5s");
  assertEquals(familyByLeaving("ftp", { limit: "time", value: 7 }, 7), "unknown");
  assertEquals(familyByLeaving("ftp", undefined, 120), "unknown", "closed by the tarpit");
});

Deno.test("a leaving that shows no family is named as its source's last that showed one", () => {
  const learn = learner();
  // medusa: its wait for a first byte, then bytes it judged at once.
  assertEquals(learn.departed("192.0.2.80", 0, silence(20, 0)), "read-timeout-20s");
  assertEquals(learn.departed("192.0.2.80", 0, verdict(17, 1)), "read-timeout-20s");
  assertEquals(learn.departed("192.0.2.81", 0, verdict(17, 1)), "unknown", "another source");
  assertEquals(learn.departed("192.0.2.80", 0, silence(5, 0)), "read-timeout-5s", "the newest");
  assertEquals(learn.departed("192.0.2.80", 0, verdict(3, 1)), "read-timeout-5s");
});

Deno.test("a million distinct IPv6 /64 sources cost the table's fixed size, under 100 bytes a source", () => {
  const capacity = 65_536;
  // The protocol with the most profiles costs the most a source.
  const most = Object.keys(protocols).map(profilesOf)
    .reduce((a, b) => b.length > a.length ? b : a);
  const learn = new Learner({ protocol: "http", profiles: most, learn: true, capacity });
  assert(learn.bytesPerSource < 100, `${learn.bytesPerSource} bytes a source`);
  const before = Deno.memoryUsage();
  for (let i = 0; i < 1_000_000; i++) {
    const source = `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
    learn.choose(source, undefined);
    if (i % 3 === 0) learn.departed(source, 0, departure(5_000, { silenceMs: 5_000 }));
  }
  (globalThis as { gc?: () => void }).gc?.();
  const after = Deno.memoryUsage();
  assertEquals(learn.sources, capacity);
  const grown = after.heapUsed + after.external - before.heapUsed - before.external;
  assert(grown < 16 * 1024 * 1024, `grew by ${grown} bytes for a million sources`);
  // The newest are kept: one seen last is still known.
  const table = new SourceTable(4, 1, 1);
  for (const source of ["a", "b", "c", "d", "e"]) table.slot(source);
  assertEquals(["a", "b", "e"].map((s) => table.find(s) !== -1), [false, true, true]);
});

Deno.test("a table costs resident memory only as sources fill it: an idle learner costs next to nothing", async () => {
  const mib = 1024 * 1024;
  // 2^20 slots of 11 numbers and 12 counters: 72 MiB were every page written at once.
  const [idle, used, found, fresh] = await residentGrowth(
    [["SourceTable", "learn/source_table.ts"]],
    `
    const table = new SourceTable(1 << 20, 11, 12);
    mark();
    for (let i = 0; i < 1_000; i++) table.slot("198.51.100." + i);
    mark();
    marks.push(table.find("198.51.100.999") !== -1 ? 1 : 0);
    marks.push(Number.isNaN(table.floats[table.find("198.51.100.7") * 11]) ? 1 : 0);
  `,
  );
  assert(idle < 8 * mib, `an empty table made ${idle} bytes resident`);
  assert(used < 16 * mib, `a thousand sources made ${used} bytes resident`);
  assertEquals([found, fresh], [1, 1], "found, and fresh: NaN");
});

Deno.test("a client held to the horizon counts once, when it gets there", () => {
  const learn = learner();
  learn.stayed("192.0.2.40", 0, 0, 22_000);
  // Its departure says it was counted, and it is not again, whatever it shows.
  const counted = { silenceMs: 30_000, counted: true };
  learn.departed("192.0.2.40", 0, departure(horizonMs + 60_000, counted));
  assertEquals(smtpProfiles[learn.choose("192.0.2.40", undefined).profile].name, "slow-drip");
});

Deno.test("a source whose clients stand 10 s of silence gets lines 7 s apart; one whose clients stand 5 s, 3 s apart", () => {
  const learn = learner();
  learn.departed("192.0.2.60", 0, silence(10, 0));
  learn.departed("192.0.2.61", 0, silence(5, 0));
  assertEquals(learn.choose("192.0.2.60", undefined).profile, byName("spaced"));
  assertEquals(learn.choose("192.0.2.61", undefined).profile, byName("lines"));
});

Deno.test("moved to a cheaper profile at the horizon: what it held after counts, unless it left at a time of its own", () => {
  const slowDrip = byName("slow-drip");
  const learn = learner();
  const source = "192.0.2.50";
  learn.choose(source, undefined);
  assertEquals(learn.stayed(source, 0, 0, 22_000), slowDrip);
  const moved = {
    bytes: 30,
    pieces: 25,
    profilePieces: 6,
    profile: slowDrip,
    profileSinceMs: horizonMs,
  };
  // curl's 120 s reply timeout, after the move: no fault of the slow drip.
  learn.departed(source, 0, departure(120_000, { ...moved, silenceMs: 500 }));
  assertEquals(learn.choose(source, undefined).profile, slowDrip);
  // A silence the slow drip could not keep it through: back to what held it.
  const silent = { ...moved, silenceMs: 24_000, longestGapMs: 22_000 };
  learn.departed(source, 0, departure(90_000, silent));
  assert(learn.choose(source, undefined).profile !== slowDrip);
  assertEquals(
    learn.stayed(source, 0, 0, 22_000),
    byName("slow"),
    "whole lines every 16 s keep a 24 s silence: tried",
  );
});

Deno.test("one stuck again after it answered, and moved: how it leaves its new profile counts", () => {
  // hydra on telnet sends a user name after the banner's first bytes, then waits for ever
  // for a prompt: judged at its answer, then moved once it sat silent a horizon.
  const slowDrip = byName("slow-drip");
  const learn = learner();
  const source = "192.0.2.51";
  learn.choose(source, undefined);
  learn.answered(source, 0, 0, 24_000);
  assertEquals(learn.stayed(source, 0, 0, 22_000), slowDrip);
  learn.departed(
    source,
    0,
    departure(110_000, {
      bytes: 60,
      lines: 4,
      silenceMs: 24_000,
      longestGapMs: 22_000,
      profile: slowDrip,
      profileSinceMs: 24_000 + horizonMs,
      answeredMs: 24_000,
    }),
  );
  assert(learn.choose(source, undefined).profile !== slowDrip);
});

Deno.test("a first contact gets the default, unless the protocol's clients would clearly have been held longer by another", () => {
  const patient = learner();
  for (let i = 0; i < 20; i++) patient.stayed(`198.51.100.${i}`, 0, 0, 22_000);
  assertEquals(
    patient.choose("203.0.113.1", undefined).profile,
    0,
    "all held as well: the default",
  );
  const scanned = learner();
  for (let i = 0; i < 20; i++) scanned.departed(`198.51.100.${i}`, 0, silence(5, 0));
  assertEquals(smtpProfiles[scanned.choose("203.0.113.1", undefined).profile].name, "lines");
});

Deno.test("a program whose trial of a cheaper pacing loses its client is not moved to it again, nor to one its leaving rules out", () => {
  const profiles = profilesOf("ssh");
  const slow = byName("slow", profiles);
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-JSCH-0.1.54\r\n";
  const { tag } = learn.choose("192.0.2.1", hello);
  assertEquals(learn.stayed("192.0.2.1", tag, 0, 1_600), slow);
  // It reads each version line with a 2 s timeout: gone 2 s into slow's first gap.
  const gone = { bytes: 900, pieces: 800, lines: 60, longestGapMs: 1_600 };
  learn.departed(
    "192.0.2.1",
    tag,
    departure(122_000, { ...gone, silenceMs: 2_000, profile: slow, profileSinceMs: 120_000 }),
  );
  // Nor to the next cheapest: lines 3 s apart lose a client that leaves after 2 s silent.
  for (const source of ["192.0.2.2", "192.0.2.3", "192.0.2.4"]) {
    assertEquals(learn.choose(source, hello).profile, 0);
    assertEquals(learn.stayed(source, tag, 0, 1_600), 0, "nothing cheaper holds it");
  }
});

Deno.test("a program whose own source says what it stands is never tried on what that rules out", () => {
  // paramiko reads each version line after the first within 2 s (its _check_banner).
  const profiles = profilesOf("ssh");
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-paramiko_3.4.0\r\n";
  const given = Array.from(
    { length: crowd + 4 },
    (_, i) => learn.choose(`192.0.2.${i + 1}`, hello),
  );
  assertEquals(given.filter((choice) => choice.profile !== 0), [], "no crowd trial");
  assertEquals(learn.stayed("192.0.2.1", given[0].tag, 0, 1_600), 0, "nor one at the horizon");
});

Deno.test("a crowd of one program's clients tries a cheaper profile on one newcomer, so the rest move once it held", () => {
  const profiles = profilesOf("ssh");
  const slow = byName("slow", profiles);
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-Go\r\n";
  const sources = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);
  const given = sources.map((source) => learn.choose(source, hello));
  // One newcomer, once the program is a crowd, tries the cheapest; the rest get the default.
  assertEquals(given.filter((choice) => choice.profile === slow).length, 1);
  assertEquals(given.findIndex((choice) => choice.profile === slow), crowd - 1);
  const { tag } = given[0];
  // The first ones reach the horizon before the trial does, and stay where they are.
  for (const source of sources.slice(0, crowd - 1)) {
    assertEquals(learn.stayed(source, tag, 0, 1_600), 0);
  }
  const news = learn.news;
  assertEquals(learn.stayed(sources[crowd - 1], tag, slow, 20_000), slow);
  // It held: the first ones, told to stay, hear the news and move, as every later one
  // does at its first horizon; newcomers start there.
  assert(learn.news > news);
  for (const source of sources.slice(0, crowd - 1)) {
    assertEquals(learn.reconsider(source, tag, 0), slow);
  }
  for (const source of sources.slice(crowd)) {
    assertEquals(learn.stayed(source, tag, 0, 1_600), slow);
  }
  assertEquals(learn.news, news + 1, "only a trial that held is news");
  assertEquals(learn.choose("192.0.2.200", hello).profile, slow);
});

Deno.test("clients no first bytes name try a cheaper profile for their source at the horizon, one at a time", () => {
  // ssh clients whose version string names nothing known (or that send none), paced
  // with gaps under 1.6 s: nothing they did says a slower pacing holds them.
  const profiles = profilesOf("ssh");
  const slow = byName("slow", profiles);
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const [bot, other] = ["192.0.2.31", "192.0.2.32"];
  assertEquals([learn.choose(bot, "SSH-2.0-x\r\n").profile, learn.choose(bot, undefined).profile], [
    0,
    0,
  ]);
  assertEquals(learn.stayed(bot, 0, 0, 1_600), slow, "the first at its horizon tries the cheapest");
  assertEquals(learn.stayed(bot, 0, 0, 1_600), 0, "one at a time");
  assertEquals(learn.stayed(other, 0, 0, 1_600), slow, "each source for itself");
  assertEquals(learn.stayed(bot, 0, slow, 20_000), slow, "it held");
  assertEquals(learn.stayed(bot, 0, 0, 1_600), slow, "so its source's others move");
  // The other's trial lost its client at a 2 s silence: its source goes back, and tries
  // nothing that silence rules out.
  learn.departed(other, 0, silence(2, slow));
  assertEquals(learn.choose(other, undefined).profile, 0);
  assertEquals(learn.stayed(other, 0, 0, 1_600), 0);
  // A third's trial ends with a client found gone by a write, which rules nothing out:
  // the next cheapest is tried.
  const third = "192.0.2.33";
  assertEquals(learn.stayed(third, 0, 0, 1_600), slow);
  const gone = { leftBy: "write", aliveMs: 12_000, bytes: 20, pieces: 1, profile: slow } as const;
  learn.departed(third, 0, departure(26_000, gone));
  assertEquals(learn.stayed(third, 0, 0, 1_600), byName("lines", profiles));
});

Deno.test("a crowd's trial ends with its client, and the next cheapest is tried", () => {
  const profiles = profilesOf("ssh");
  const [lines, slow] = [byName("lines", profiles), byName("slow", profiles)];
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-Go\r\n";
  const given = Array.from({ length: crowd }, (_, i) => learn.choose(`192.0.2.${i + 1}`, hello));
  assertEquals(given.at(-1)!.profile, slow);
  // Found gone by a write: it left, and its leaving shows no limit that rules out lines.
  learn.departed(
    `192.0.2.${crowd}`,
    given[0].tag,
    departure(26_000, { leftBy: "write", aliveMs: 12_000, bytes: 20, pieces: 1, profile: slow }),
  );
  assertEquals(learn.choose("192.0.2.100", hello).profile, lines);
  assertEquals(learn.choose("192.0.2.101", hello).profile, 0, "one trial at a time");
});

Deno.test("a crowd is of clients held now: as many that came and went are none", () => {
  const profiles = profilesOf("ssh");
  const learn = new Learner({ protocol: "ssh", profiles, learn: true });
  const hello = "SSH-2.0-Go\r\n";
  for (let round = 0; round < 3; round++) {
    const sources = Array.from({ length: crowd - 1 }, (_, i) => `192.0.2.${i + 1}`);
    const given = sources.map((source) => learn.choose(source, hello));
    assert(given.every((choice) => choice.profile === 0), `round ${round}`);
    for (const source of sources) {
      learn.departed(source, given[0].tag, departure(30_000, { leftBy: "lifetime" }));
    }
  }
});

Deno.test("pop3-brute, run after run: a silence that lost it is tried again for the doubt only, never for being cheap, and the slow drip, as silent, was tried with the default", () => {
  // 20 s for a greeting; given one, 20 s more for the reply to USER, which a line never
  // ends in time; the run's other connections are closed as a greeting's first bytes come.
  const { held } = connections(60, (choice, i) => {
    const { profile } = choice;
    const first = firstByteMs(choice);
    if (first >= 20_000) return silence(20, profile);
    if (i % 3 === 2) return verdict(first / 1000, profile);
    return departure(first + 20_000, {
      greetedMs: first,
      longestGapMs: first,
      bytes: 10,
      pieces: 10,
      silenceMs: 1_500,
      lineBytes: 10,
      lineMs: first + 20_000,
      profile,
    });
  });
  // Early bytes hold it 31 s a connection on average, silence 20: a silence is tried
  // again only for the doubt, and not within a bot's first runs.
  const lost = (from: number, to: number) =>
    held.slice(from, to).filter((seconds) => seconds === 20).length;
  assertEquals(lost(1, 30), 0, held.join(" "));
  assert(lost(30, 60) <= 2, held.join(" "));
});
