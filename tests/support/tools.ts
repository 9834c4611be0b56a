/**
 * The programs the tests drive, and what to do when one is missing.
 *
 * On a developer's machine a test whose program is not installed is ignored, and its name
 * says which Debian package would run it; `tests/run.ts` ends the run with every test it
 * ignored and the one `apt-get install` line that would run them all. Under CI
 * (`TARPYT_CI=1`, set by `.ci/run`, which installs everything) nothing is ignored: a
 * missing program fails its tests.
 *
 * @module
 */

/** Each program a test runs, and the Debian package that installs it. */
export const debianPackages = {
  python3: "python3",
  "systemd-socket-activate": "systemd",
  "systemd-analyze": "systemd",
  ssh: "openssh-client",
  curl: "curl",
  telnet: "telnet",
  "fail2ban-regex": "fail2ban",
  ip: "iproute2",
  debootstrap: "debootstrap",
  "systemd-nspawn": "systemd-container",
  hydra: "hydra",
  medusa: "medusa",
  ncrack: "ncrack",
  nmap: "nmap",
  patator: "patator",
  swaks: "swaks",
  openssl: "openssl",
  "gnutls-cli": "gnutls-bin",
  go: "golang-go",
  "rsvg-convert": "librsvg2-bin",
  // Web scanners, for `deno task bench-campaign` only.
  gobuster: "gobuster",
  ffuf: "ffuf",
  dirb: "dirb",
  wfuzz: "wfuzz",
  whatweb: "whatweb",
} as const;

/** A program a test needs. */
export type Tool = keyof typeof debianPackages;

/** What a test needs: programs, and `root` for namespaces and containers. */
export type Need = Tool | "root";

/** Whether missing programs fail tests instead of ignoring them (`TARPYT_CI=1`). */
export const strict: boolean = Deno.env.get("TARPYT_CI") === "1";

/** Whether `name` is an executable file in a directory of `PATH`. */
export function installed(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

let rootCache: boolean | undefined;

/** Whether the tests run as root; asked of `id`, which needs no --allow-sys. */
export function runningAsRoot(): boolean {
  rootCache ??= new TextDecoder().decode(
    new Deno.Command("id", { args: ["-u"] }).outputSync().stdout,
  ).trim() === "0";
  return rootCache;
}

/** Which of `needs` this machine lacks. */
export function unmet(needs: readonly Need[]): Need[] {
  return needs.filter((need) => need === "root" ? !runningAsRoot() : !installed(need));
}

/** `telnet (telnet), root`: what is missing, each program with its package. */
export function describeUnmet(missing: readonly Need[]): string {
  return missing.map((need) =>
    need === "root" ? "root" : `${need} (Debian package ${debianPackages[need]})`
  ).join(", ");
}

/** Marks the name of a test that was ignored for what it needs. */
export const ignoredMark = "[ignored: needs ";

/**
 * A test definition that runs only where `needs` are met: elsewhere it is ignored, and its
 * name says what is missing; under CI it fails, saying the same.
 *
 * @example
 * ```ts ignore
 * Deno.test(needing(["telnet"], { name: "telnet is held", fn: async () => {} }));
 * ```
 */
export function needing(
  needs: readonly Need[],
  definition: Deno.TestDefinition,
): Deno.TestDefinition {
  const missing = unmet(needs);
  if (missing.length === 0) return definition;
  const why = describeUnmet(missing);
  if (strict) {
    return {
      ...definition,
      fn: () => {
        throw new Error(`needs ${why}: .ci/run installs it and runs the tests as root`);
      },
    };
  }
  return { ...definition, name: `${definition.name} ${ignoredMark}${why}]`, ignore: true };
}
