/**
 * Real systemd as PID 1 in a container, for testing the unit files: these machines' own
 * PID 1 is not systemd. A Debian 12 root file system is built once with debootstrap
 * (a few minutes, cached), and each boot runs on a throw-away overlay of it under
 * `systemd-nspawn`, with a network namespace of its own. Needs root.
 *
 * The recipe is `../shared/nspawn/run.sh`'s, rewritten as the project's own code.
 *
 * @module
 */

import { type Ran, run } from "./process.ts";

async function mustRun(argv: readonly string[], timeoutMs?: number): Promise<string> {
  const ran = await run(argv, undefined, undefined, timeoutMs);
  if (ran.code !== 0) {
    throw new Error(`${argv.join(" ")} exited ${ran.code}:\n${ran.stdout}${ran.stderr}`);
  }
  return ran.stdout;
}

const cacheDir = `${
  Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`
}/tarpyt-test`;
const suite = "bookworm";
/** systemd itself; fail2ban with its journal reader, for the jail in contrib/; curl for the metrics socket. */
const packages = "systemd,systemd-sysv,dbus,fail2ban,python3-systemd,curl";
/**
 * Installed after debootstrap, as an operator would: CrowdSec's postinst registers with
 * its Central API unless a credentials file already holds something (its README.Debian),
 * and these machines cannot reach that API.
 */
const operatorPackages = ["crowdsec", "prometheus", "systemd-journal-remote"];

/**
 * The Debian mirror apt already uses, so debootstrap needs no other host; on a host that is
 * not Debian (an Ubuntu CI runner), Debian's own.
 */
async function debianMirror(): Promise<string> {
  const sources = await mustRun([
    "sh",
    "-c",
    "cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true",
  ]);
  const mirror = [...sources.matchAll(/^(?:URIs:|deb(?: \[[^\]]*\])?)\s+(\S+)/gm)]
    .map((m) => m[1])
    .find((uri) => /\/debian\/?$/.test(uri));
  return mirror ?? "http://deb.debian.org/debian";
}

/**
 * How long a download from the Debian mirror may take: debootstrap, and the operators'
 * packages, took over two minutes on a fresh machine while the rest of the suite ran.
 */
const downloadMs = 600_000;

/** The cached base root file system, built on first use. */
async function baseRootfs(): Promise<string> {
  // Named by what it holds: a change of packages builds a new one.
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode([packages, ...operatorPackages].join(",")),
  );
  const tag = [...new Uint8Array(digest).slice(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const base = `${cacheDir}/rootfs-${suite}-${tag}`;
  try {
    await Deno.stat(`${base}/.complete`);
    return base;
  } catch { /* build it */ }
  const building = `${base}.${Deno.pid}`;
  await Deno.mkdir(building, { recursive: true });
  await mustRun([
    "debootstrap",
    "--variant=minbase",
    `--include=${packages}`,
    suite,
    building,
    await debianMirror(),
  ], downloadMs);
  await Deno.mkdir(`${building}/etc/crowdsec`, { recursive: true });
  await Deno.writeTextFile(
    `${building}/etc/crowdsec/online_api_credentials.yaml`,
    "# no Central API: unreachable from here\n",
  );
  await Deno.copyFile("/etc/resolv.conf", `${building}/etc/resolv.conf`);
  await mustRun([
    "chroot",
    building,
    "sh",
    "-c",
    "mount -t proc proc /proc && apt-get update -q && DEBIAN_FRONTEND=noninteractive " +
    `apt-get install -y -q --no-install-recommends ${operatorPackages.join(" ")}; ` +
    "status=$?; umount /proc; apt-get clean; exit $status",
  ], downloadMs);
  await Deno.writeTextFile(`${building}/etc/machine-id`, ""); // nspawn supplies one
  // Timers and gettys only add noise and time to a boot.
  for (
    const unit of [
      "apt-daily.timer",
      "apt-daily-upgrade.timer",
      "dpkg-db-backup.timer",
      "e2scrub_all.timer",
      "systemd-tmpfiles-clean.timer",
      "console-getty.service",
      "getty@.service",
    ]
  ) {
    await Deno.symlink("/dev/null", `${building}/etc/systemd/system/${unit}`).catch(() => {});
  }
  // fail2ban and the operators' packages start when a test has configured them.
  for (const wants of ["multi-user.target.wants", "sockets.target.wants"]) {
    const dir = `${building}/etc/systemd/system/${wants}`;
    const names = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
    for (const { name } of names) {
      if (/^(fail2ban|crowdsec|prometheus|systemd-journal-)/.test(name)) {
        await Deno.remove(`${dir}/${name}`);
      }
    }
  }
  await Deno.writeTextFile(`${building}/.complete`, "");
  await Deno.rename(building, base).catch(async () => {
    // Another run finished first: use its copy.
    await Deno.remove(building, { recursive: true });
  });
  return base;
}

/** A booted container; stopped, unmounted and removed when disposed. */
export class SystemdContainer implements AsyncDisposable {
  /** The container's files, as seen from the host. */
  readonly root: string;
  readonly #runDir: string;
  readonly #cgroup: string | undefined;
  readonly #nspawn: Deno.ChildProcess;
  #leader = 0;

  private constructor(runDir: string, cgroup: string | undefined, nspawn: Deno.ChildProcess) {
    this.#runDir = runDir;
    this.root = `${runDir}/root`;
    this.#cgroup = cgroup;
    this.#nspawn = nspawn;
  }

  /** Boots a fresh container and waits until its systemd reports running. */
  static async boot(): Promise<SystemdContainer> {
    const base = await baseRootfs();
    const id = `tarpyt-${Deno.pid}-${Date.now()}`;
    const runDir = `${cacheDir}/runs/${id}`;
    for (const dir of ["upper", "work", "root"]) {
      await Deno.mkdir(`${runDir}/${dir}`, { recursive: true });
    }
    await mustRun([
      "mount",
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${base},upperdir=${runDir}/upper,workdir=${runDir}/work`,
      `${runDir}/root`,
    ]);
    // Without systemd as the host's PID 1, nothing gives nspawn a cgroup of its own.
    const cgroup = await hostCgroupFor(id);
    const nspawn = new Deno.Command("sh", {
      args: [
        "-c",
        `${cgroup ? `echo $$ > ${cgroup}/cgroup.procs && ` : ""}exec systemd-nspawn "$@"`,
        "sh",
        "-D",
        `${runDir}/root`,
        "-M",
        id,
        "--register=no",
        "--keep-unit",
        "--boot",
        "--console=read-only",
        "--private-network",
        // Lets PID 1 load the cgroup BPF programs behind IPAccounting= and IPAddressDeny=.
        "--system-call-filter=bpf",
        "--capability=CAP_BPF",
        "--link-journal=no",
        "--resolv-conf=off",
        "--timezone=off",
      ],
      env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const container = new SystemdContainer(runDir, cgroup, nspawn);
    try {
      await container.#waitForBoot();
    } catch (error) {
      await container[Symbol.asyncDispose]();
      throw error;
    }
    return container;
  }

  async #waitForBoot(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (this.#leader === 0) {
      if (Date.now() > deadline) throw new Error("systemd did not start in the container");
      const children = await run(["pgrep", "-P", String(this.#nspawn.pid)]);
      for (const pid of children.stdout.split(/\s+/).filter(Boolean)) {
        if (await processName(pid) === "systemd") this.#leader = Number(pid);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (;;) {
      const state = (await this.exec(["systemctl", "is-system-running"])).stdout.trim();
      if (state === "running") return;
      if (state === "degraded") {
        const failed = await this.exec(["systemctl", "--failed", "--no-pager"]);
        throw new Error(`the container booted degraded:\n${failed.stdout}`);
      }
      if (Date.now() > deadline) throw new Error(`the container is "${state}" after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Runs a command inside the container (all its namespaces). */
  exec(argv: readonly string[], stdin?: string): Promise<Ran> {
    return run(this.inside(argv), stdin);
  }

  /** Runs a command inside the container and returns its stdout; throws if it fails. */
  mustExec(argv: readonly string[]): Promise<string> {
    return mustRun(this.inside(argv));
  }

  /** The command line that runs `argv` inside the container. */
  inside(argv: readonly string[]): string[] {
    return ["nsenter", "-t", String(this.#leader), "-a", ...argv];
  }

  /** The command line that runs a host program in the container's network namespace. */
  onNetwork(argv: readonly string[]): string[] {
    return ["nsenter", "-t", String(this.#leader), "-n", ...argv];
  }

  /** Copies a host file or directory into the container. */
  async copyIn(source: string, destination: string): Promise<void> {
    const target = `${this.root}${destination}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await mustRun(["cp", "-a", source, target]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#leader !== 0) {
      await run(this.inside(["systemctl", "poweroff", "--no-block"]));
    }
    const stopped = this.#nspawn.status;
    const timer = setTimeout(() => this.#nspawn.kill("SIGKILL"), 15_000);
    await stopped;
    clearTimeout(timer);
    await run(["umount", this.root]);
    if (this.#cgroup) await run(["find", this.#cgroup, "-depth", "-type", "d", "-delete"]);
    await Deno.remove(this.#runDir, { recursive: true });
  }
}

/** A process's name, read with cat: Deno wants --allow-all to read /proc/PID itself. */
async function processName(pid: string): Promise<string> {
  return (await run(["cat", `/proc/${pid}/comm`])).stdout.trim();
}

/** A cgroup v2 directory for nspawn when the host's PID 1 is not systemd, else undefined. */
async function hostCgroupFor(id: string): Promise<string | undefined> {
  if (await processName("1") === "systemd") return undefined;
  for (const unified of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) {
    try {
      await Deno.stat(`${unified}/cgroup.procs`);
      await Deno.mkdir(`${unified}/${id}`);
      return `${unified}/${id}`;
    } catch { /* not cgroup v2 here */ }
  }
  return undefined;
}
