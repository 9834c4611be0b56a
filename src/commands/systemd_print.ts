/**
 * `tarpyt systemd print`: the unit templates on stdout as a tar archive: the binary has
 * no permission to write files, and `tar -x` needs none of ours. `ExecStart=` names this
 * binary when it is the compiled one, else where the README installs it.
 *
 * @module
 */
import { checkExecPath, type SystemdPrintCommand, UsageError } from "../cli/cli.ts";
import { installedPath, unitFiles } from "../systemd/units.ts";
import { tarArchive } from "../systemd/tar.ts";
import { exitUsage, fail, writeStdout } from "./fail.ts";

/** Writes the unit templates `command` asks for. */
export async function systemdPrint(command: SystemdPrintCommand): Promise<void> {
  if (Deno.stdout.isTerminal()) {
    fail(
      "systemd print writes a tar archive; pipe it: " +
        "tarpyt systemd print | sudo tar -x -v -C /etc/systemd/system  (or | tar -t to list it)",
      exitUsage,
    );
  }
  let execPath = command.execPath;
  if (execPath === undefined && Deno.build.standalone) {
    execPath = Deno.execPath();
    try {
      checkExecPath("this binary's path", execPath);
    } catch (error) {
      if (error instanceof UsageError) fail(error.message, exitUsage);
      throw error;
    }
  }
  const units = unitFiles(command.protocols, execPath ?? installedPath);
  await writeStdout(tarArchive(units, Date.now() / 1000));
}
