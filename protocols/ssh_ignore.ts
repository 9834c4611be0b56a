/**
 * ssh-ignore: a real-looking SSH server that, after its KEXINIT, sends only
 * SSH_MSG_IGNORE packets.
 *
 * OpenSSH gives up after 1024 pre-banner lines (the `ssh` protocol's limit); past the
 * version exchange there is no such limit. RFC 4253 11.2: "All implementations MUST
 * understand (and ignore) this message at any time (after receiving the identification
 * string)". So this sends a version string (RFC 4253 4.2), a KEXINIT offering common
 * algorithms (RFC 4253 7.1), and then, while the client waits for the key exchange
 * reply, one SSH_MSG_IGNORE packet a tick, forever.
 *
 * Packets use the binary packet protocol before any key is agreed (RFC 4253 6): no
 * encryption, no MAC, length and padding making a multiple of 8. The KEXINIT never offers
 * OpenSSH's strict key exchange (`kex-strict-s-v00@openssh.com`), under which a message
 * the key exchange does not expect would end the connection.
 *
 * Verdicts: the key exchange's reply (RFC 4253 8) and every authentication answer (RFC
 * 4252 5.1: SSH_MSG_USERAUTH_SUCCESS or _FAILURE) come after the key exchange, which
 * never ends. The version string ends only the identification (RFC 4253 4.2): the
 * client sends its KEXINIT and waits for the server's reply.
 *
 * @module
 */
import {
  type LineOptions,
  type Protocol,
  randomInt,
  randomText,
  slowLines,
  wholeLines,
} from "./protocol.ts";
import { sshPacing } from "./ssh.ts";

/** RFC 4253 4.2: the identification string, like a current OpenSSH. */
const sshVersionLine = "SSH-2.0-OpenSSH_9.6p1\r\n";

const messageKexInit = 20;
const messageIgnore = 2;
const bytes = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

function uint32(n: number): string {
  return String.fromCharCode((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** RFC 4251 5: a string is its uint32 length, then its bytes. */
function sshString(text: string): string {
  return uint32(text.length) + text;
}

/** RFC 4253 6: length, padding length, payload, 4 or more random bytes to a multiple of 8. */
function sshPacket(payload: string): string {
  const unpadded = 4 + 1 + payload.length;
  const padding = 4 + (8 - ((unpadded + 4) % 8)) % 8;
  return uint32(1 + payload.length + padding) + String.fromCharCode(padding) + payload +
    randomText(padding, bytes);
}

/** The shortest {@link sshIgnorePacket}: 5 bytes of header, 5 of payload, 6 of padding. */
const sshIgnoreMinLength: number = sshPacket(String.fromCharCode(messageIgnore) + uint32(0)).length;

/**
 * A KEXINIT (RFC 4253 7.1) offering what OpenSSH, libssh and Go's x/crypto/ssh all accept.
 */
function sshKexInitPacket(): string {
  const nameLists = [
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
    "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes256-gcm@openssh.com",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha2-512",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha2-512",
    "none",
    "none",
    "",
    "",
  ];
  const cookie = randomText(16, bytes);
  const firstKexPacketFollows = "\0";
  return sshPacket(
    String.fromCharCode(messageKexInit) + cookie + nameLists.map(sshString).join("") +
      firstKexPacketFollows + uint32(0),
  );
}

/**
 * An SSH_MSG_IGNORE packet (RFC 4253 11.2) of at most `maxLength` bytes, holding random
 * data.
 */
function sshIgnorePacket(maxLength: number): string {
  const room = Math.floor((maxLength - sshIgnoreMinLength) / 8) * 8;
  return sshPacket(
    String.fromCharCode(messageIgnore) + sshString(randomText(randomInt(0, room), bytes)),
  );
}

/**
 * The ssh-ignore tarpit's ticks: the version line, the KEXINIT, then SSH_MSG_IGNORE
 * packets forever.
 */
function* sshIgnorePackets(
  { maxLineLength }: LineOptions,
): Generator<string, void, undefined> {
  yield sshVersionLine;
  yield sshKexInitPacket();
  for (;;) yield sshIgnorePacket(maxLineLength);
}

/** The ssh-ignore protocol for the registry. */
export const sshIgnore: Protocol = {
  name: "ssh-ignore",
  summary: "a version, a KEXINIT, then endless SSH_MSG_IGNORE packets (RFC 4253 11.2)",
  verdicts: [], // binary: the tests check that every packet after the KEXINIT is an IGNORE
  minLineLength: sshVersionLine.length,
  pacing: sshPacing,
  alternatives: [wholeLines(sshPacing), slowLines(sshPacing)],
  lines: sshIgnorePackets,
};
