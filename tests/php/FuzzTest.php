<?php

declare(strict_types=1);

namespace Stask\Tests;

/**
 * A short run of the PHP-level fuzzer (tools/fuzz.php) on this test's
 * backend: fixed seeds, a few seconds, every batch in a child process. Any
 * crash, hang or unexpected throwable fails the test with the seed and case
 * that replay it. `make fuzz-php` runs the same fuzzer for longer.
 */
final class FuzzTest extends \PHPUnit\Framework\TestCase
{
    /** Seeds that start the short run; each names a batch of cases. */
    private const SEED = 20261203;

    public function testAShortFuzzRunFindsNoCrashAndNoUnexpectedThrowable(): void
    {
        $cmd = array_merge([PHP_BINARY], self::extensionArgs(), [
            __DIR__ . '/../../tools/fuzz.php', '--seconds=4', '--seed=' . self::SEED, '--batch=40', '--json',
            '--backend=' . (getenv('STASK_TEST_BACKEND') ?: 'sqlite'),
        ]);
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($proc);

        $summary = json_decode(trim($out), true);
        $this->assertIsArray($summary, "the fuzzer printed no summary:\n{$out}\n{$err}");
        $this->assertGreaterThan(50, $summary['cases'], 'the run did some work');
        $problems = array_map(
            static fn (array $f) => "seed {$f['seed']} case {$f['case']} {$f['target']}: " . substr($f['problem'], 0, 300),
            array_merge($summary['crashes'], $summary['findings'])
        );
        $this->assertSame([], $problems, sprintf(
            "%d cases, %d crashes, %d findings (replay: tools/fuzz.php --seed=S --batch=40 --only=K --verbose):\n%s",
            $summary['cases'],
            count($summary['crashes']),
            count($summary['findings']),
            implode("\n", array_slice($problems, 0, 20))
        ));
    }

    /** The -d extension=… this process was started with (tests/php/run.sh). */
    private static function extensionArgs(): array
    {
        $args = explode("\0", (string) @file_get_contents('/proc/self/cmdline'));
        foreach ($args as $i => $arg) {
            if (str_starts_with($arg, 'extension=') && ($args[$i - 1] ?? '') === '-d') {
                return ['-d', $arg];
            }
        }

        return ['-d', 'extension=' . __DIR__ . '/../../target/debug/libstask.so'];
    }
}
