/**
 * The protocol registry. Adding a protocol is one module beside this one and one line
 * here.
 *
 * @example
 * ```ts
 * import { protocols } from "./mod.ts";
 * Object.keys(protocols); // ["ssh", "ssh-ignore", "http", ...]
 * ```
 *
 * @module
 */
import type { Protocol } from "./protocol.ts";
import { ssh } from "./ssh.ts";
import { sshIgnore } from "./ssh_ignore.ts";
import { http } from "./http.ts";
import { httpInterim } from "./http_interim.ts";
import { httpStatus } from "./http_status.ts";
import { smtp } from "./smtp.ts";
import { ftp } from "./ftp.ts";
import { telnet } from "./telnet.ts";
import { pop3 } from "./pop3.ts";
import { imap } from "./imap.ts";
import { irc } from "./irc.ts";
import { banner } from "./banner.ts";
import { tls } from "./tls.ts";

export type { LineOptions, Protocol } from "./protocol.ts";

/** Every protocol, by its `--protocol` name. */
export const protocols: Readonly<Record<string, Protocol>> = Object.fromEntries(
  [ssh, sshIgnore, http, httpInterim, httpStatus, smtp, ftp, telnet, pop3, imap, irc, banner, tls]
    .map((protocol) => [protocol.name, protocol]),
);
