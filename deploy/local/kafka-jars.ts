import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { EngineOptions } from "./engine.js";

/**
 * What a local Kafka broker runs on: Java 17+ (checked, with the command that installs it) and the broker's
 * jars, fetched once from Maven Central into the engine cache. The version is the pom's, so changing it there
 * fetches the new jars on the next start.
 */

const run = promisify(execFile);

/** The jar list; its `kafka.version` property is the one place the broker version is written. */
const POM = join(dirname(fileURLToPath(import.meta.url)), "kafka", "pom.xml");
/** Written into the download folder before it is renamed into place: no marker, no complete download. */
const COMPLETE_MARKER = ".complete";
/** Lines of a failed command's output quoted in its error. */
const OUTPUT_TAIL_LINES = 40;
const JAVA_HINT = "install Java 17+ (`sudo apt-get install -y openjdk-17-jre-headless`)";
const MAVEN_HINT = "install Maven (`sudo apt-get install -y maven`); it fetches the Kafka jars once";

/** `<cacheDir>/kafka-<version>/libs`, fetched by Maven on first use. */
export async function ensureJars(version: string, options: EngineOptions): Promise<string> {
  const home = join(options.cacheDir, `kafka-${version}`);
  const libs = join(home, "libs");
  if (await exists(join(libs, COMPLETE_MARKER))) return libs;
  await requireMaven();
  await mkdir(home, { recursive: true });
  // A private folder renamed into place when complete: an interrupted download or a concurrent start never
  // leaves a half-filled `libs` that looks usable.
  const partial = await mkdtemp(join(home, "libs-partial-"));
  options.progress(`fetching Kafka ${version} jars from Maven Central (once) into ${libs}`);
  const fetchStartedAt = Date.now();
  try {
    await run(
      "mvn",
      [
        "-B",
        "-q",
        "-f",
        POM,
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${partial}`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await writeFile(join(partial, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    if (!(await exists(join(libs, COMPLETE_MARKER)))) {
      await rm(libs, { recursive: true, force: true }); // an incomplete leftover, never a usable one
      await rename(partial, libs);
    }
    await rm(partial, { recursive: true, force: true });
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (await exists(join(libs, COMPLETE_MARKER))) return libs; // another start finished first
    throw new Error(`fetching the Kafka ${version} jars with Maven failed: ${describeFailure(error)}`, {
      cause: error,
    });
  }
  options.progress(`fetched Kafka ${version} jars in ${Date.now() - fetchStartedAt} ms`);
  return libs;
}

/** The broker version: the pom's `kafka.version`. */
export async function kafkaVersion(): Promise<string> {
  const pom = await readFile(POM, "utf8");
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (version === undefined) throw new Error(`${POM} has no <kafka.version> property`);
  return version;
}

/** Kafka 4.x brokers run on Java 17 or newer. `java -version` prints to stderr. */
export async function requireJava17(): Promise<void> {
  let output: string;
  try {
    const { stdout, stderr } = await run("java", ["-version"]);
    output = `${stderr}${stdout}`;
  } catch (error) {
    throw new Error(`\`java\` was not found or does not run: ${JAVA_HINT}`, { cause: error });
  }
  // `openjdk version "17.0.15" …`, `java version "1.8.0_392"` (old scheme: major after the "1.").
  const match = /version "(?:1\.)?(\d+)/.exec(output);
  const major = Number(match?.[1] ?? Number.NaN);
  if (!(major >= 17)) {
    throw new Error(
      `Kafka 4.x needs Java 17+, \`java -version\` says: ${output.split("\n")[0]}: ${JAVA_HINT}`,
    );
  }
}

async function requireMaven(): Promise<void> {
  try {
    await run("mvn", ["-v"]);
  } catch (error) {
    throw new Error(`\`mvn\` was not found or does not run: ${MAVEN_HINT}`, { cause: error });
  }
}

/** execFile's error names the command and quotes its stderr; Maven prints its errors on stdout. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { stdout, stderr } = error as Error & { stdout?: string; stderr?: string };
  const extra = [stdout, stderr && !error.message.includes(stderr.trim()) ? stderr : undefined]
    .filter((text): text is string => text !== undefined && text.trim() !== "")
    .join("\n");
  const tail = extra.trim().split("\n").slice(-OUTPUT_TAIL_LINES).join("\n");
  return tail === "" ? error.message.trim() : `${error.message.trim()}\n${tail}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
