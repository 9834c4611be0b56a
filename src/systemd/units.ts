/**
 * The systemd unit templates, `tarpyt-<protocol>@.socket` and `tarpyt-<protocol>@.service`,
 * made from one template so that no protocol's pair can drift from another's. The files in
 * `systemd/` are this module's output, and a test keeps them equal.
 *
 * The instance name is the `ListenStream=` value: `tarpyt-ssh@22.socket`,
 * `tarpyt-ssh@127.0.0.1:2222.socket`, or `tarpyt-ssh@\x5b::\x5d:22.socket` for `[::]:22`
 * (`systemd-escape '[::]:22'`).
 *
 * @module
 */
import { spareFds } from "../runtime/fd_limit.ts";
import { listenBacklog } from "../runtime/listeners.ts";

/** Where the README installs the binary, and the units' default `ExecStart=` path. */
export const installedPath = "/usr/local/bin/tarpyt";

/**
 * The sizing the service units ship with; each limit below follows from `maxClients`.
 * The memory allowance covers the process idle and each client's user-space cost
 * (`deno task bench` measures both) with room to spare; the kernel adds a socket and at
 * most twice `bufferBytes` each way (Linux doubles SO_RCVBUF/SO_SNDBUF), charged to the
 * same cgroup.
 */
export const unitSizing = {
  maxClients: 4096,
  /** `ReceiveBuffer=` and `SendBuffer=` of the listening socket; clients inherit them. */
  bufferBytes: 4096,
  /** Idle memory allowance in MiB, then per client in KiB: 64 MiB + 32 KiB per client. */
  baseMiB: 64,
  perClientKiB: 32,
  /** The runtime's threads with room for its blocking pool. */
  tasks: 32,
  /** Connections waiting in the kernel for an accept, as `--listen` queues them. */
  backlog: listenBacklog,
  /**
   * `CPUQuota=`, in per cent of one core: a base for accepting, logging and the runtime,
   * and per client what the dearest pacing costs (ssh's drip, `deno task bench-pacing`),
   * rounded up generously.
   */
  cpuBasePercent: 25,
  cpuPerClientPercent: 0.002,
} as const;

/** `WatchdogSec=`: systemd restarts a service that has not pinged for this long. */
const watchdogSec = 30;

/** One unit file: its name under `/etc/systemd/system/` and its text. */
export interface UnitFile {
  /** The file's name. */
  readonly name: string;
  /** The unit's text. */
  readonly text: string;
}

/**
 * Both unit templates of each protocol, in the order given.
 *
 * @param protocolNames `--protocol` values, each giving `tarpyt-<name>@.socket` and `.service`
 * @param execPath the installed binary, written into `ExecStart=`
 * @example
 * ```ts
import { installedPath, unitFiles } from "./units.ts";
 * for (const unit of unitFiles(["ssh"], installedPath)) console.log(unit.name);
 * // tarpyt-ssh@.socket
 * // tarpyt-ssh@.service
 * ```
 */
export function unitFiles(protocolNames: readonly string[], execPath: string): UnitFile[] {
  return protocolNames.flatMap((name) => [
    { name: `tarpyt-${name}@.socket`, text: socketUnit(name) },
    { name: `tarpyt-${name}@.service`, text: serviceUnit(name, execPath) },
  ]);
}

function header(name: string, kind: "socket" | "service"): string {
  return `# tarpyt-${name}@.${kind}: made by \`tarpyt systemd print\`; ` +
    `change it with \`systemctl edit tarpyt-${name}@.${kind}\`.\n`;
}

function socketUnit(name: string): string {
  const { bufferBytes, backlog } = unitSizing;
  return `${header(name, "socket")}
[Unit]
Description=TarPyt ${name} tarpit listening on %I

[Socket]
# The instance name is the address: tarpyt-${name}@22.socket, tarpyt-${name}@127.0.0.1:2222.socket,
# or for [::]:22 the name \`systemd-escape '[::]:22'\` prints.
ListenStream=%I
# Accepted sockets inherit these, so a trapped client pins at most twice this much
# kernel memory each way (Linux doubles it): a client that floods or never reads
# fills its own small buffers, never ours.
ReceiveBuffer=${bufferBytes}
SendBuffer=${bufferBytes}
Backlog=${backlog}
# With one long-lived service per socket, systemd counts the traffic here.
IPAccounting=yes
# Sources to leave alone (your own scanners and monitoring): the kernel drops their
# packets before anything accepts them. With \`systemctl edit tarpyt-${name}@.socket\`, for
# example: IPAddressDeny=192.0.2.10 198.51.100.0/24
IPAddressDeny=

[Install]
WantedBy=sockets.target
`;
}

function serviceUnit(name: string, execPath: string): string {
  const { maxClients, baseMiB, perClientKiB, tasks, cpuBasePercent, cpuPerClientPercent } =
    unitSizing;
  const memoryMiB = baseMiB + Math.ceil((maxClients * perClientKiB) / 1024);
  const cpuPercent = cpuBasePercent + Math.ceil(maxClients * cpuPerClientPercent);
  return `${header(name, "service")}
[Unit]
Description=TarPyt ${name} tarpit on %I
Requires=tarpyt-${name}@%i.socket
After=tarpyt-${name}@%i.socket

[Service]
ExecStart=${execPath.replaceAll("%", "%%")} --protocol ${name}
# READY=1, a live STATUS= line, STOPPING=1 and the watchdog's WATCHDOG=1 go to systemd's
# notify socket. The binary sends them from an abstract unix socket (covered by its
# --allow-net) and may write nothing but /run/systemd/notify: FFI to libsystemd would
# switch Deno's permission checks off, and systemd-notify would need --allow-run.
Type=notify
NotifyAccess=main
# WATCHDOG=1 comes every ${watchdogSec / 2} s from the timer that keeps every listener accepting:
# a process whose event loop is stuck stops it, and systemd restarts the service.
WatchdogSec=${watchdogSec}s
Restart=on-failure
RestartSec=2s
TimeoutStopSec=15s
# A slice of its own: journal entries of tarpyt.slice cannot be forged by a local user
# (\`logger -t tarpyt\` can forge the identifier), so fail2ban and \`tarpyt report\` read
# only those (_SYSTEMD_SLICE=tarpyt.slice).
Slice=tarpyt.slice

# Sizing, all for TARPYT_MAX_CLIENTS: one file per client plus ${spareFds} for the runtime,
# its accept batch and metrics connections, and ${baseMiB} MiB plus ${perClientKiB} KiB per client,
# kernel socket buffers included. To hold more clients, raise all three together with
# \`systemctl edit\`.
Environment=TARPYT_MAX_CLIENTS=${maxClients}
LimitNOFILE=${maxClients + spareFds}
MemoryMax=${memoryMiB}M
TasksMax=${tasks}
# CPU: ${cpuBasePercent}% of a core plus ${cpuPerClientPercent}% per client at most, whatever storm
# comes: past it, clients wait; and only CPU nothing else wants.
CPUQuota=${cpuPercent}%
CPUWeight=idle

# The sandbox. The only network this service has is the socket systemd hands it:
# it runs as a throw-away user, in a network namespace of its own, with no capability,
# no writable file and a system-call filter. Deno runs with --jitless (the unit's
# MemoryDenyWriteExecute= forbids the JIT's writable code) and V8 needs @pkey.
DynamicUser=yes
PrivateUsers=yes
PrivateNetwork=yes
# SIGUSR1 makes any Deno process open a V8 inspector on 127.0.0.1:9229; here it can
# create no internet socket, and would have no network to listen on if it could.
RestrictAddressFamilies=AF_UNIX
IPAddressDeny=any
SocketBindDeny=any
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service @pkey
SystemCallFilter=~@privileged @resources
MemoryDenyWriteExecute=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
DevicePolicy=closed
KeyringMode=private
RemoveIPC=yes
UMask=0077
`;
}
