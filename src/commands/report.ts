/**
 * `tarpyt report [--svg]`: a log read on stdin, summed up on stdout (src/log/report.ts).
 *
 * @module
 */
import { logLines, reportText, summarizeLog } from "../log/report.ts";
import { reportSvg } from "../log/report_svg.ts";
import { writeStdout } from "./fail.ts";

/** Reads stdin to its end and prints the report, as text or SVG. */
export async function report(svg: boolean): Promise<void> {
  const summary = await summarizeLog(logLines(Deno.stdin.readable));
  await writeStdout(new TextEncoder().encode(svg ? reportSvg(summary) : reportText(summary)));
}
