import { main } from '../../cli/main';

/** Runs the CLI in-process with a given environment, capturing what it prints. */
export async function kestrel(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  const stdout: string[] = [];
  const stderr: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (stdout.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
  for (const key of Object.keys(process.env)) if (key.startsWith('KESTREL__')) delete process.env[key];
  Object.assign(process.env, env);
  try {
    const code = await main(args);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    process.env = saved;
  }
}
