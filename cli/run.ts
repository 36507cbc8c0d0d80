import { EXIT, main } from './main';

/** Exits once stdout and stderr are flushed: a pipe takes output asynchronously, and exit() would cut it (past 64 KB). */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exitWhenFlushed, (e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  exitWhenFlushed(EXIT.failure);
});
