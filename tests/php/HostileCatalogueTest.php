<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\ProductSyncWorker;
use Examples\Workers\ProductWorker;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

/**
 * The catalogue of hostile inputs (tests/hostile/catalogue.php), every row
 * on this test's backend. Rows run in child PHP processes
 * (tests/hostile/runner.php), which report each row as it finishes: a row
 * that crashes its process (a segfault, a panic that aborts) or hangs fails
 * on its own and the rest go on in a new child. After every row the tables
 * must still answer. docs/security.md shows the same table.
 */
final class HostileCatalogueTest extends TestCase
{
    /** PHP's own throwables a row may expect; any other name is one of Seiger\sTask\Exceptions. */
    private const PHP_THROWABLES = ['TypeError', 'ValueError', 'ArgumentCountError', 'Error', 'JsonException'];

    /** Seconds one child may take for its rows before it counts as hung. */
    private const CHILD_TIMEOUT = 180;

    private string $victim = '';

    protected function tearDown(): void
    {
        if ($this->victim !== '' && is_file($this->victim)) {
            unlink($this->victim);
        }
        parent::tearDown();
    }

    /** @return list<array<string, mixed>> */
    public static function rows(): array
    {
        return require __DIR__ . '/../hostile/catalogue.php';
    }

    public function testTheCatalogueHasEnoughDistinctRows(): void
    {
        $ids = array_column(self::rows(), 'id');
        $this->assertGreaterThanOrEqual(80, count($ids));
        $this->assertSame($ids, array_values(array_unique($ids)), 'row ids are unique');
    }

    public function testEveryHostileInputGetsItsExpectedAnswer(): void
    {
        $rows = self::rows();
        $context = $this->root . '/hostile-context.json';
        file_put_contents($context, json_encode(['connection' => $this->connection(), 'fixtures' => $this->fixtures()], JSON_THROW_ON_ERROR));

        $results = $this->runRows($context, array_keys($rows));
        $failures = [];
        foreach ($rows as $i => $row) {
            $problem = self::judge($row, $results[$i] ?? ['kind' => 'missing', 'text' => 'the runner reported nothing']);
            if ($problem !== null) {
                $failures[] = sprintf('%s (%s, %s): %s', $row['id'], $row['surface'], $row['input'], $problem);
            }
        }
        $this->assertSame([], $failures, count($failures) . ' of ' . count($rows) . " rows failed on " . self::backend() . ":\n" . implode("\n", $failures));
    }

    public function testDocsSecurityShowsTheCatalogue(): void
    {
        $doc = (string) file_get_contents(__DIR__ . '/../../docs/security.md');
        $this->assertMatchesRegularExpression('/<!-- hostile-catalogue:start -->\n(.*)<!-- hostile-catalogue:end -->/s', $doc);
        preg_match('/<!-- hostile-catalogue:start -->\n(.*)<!-- hostile-catalogue:end -->/s', $doc, $m);
        $table = shell_exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg(__DIR__ . '/../../tools/hostile-table.php'));
        $this->assertSame($table, $m[1], 'docs/security.md is out of date: run php tools/hostile-table.php --write');
    }

    /** Why a row's outcome is wrong, or null when it is right. */
    private static function judge(array $row, array $got): ?string
    {
        $expect = $row['expect'];
        $text = (string) ($got['text'] ?? '');
        $seen = match ($got['kind']) {
            'http' => "HTTP {$got['status']}",
            'throw' => "{$got['full']}",
            'return' => 'returned',
            default => $got['kind'],
        } . ': ' . substr(str_replace("\n", ' ', $text), 0, 300);
        if (in_array($got['kind'], ['crash', 'hang', 'missing'], true)) {
            return "{$got['kind']}: {$text}";
        }
        if (($got['tables'] ?? false) !== true) {
            return 'the tables no longer answer afterwards: ' . ($got['tables_error'] ?? '?');
        }
        if (is_int($expect)) {
            if ($got['kind'] !== 'http' || $got['status'] !== $expect) {
                return "expected HTTP {$expect}, got {$seen}";
            }
        } elseif ($expect === 'ok') {
            if ($got['kind'] !== 'return') {
                return "expected the call to return, got {$seen}";
            }
        } else {
            $class = in_array($expect, self::PHP_THROWABLES, true) ? $expect : 'Seiger\\sTask\\Exceptions\\' . $expect;
            if ($got['kind'] !== 'throw' || $got['full'] !== $class) {
                return "expected {$class}, got {$seen}";
            }
        }
        if ($row['message'] !== '' && stripos($text, $row['message']) === false) {
            return "the answer does not mention '{$row['message']}': {$seen}";
        }
        foreach ($row['absent'] as $bad) {
            if (str_contains($text, $bad)) {
                return 'the answer contains ' . json_encode($bad) . ": {$seen}";
            }
        }

        return null;
    }

    /**
     * Runs rows in children until each has a result: a child that dies or
     * hangs costs the row it was on, and the rest start again in a new one.
     *
     * @param list<int> $pending
     * @return array<int, array<string, mixed>>
     */
    private function runRows(string $context, array $pending): array
    {
        $results = [];
        while ($pending !== []) {
            [$done, $end] = self::child($context, $pending);
            $results += $done;
            $pending = array_values(array_filter($pending, static fn (int $i) => !isset($results[$i])));
            if ($pending === []) {
                break;
            }
            // The first row without a result is the one the child died on.
            $results[$pending[0]] = $end;
            array_shift($pending);
        }

        return $results;
    }

    /** @return array{array<int, array<string, mixed>>, array<string, mixed>} results, and how the child ended */
    private static function child(string $context, array $rows): array
    {
        $cmd = array_merge([PHP_BINARY], self::extensionArgs(), [__DIR__ . '/../hostile/runner.php', $context, implode(',', $rows)]);
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $out = $err = '';
        $deadline = microtime(true) + self::CHILD_TIMEOUT;
        $hung = false;
        do {
            $read = [$pipes[1], $pipes[2]];
            $write = $except = null;
            @stream_select($read, $write, $except, 0, 200_000);
            $out .= (string) stream_get_contents($pipes[1]);
            $err .= (string) stream_get_contents($pipes[2]);
            $status = proc_get_status($proc);
            if ($status['running'] && microtime(true) > $deadline) {
                proc_terminate($proc, SIGKILL);
                $hung = true;
            }
        } while ($status['running']);
        $out .= (string) stream_get_contents($pipes[1]);
        $err .= (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($proc);

        $done = [];
        foreach (explode("\n", $out) as $line) {
            $r = json_decode($line, true);
            if (is_array($r) && isset($r['i'])) {
                $done[$r['i']] = $r;
            }
        }
        $how = $hung ? 'hang' : 'crash';
        $why = $status['signaled'] ? 'killed by signal ' . $status['termsig'] : 'exit code ' . $status['exitcode'];
        $tail = trim(substr(trim($err . "\n" . substr($out, -500)), -600));

        return [$done, ['kind' => $how, 'text' => "{$why}; {$tail}"]];
    }

    /** The -d extension=… this process was started with (tests/php/run.sh). */
    private static function extensionArgs(): array
    {
        $args = explode("\0", (string) @file_get_contents('/proc/self/cmdline'));
        foreach ($args as $i => $arg) {
            if (str_starts_with($arg, 'extension=') && ($args[$i - 1] ?? '') === '-d') {
                return ['-d', $arg];
            }
            if (str_starts_with($arg, '-dextension=')) {
                return [$arg];
            }
        }

        return extension_loaded('stask') && !ini_get('enable_dl') ? [] : ['-d', 'extension=' . __DIR__ . '/../../target/debug/libstask.so'];
    }

    /** Task ids and files the rows refer to. */
    private function fixtures(): array
    {
        $this->activeWorker(ProductWorker::class);
        sTask::registerWorker(ProductSyncWorker::class);
        $exports = $this->staskStorage . '/exports';
        mkdir($exports, 0775, true);
        file_put_contents($exports . '/ok.csv', "id\n1\n");
        file_put_contents($exports . "/evil\r\nX-Injected: 1.csv", "id\n1\n");
        symlink('/etc/passwd', $exports . '/link.csv');
        file_put_contents($this->root . '/secret.txt', 'SECRET');
        // A file outside every temp folder, which a forged files array names.
        // A file outside the temp folder, also when the checkout itself lies
        // under it (CI may clone into /tmp).
        $dir = realpath(__DIR__ . '/../../target') ?: __DIR__;
        if (str_starts_with($dir . '/', rtrim(realpath(sys_get_temp_dir()) ?: sys_get_temp_dir(), '/') . '/')) {
            $dir = '/var/tmp';
        }
        $this->victim = $dir . '/hostile-victim-' . bin2hex(random_bytes(4)) . '.csv';
        file_put_contents($this->victim, "a\n");

        $done = [];
        foreach (['/etc/passwd', '../../../etc/passwd', 'exports/../../secret.txt', 'stask.sqlite', 'stask.sqlite-wal',
            'exports/link.csv', "exports/ok.csv\0.txt", "exports/evil\r\nX-Injected: 1.csv"] as $result) {
            $t = sTask::create('product', 'export');
            // Stored as JSON text: a NUL byte cannot be a column value on PostgreSQL, its escape can.
            sTaskModel::find($t->id)->update(['status' => sTaskModel::TASK_STATUS_COMPLETED, 'result' => json_encode($result)]);
            $done[$result] = $t->id;
        }

        return [
            'pending' => sTask::create('product', 'import')->id,
            'done' => $done,
            'victim' => realpath($this->victim),
            'storage' => $this->staskStorage,
        ];
    }
}
