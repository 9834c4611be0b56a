/**
 * The protocol registry. Adding a protocol is one module beside this one and one line
 * here.
 *
 * @example
 * ```ts
 * import { protocols } from "./mod.ts";
 * Object.keys(protocols); // ["ssh", "http", "smtp"]
 * ```
 *
 * @module
 */
import type { Protocol } from "./protocol.ts";
import { ssh } from "./ssh.ts";
import { http } from "./http.ts";
import { smtp } from "./smtp.ts";

export type { LineOptions, Protocol } from "./protocol.ts";

/** Every protocol, by its `--protocol` name. */
export const protocols: Readonly<Record<string, Protocol>> = { ssh, http, smtp };
